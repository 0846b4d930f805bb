//! Real `commons-worker` processes and the `commons` CLI, for the end-to-end tests.

use std::{
	fs::OpenOptions,
	path::{Path, PathBuf},
	process::{Child, Command, Output, Stdio},
	time::{Duration, Instant},
};

use super::{free_port, repo_root, NodeProcess};
use commons_runtime::RuntimeEvent;
use commons_testing::{keys, Node};

pub const TIMEOUT: Duration = Duration::from_secs(120);

/// The tests run one at a time: three workers running the model on a 2-core machine must not
/// also share it with another test's chain, or a slow worker misses its commit window.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
	ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub fn binary(name: &str) -> PathBuf {
	PathBuf::from(super::NODE).with_file_name(name)
}

pub fn models_dir() -> PathBuf {
	repo_root().join("models")
}

/// The `commons` client's cache (tokenizers, model file hashes) for this test process: its
/// own, never the user's. A test that needs an empty one passes `--cache-dir`.
pub fn client_cache() -> PathBuf {
	static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
	DIR.get_or_init(|| temp_dir("client-cache")).clone()
}

pub fn run(name: &str, url: &str, args: &[&str]) -> Output {
	Command::new(binary(name))
		.env("COMMONS_RPC", url)
		.env("COMMONS_CACHE_DIR", client_cache())
		.env_remove("COMMONS_KEY")
		.args(args)
		.output()
		.unwrap_or_else(|error| panic!("{name} runs: {error}"))
}

pub fn text(output: &Output) -> String {
	format!(
		"exit {:?}\nstdout: {}\nstderr: {}",
		output.status.code(),
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	)
}

/// The JSON a successful `--json` command printed.
pub fn json(output: &Output) -> serde_json::Value {
	assert!(output.status.success(), "{}", text(output));
	serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("JSON: {}", text(output)))
}

pub fn amount(value: &serde_json::Value) -> u128 {
	value.as_str().unwrap_or_else(|| panic!("an amount string: {value}")).parse().unwrap()
}

pub fn free(url: &str, account: &str) -> u128 {
	amount(&json(&run("commons", url, &["--json", "balance", account]))["free"])
}

/// A running `commons-worker run` (or `commons-worker-faulty run --misbehave …`), stopped at
/// once (SIGINT and SIGTERM) when dropped.
pub struct WorkerProcess {
	child: Option<Child>,
	/// Where its output goes (appended to across restarts).
	pub log: PathBuf,
	/// Its SS58 address: the registered worker's.
	pub address: String,
	/// The account that signs its transactions and pays their fees: its operator's, when it
	/// runs with an operator key, else `address`.
	pub fee_payer: String,
	command: Vec<String>,
	binary: &'static str,
	url: String,
}

impl WorkerProcess {
	/// Generates a key, funds it from Alice, registers it for model 0, starts serving and
	/// waits until it has declared the capacity it measured.
	pub fn start(url: &str, dir: &Path, name: &str, backend: &str) -> Self {
		let mut worker = Self::registered(url, dir, name, backend);
		worker.serve();
		worker.wait_for("capacity: ", 1, Duration::from_secs(180));
		worker
	}

	/// Registers a worker without starting it: it can be seated in a job before it runs.
	pub fn registered(url: &str, dir: &Path, name: &str, backend: &str) -> Self {
		Self::register(url, dir, name, "commons-worker", &["--backend", backend])
	}

	/// Like [`Self::start`], with keys by role: the worker's own key registers it and names an
	/// operator key (`commons-worker operator add`); the daemon runs with the operator key and
	/// `--stash`, and the operator's account pays the fees.
	pub fn start_operated(url: &str, dir: &Path, name: &str, backend: &str) -> Self {
		let mut worker = Self::register(url, dir, name, "commons-worker", &["--backend", backend]);
		let operator_key = dir.join(format!("{name}-operator.key"));
		let operator = generate_key(url, &operator_key);
		json(&run(
			"commons",
			url,
			&["--json", "transfer", "--key", "//Alice", "--to", &operator, "--amount", "20"],
		));
		let stash_key = dir.join(format!("{name}.key"));
		let added = run(
			"commons-worker",
			url,
			&["operator", "add", "--key", stash_key.to_str().unwrap(), "--operator", &operator],
		);
		assert!(added.status.success(), "{}", text(&added));
		let key_at = worker.command.iter().position(|arg| arg == "--key").unwrap() + 1;
		worker.command[key_at] = operator_key.to_str().unwrap().to_string();
		worker.command.extend(["--stash".to_string(), worker.address.clone()]);
		worker.fee_payer = operator;
		worker.serve();
		worker.wait_for("capacity: ", 1, Duration::from_secs(180));
		worker
	}

	/// The same with the fault-injection build, cheating as `fault` says.
	pub fn start_faulty(url: &str, dir: &Path, name: &str, fault: &str) -> Self {
		let faulty = binary("commons-worker-faulty");
		assert!(
			faulty.exists(),
			"{} is missing: build it with `cargo build --release --workspace --features \
			 commons-worker/fault-injection --bin commons-worker-faulty` (scripts/test.sh does)",
			faulty.display()
		);
		let mut worker = Self::register(
			url,
			dir,
			name,
			"commons-worker-faulty",
			&["--backend", "cpu", "--misbehave", fault],
		);
		worker.serve();
		worker.wait_for("capacity: ", 1, Duration::from_secs(180));
		worker
	}

	fn register(url: &str, dir: &Path, name: &str, binary: &'static str, extra: &[&str]) -> Self {
		let key = dir.join(format!("{name}.key"));
		let key_arg = key.to_str().unwrap();
		let address = generate_key(url, &key);
		json(&run(
			"commons",
			url,
			&["--json", "transfer", "--key", "//Alice", "--to", &address, "--amount", "1100"],
		));
		let registered = run(
			"commons-worker",
			url,
			&["register", "--key", key_arg, "--stake", "1000", "--price", "1", "--model", "0"],
		);
		assert!(registered.status.success(), "{}", text(&registered));
		let mut command: Vec<String> =
			["run", "--key", key_arg, "--threads", "1", "--max-backoff", "2"]
				.iter()
				.map(|arg| arg.to_string())
				.collect();
		command.extend(extra.iter().map(|arg| arg.to_string()));
		command.push("--models-dir".into());
		command.push(models_dir().to_str().unwrap().into());
		command.push("--metrics-port".into());
		command.push(free_port().to_string());
		Self {
			child: None,
			log: dir.join(format!("{name}.log")),
			fee_payer: address.clone(),
			address,
			command,
			binary,
			url: url.to_string(),
		}
	}

	/// A worker the test registered itself, run as `commons-worker <args>` (not started yet).
	pub fn with_args(url: &str, dir: &Path, name: &str, address: &str, args: &[&str]) -> Self {
		Self {
			child: None,
			log: dir.join(format!("{name}.log")),
			address: address.to_string(),
			fee_payer: address.to_string(),
			command: args.iter().map(|arg| arg.to_string()).collect(),
			binary: "commons-worker",
			url: url.to_string(),
		}
	}

	/// Starts `run`.
	pub fn serve(&mut self) {
		assert!(self.child.is_none(), "{} is already running", self.address);
		let output = OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
		let child = Command::new(binary(self.binary))
			.env("COMMONS_RPC", &self.url)
			.args(&self.command)
			.stdout(Stdio::from(output.try_clone().unwrap()))
			.stderr(Stdio::from(output))
			.spawn()
			.expect("commons-worker starts");
		self.child = Some(child);
	}

	/// Kills the process at once (SIGKILL), as a crash or power loss would.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Stops it as an operator does (SIGTERM: it goes offline and answers its seats first) and
	/// waits up to `timeout` for it to exit; returns whether it exited successfully.
	pub fn terminate(&mut self, timeout: Duration) -> bool {
		let mut child = self.child.take().expect("the worker is running");
		let _ = Command::new("sh").args(["-c", &format!("kill -TERM {}", child.id())]).status();
		let deadline = Instant::now() + timeout;
		while Instant::now() < deadline {
			if let Ok(Some(status)) = child.try_wait() {
				return status.success();
			}
			std::thread::sleep(Duration::from_millis(200));
		}
		let _ = child.kill();
		let _ = child.wait();
		panic!("{} did not stop within {timeout:?} of SIGTERM:\n{}", self.address, self.output());
	}

	/// Starts it again with the same key, database and arguments.
	pub fn restart(&mut self) {
		self.kill();
		self.serve();
	}

	/// Its output so far.
	pub fn output(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Waits until its output contains `needle` `times` times; panics with the log after
	/// `timeout`.
	pub fn wait_for(&self, needle: &str, times: usize, timeout: Duration) {
		let deadline = Instant::now() + timeout;
		while self.output().matches(needle).count() < times {
			assert!(
				Instant::now() < deadline,
				"{} did not log {needle:?} {times} times within {timeout:?}:\n{}",
				self.address,
				self.output()
			);
			std::thread::sleep(Duration::from_millis(200));
		}
	}
}

impl Drop for WorkerProcess {
	fn drop(&mut self) {
		let Some(mut child) = self.child.take() else { return };
		// Two signals: the test is over, so the worker exits at once instead of draining.
		let pid = child.id();
		let _ =
			Command::new("sh").args(["-c", &format!("kill -INT {pid}; kill -TERM {pid}")]).status();
		for _ in 0..100 {
			if let Ok(Some(_)) = child.try_wait() {
				return;
			}
			std::thread::sleep(Duration::from_millis(100));
		}
		let _ = child.kill();
		let _ = child.wait();
	}
}

/// The text of `http://127.0.0.1:{port}/metrics`.
pub fn scrape_metrics(port: u16) -> String {
	use std::io::{Read, Write};
	let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics endpoint");
	stream.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
	let mut response = String::new();
	stream.read_to_string(&mut response).unwrap();
	response
}

/// The value of `metric` (a line `metric value`) in a scrape.
pub fn metric(scrape: &str, metric: &str) -> Option<f64> {
	scrape.lines().find_map(|line| line.strip_prefix(metric)?.strip_prefix(' ')?.parse().ok())
}

/// `commons-worker key generate --out <key>`: the new key's address.
pub fn generate_key(url: &str, key: &Path) -> String {
	let key = key.to_str().unwrap();
	let generated = json(&run("commons-worker", url, &["--json", "key", "generate", "--out", key]));
	generated["address"].as_str().unwrap().to_string()
}

/// The workers' logs, for failure messages.
pub fn logs(workers: &[&WorkerProcess]) -> String {
	workers.iter().map(|worker| worker.output()).collect::<Vec<_>>().join("\n----\n")
}

/// `commons workers list --json`, by address.
pub fn worker_entries(url: &str) -> std::collections::HashMap<String, serde_json::Value> {
	let listed = json(&run("commons", url, &["--json", "workers", "list"]));
	listed
		.as_array()
		.unwrap()
		.iter()
		.map(|worker| (worker["worker"].as_str().unwrap().to_string(), worker.clone()))
		.collect()
}

/// `commons infer --json` of the capital of France, 16 tokens, `replicas` workers at 1 CMN.
pub fn infer_paris(url: &str, replicas: &str) -> Output {
	infer(url, "//Alice", "What is the capital of France?", "16", replicas, &[])
}

/// `commons infer --json` as `key` of `prompt`, `max_tokens` tokens, `replicas` workers at
/// 1 CMN, with `extra` arguments (a deadline, a timeout).
pub fn infer(
	url: &str,
	key: &str,
	prompt: &str,
	max_tokens: &str,
	replicas: &str,
	extra: &[&str],
) -> Output {
	let models = models_dir();
	let mut args = vec![
		"--json",
		"infer",
		"--key",
		key,
		"--model",
		"0",
		"--prompt",
		prompt,
		"--max-tokens",
		max_tokens,
		"--replicas",
		replicas,
		"--price",
		"1",
		"--models-dir",
		models.to_str().unwrap(),
	];
	args.extend_from_slice(extra);
	run("commons", url, &args)
}

pub fn temp_dir(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("commons-e2e-{name}-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

/// Transaction fees `account` paid in blocks `from..=to`, from the chain's events.
pub async fn fees_paid(url: &str, account: &str, from: u32, to: u32) -> u128 {
	let node = Node::connect(url).await.unwrap();
	let who = keys::parse_account(account).unwrap();
	let mut fees = 0;
	for number in from..=to {
		let hash = node.block_hash(number).await.unwrap().expect("a finalised block");
		for record in node.events(hash).await.unwrap() {
			if let RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid {
					who: payer,
					actual_fee,
					..
				},
			) = record.event
			{
				if payer == who {
					fees += actual_fee;
				}
			}
		}
	}
	fees
}

pub fn start_node() -> NodeProcess {
	let node = NodeProcess::start_dev();
	wait_for_node(&node);
	node
}

/// Waits until `node` answers and has finalised block #1.
pub fn wait_for_node(node: &NodeProcess) {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	runtime.block_on(async {
		let client = match Node::connect_with_retry(&node.url, TIMEOUT).await {
			Ok(client) => client,
			Err(error) => panic!("cannot reach the node: {error}\n{}", node.output()),
		};
		client.wait_finalized_number(1, TIMEOUT).await.unwrap();
	});
}

/// A TCP relay to a node's RPC port that a test can cut and restore: to whoever connects
/// through it, the node goes away (open connections are shut down, new ones refused) and
/// comes back.
pub struct Relay {
	/// The relay's WebSocket address.
	pub url: String,
	open: std::sync::Arc<std::sync::atomic::AtomicBool>,
	streams: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
	/// Relays 127.0.0.1:`target`.
	pub fn start(target: u16) -> Self {
		use std::{
			net::{Shutdown, TcpListener, TcpStream},
			sync::{atomic::Ordering, Arc, Mutex},
		};
		let listener = TcpListener::bind("127.0.0.1:0").unwrap();
		let url = format!("ws://{}", listener.local_addr().unwrap());
		let open = Arc::new(std::sync::atomic::AtomicBool::new(true));
		let streams: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
		let (accepting, tracked) = (open.clone(), streams.clone());
		std::thread::spawn(move || {
			for client in listener.incoming() {
				let Ok(client) = client else { continue };
				if !accepting.load(Ordering::SeqCst) {
					let _ = client.shutdown(Shutdown::Both);
					continue;
				}
				let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else { continue };
				let pipe = |mut from: TcpStream, mut to: TcpStream| {
					std::thread::spawn(move || {
						let _ = std::io::copy(&mut from, &mut to);
						let _ = to.shutdown(Shutdown::Both);
					});
				};
				let mut tracked = tracked.lock().unwrap();
				tracked.push(client.try_clone().unwrap());
				tracked.push(server.try_clone().unwrap());
				pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
				pipe(server, client);
			}
		});
		Self { url, open, streams }
	}

	/// The node goes away: every relayed connection is shut down and new ones are refused.
	pub fn cut(&self) {
		self.open.store(false, std::sync::atomic::Ordering::SeqCst);
		for stream in self.streams.lock().unwrap().drain(..) {
			let _ = stream.shutdown(std::net::Shutdown::Both);
		}
	}

	/// The node comes back for new connections.
	pub fn restore(&self) {
		self.open.store(true, std::sync::atomic::Ordering::SeqCst);
	}
}

/// A running `commons gateway`, stopped when dropped.
pub struct GatewayProcess {
	child: Child,
	/// Its OpenAI base URL (`http://127.0.0.1:PORT/v1`).
	pub base_url: String,
	/// Where its output goes.
	pub log: PathBuf,
}

impl GatewayProcess {
	/// Starts `commons gateway` against `url` with `args`, and waits until it listens.
	pub fn start(url: &str, dir: &Path, args: &[&str]) -> Self {
		let port = free_port();
		let log = dir.join("gateway.log");
		let file = OpenOptions::new().create(true).append(true).open(&log).unwrap();
		let listen = format!("127.0.0.1:{port}");
		let models = models_dir();
		let child = Command::new(binary("commons"))
			.env("COMMONS_RPC", url)
			.env("COMMONS_CACHE_DIR", client_cache())
			.env_remove("COMMONS_KEY")
			.args(["gateway", "--listen", &listen, "--models-dir", models.to_str().unwrap()])
			.args(args)
			.stdout(file.try_clone().unwrap())
			.stderr(file)
			.spawn()
			.unwrap();
		let gateway = Self { child, base_url: format!("http://{listen}/v1"), log };
		let start = Instant::now();
		while std::net::TcpStream::connect(&listen).is_err() {
			assert!(start.elapsed() < TIMEOUT, "the gateway never listened:\n{}", gateway.output());
			std::thread::sleep(Duration::from_millis(200));
		}
		gateway
	}

	/// What it printed.
	pub fn output(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}
}

impl Drop for GatewayProcess {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// The Python with the `openai` package (scripts/setup.sh installs it).
pub fn openai_python() -> PathBuf {
	let venv = std::env::var("COMMONS_VENV").map(PathBuf::from).unwrap_or_else(|_| {
		PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/commons/venv")
	});
	let python = venv.join("bin/python");
	assert!(python.exists(), "{} is missing: scripts/setup.sh installs it", python.display());
	python
}

/// `node/tests/gateway_client.py BASE_URL STEP`, as a command.
pub fn gateway_client(base_url: &str, step: &str) -> Command {
	let mut command = Command::new(openai_python());
	command.arg(repo_root().join("node/tests/gateway_client.py")).args([base_url, step]);
	command
}
