//! Starting and stopping real `commons-node` processes for tests.

#![allow(dead_code)]

pub mod market;

use std::{
	collections::HashSet,
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, ExitStatus, Stdio},
	sync::Mutex,
	time::{Duration, Instant},
};

/// The node binary cargo built for these tests.
pub const NODE: &str = env!("CARGO_BIN_EXE_commons-node");

/// The repository root, read at run time: clones sharing a target directory share these
/// compiled tests, so a path baked in at compile time may name another clone.
pub fn repo_root() -> PathBuf {
	let node_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
	Path::new(&node_dir).parent().expect("node/ has a parent").to_path_buf()
}

/// A port on loopback that was free a moment ago and that this test process has not handed
/// out before (nodes started in a row have not bound theirs yet).
pub fn free_port() -> u16 {
	static CHOSEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
	loop {
		let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
		let mut chosen = CHOSEN.lock().unwrap();
		if chosen.get_or_insert_with(HashSet::new).insert(port) {
			return port;
		}
	}
}

/// A fresh directory under the system's temporary directory.
fn fresh_dir() -> PathBuf {
	let nanos =
		std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
	let dir = std::env::temp_dir().join(format!("commons-test-{}-{nanos}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

/// A `commons-node` child process, killed (and its directory removed) if the test ends before
/// stopping it.
pub struct NodeProcess {
	child: Option<Child>,
	/// WebSocket RPC address.
	pub url: String,
	/// The RPC port.
	pub rpc_port: u16,
	/// The Prometheus port.
	pub prometheus_port: u16,
	/// The node's `--base-path`.
	pub base_path: PathBuf,
	/// Where its output goes.
	pub log: PathBuf,
	dir: PathBuf,
	args: Vec<String>,
}

impl NodeProcess {
	/// Starts `commons-node --dev` on free ports, with its database in a fresh directory.
	pub fn start_dev() -> Self {
		Self::start(&["--dev".to_string()])
	}

	/// Starts `commons-node --dev` and connects to it once it has finalised block #1.
	pub async fn dev_connected(timeout: Duration) -> (Self, commons_testing::Node) {
		let process = Self::start_dev();
		let node = match commons_testing::Node::connect_with_retry(&process.url, timeout).await {
			Ok(node) => node,
			Err(error) => panic!("cannot reach the node: {error}\n{}", process.output()),
		};
		node.wait_finalized_number(1, timeout).await.unwrap();
		(process, node)
	}

	/// Starts `commons-node` with `args`, free RPC, p2p and Prometheus ports, its database in
	/// a fresh directory.
	pub fn start(args: &[String]) -> Self {
		let dir = fresh_dir();
		let base_path = dir.join("base");
		let (rpc_port, prometheus_port) = (free_port(), free_port());
		let mut all: Vec<String> = args.to_vec();
		all.extend(["--no-mdns".into(), "--no-telemetry".into()]);
		all.extend(["--base-path".into(), base_path.to_str().unwrap().into()]);
		all.extend(["--rpc-port".into(), rpc_port.to_string()]);
		if !args.iter().any(|arg| arg == "--port") {
			all.extend(["--port".into(), free_port().to_string()]);
		}
		all.extend(["--prometheus-port".into(), prometheus_port.to_string()]);
		let mut node = Self {
			child: None,
			url: format!("ws://127.0.0.1:{rpc_port}"),
			rpc_port,
			prometheus_port,
			base_path,
			log: dir.join("node.log"),
			dir,
			args: all,
		};
		node.spawn();
		node
	}

	fn spawn(&mut self) {
		let output = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
		let child = Command::new(NODE)
			.args(&self.args)
			.stdout(Stdio::from(output.try_clone().unwrap()))
			.stderr(Stdio::from(output))
			.spawn()
			.expect("commons-node starts");
		self.child = Some(child);
	}

	/// Starts the node again after [`Self::interrupt`], with the same database and ports.
	pub fn restart(&mut self) {
		assert!(self.child.is_none(), "the node is still running");
		self.spawn();
	}

	/// The node's output so far, for failure messages.
	pub fn output(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Sends SIGINT, as Ctrl-C does, and waits up to `timeout` for the process to exit.
	pub fn interrupt(&mut self, timeout: Duration) -> ExitStatus {
		let mut child = self.child.take().expect("node still running");
		// The shell's `kill` builtin: no dependency on procps.
		let delivered = Command::new("sh")
			.args(["-c", &format!("kill -INT {}", child.id())])
			.status()
			.map(|status| status.success())
			.unwrap_or(false);
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(status) = child.try_wait().unwrap() {
				return status;
			}
			if !delivered || Instant::now() >= deadline {
				let _ = child.kill();
				let _ = child.wait();
				panic!(
					"node did not exit within {timeout:?} of SIGINT (delivered: {delivered}):\n{}",
					self.output()
				);
			}
			std::thread::sleep(Duration::from_millis(100));
		}
	}
}

impl Drop for NodeProcess {
	fn drop(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
		let _ = std::fs::remove_dir_all(&self.dir);
	}
}
