//! The `commons` command against a real dev node: balances, a transfer, and every way of getting
//! it wrong, each with its own exit code and a message that names the problem.

mod common;

use std::{
	path::PathBuf,
	process::{Command, Output},
	time::Duration,
};

use common::NodeProcess;
use commons_runtime::{currency::UNIT, genesis_config_presets::DEV_ENDOWMENT};

/// The `commons` binary, built next to `commons-node` by `cargo test --workspace`.
fn cli_binary() -> PathBuf {
	let path = PathBuf::from(common::NODE).with_file_name("commons");
	assert!(path.exists(), "{} is missing: run `cargo test --workspace`", path.display());
	path
}

fn commons(url: &str, args: &[&str]) -> Output {
	Command::new(cli_binary()).env("COMMONS_RPC", url).args(args).output().expect("commons runs")
}

fn json(output: &Output) -> serde_json::Value {
	assert!(
		output.status.success(),
		"commons failed ({}): {}{}",
		output.status,
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
	serde_json::from_slice(&output.stdout).expect("--json prints JSON")
}

fn free(url: &str, account: &str) -> u128 {
	json(&commons(url, &["--json", "balance", account]))["free"]
		.as_str()
		.expect("free is a string")
		.parse()
		.expect("free is a number")
}

fn stderr(output: &Output) -> String {
	String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn commons_cli_transfers_and_reports_every_failure_clearly() {
	let process = NodeProcess::start_dev();
	let runtime = tokio::runtime::Runtime::new().unwrap();
	runtime
		.block_on(async {
			let node =
				commons_testing::Node::connect_with_retry(&process.url, Duration::from_secs(60))
					.await?;
			node.wait_finalized_number(1, Duration::from_secs(60)).await
		})
		.unwrap_or_else(|error| panic!("dev node not ready: {error}\n{}", process.output()));
	let url = process.url.as_str();

	// A fresh dev chain: Charlie holds the dev endowment.
	assert_eq!(free(url, "//Charlie"), DEV_ENDOWMENT);

	// A transfer lands; the receipt's fee is what the sender lost beyond the amount.
	let alice_before = free(url, "//Alice");
	let receipt = json(&commons(
		url,
		&["--json", "transfer", "--key", "//Alice", "--to", "//Charlie", "--amount", "2.5"],
	));
	let fee: u128 = receipt["fee"].as_str().unwrap().parse().unwrap();
	assert!(fee > 0);
	assert_eq!(free(url, "//Charlie"), DEV_ENDOWMENT + 5 * UNIT / 2);
	assert_eq!(free(url, "//Alice"), alice_before - 5 * UNIT / 2 - fee);

	// More than the balance, from an ed25519 key: refused before signing (exit 2), named,
	// and nothing is charged, not even a fee.
	let ferdie = commons_client::Keypair::from_uri("//Ferdie", commons_client::Scheme::Ed25519)
		.unwrap()
		.account_id();
	let ferdie = commons_client::keys::to_ss58(&ferdie);
	let ferdie_before = free(url, &ferdie);
	let dave_before = free(url, "//Dave");
	let output = commons(
		url,
		&[
			"transfer", "--key", "//Ferdie", "--scheme", "ed25519", "--to", "//Dave", "--amount",
			"2000000",
		],
	);
	assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
	assert!(stderr(&output).contains("not enough balance"), "{}", stderr(&output));
	assert_eq!(free(url, "//Dave"), dave_before);
	assert_eq!(free(url, &ferdie), ferdie_before, "nothing was charged");

	// A sender with nothing to pay the fee with: refused the same way, nothing moves.
	let output =
		commons(url, &["transfer", "--key", "//Nobody", "--to", "//Dave", "--amount", "1"]);
	assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
	assert!(stderr(&output).contains("costs a fee"), "{}", stderr(&output));
	assert_eq!(free(url, "//Dave"), dave_before);

	// A secret that is not a key: exit 2, named as a secret but never repeated, nothing sent.
	let charlie_before = free(url, "//Charlie");
	let output =
		commons(url, &["transfer", "--key", "not-a-key", "--to", "//Charlie", "--amount", "1"]);
	assert_eq!(output.status.code(), Some(2));
	assert!(stderr(&output).contains("invalid secret key"), "{}", stderr(&output));
	assert!(!stderr(&output).contains("not-a-key"), "{}", stderr(&output));

	// An amount with more decimals than CMN has: exit 2 before anything is signed.
	let output = commons(
		url,
		&["transfer", "--key", "//Alice", "--to", "//Charlie", "--amount", "1.0000000000001"],
	);
	assert_eq!(output.status.code(), Some(2));
	assert!(stderr(&output).contains("decimals"), "{}", stderr(&output));

	// A recipient that is not an address: exit 2, named.
	let output = commons(url, &["transfer", "--key", "//Alice", "--to", "nobody", "--amount", "1"]);
	assert_eq!(output.status.code(), Some(2));
	assert!(stderr(&output).contains("nobody"), "{}", stderr(&output));
	assert_eq!(free(url, "//Charlie"), charlie_before);

	// No node at the address: exit 3, the address is named; `--json` reports it as JSON.
	let nowhere = format!("ws://127.0.0.1:{}", common::free_port());
	let output = commons(&nowhere, &["balance", "//Alice"]);
	assert_eq!(output.status.code(), Some(3));
	assert!(stderr(&output).contains(&nowhere), "{}", stderr(&output));
	let output = commons(&nowhere, &["--json", "balance", "//Alice"]);
	assert_eq!(output.status.code(), Some(3));
	let error: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
	assert!(error["error"].as_str().unwrap().contains("unreachable"));
}

/// The systemd units in `packaging/systemd` pass `systemd-analyze verify` (with `ExecStart`
/// pointing at the binaries just built): no unknown key, no missing binary, a valid stop
/// signal. The worker's stops with SIGTERM and waits long enough for a graceful stop.
#[test]
fn systemd_units_verify() {
	let units = common::repo_root().join("packaging/systemd");
	let dir = std::env::temp_dir().join(format!("commons-units-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let built = format!("{}/", PathBuf::from(common::NODE).parent().unwrap().display());
	let mut paths = Vec::new();
	for name in ["commons-worker.service", "commons-node.service"] {
		let text = std::fs::read_to_string(units.join(name)).unwrap();
		let path = dir.join(name);
		std::fs::write(&path, text.replace("/usr/local/bin/", &built)).unwrap();
		paths.push(path);
	}
	let worker = std::fs::read_to_string(&paths[0]).unwrap();
	assert!(worker.contains("KillSignal=SIGTERM"), "{worker}");
	assert!(worker.contains("TimeoutStopSec=15min"), "{worker}");
	let output = Command::new("systemd-analyze")
		.arg("verify")
		.args(&paths)
		.output()
		.expect("systemd-analyze runs (scripts/setup.sh installs the systemd package)");
	assert!(
		output.status.success() && output.stderr.is_empty(),
		"systemd-analyze verify: {}{}",
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
	let _ = std::fs::remove_dir_all(&dir);
}

/// The Dockerfiles in `packaging/docker` pass hadolint with nothing to report (the one rule they
/// turn off, pinned apt versions, is turned off in the files, with the reason). The worker's
/// stops with SIGTERM, the graceful stop, and carries the Vulkan loader and Mesa for
/// `--backend gpu`.
#[test]
fn dockerfiles_pass_hadolint() {
	// scripts/env.sh names the hadolint that scripts/setup.sh installs; a plain `cargo test`
	// looks in the same default place. Missing is a failure, not a skip.
	let hadolint = std::env::var_os("COMMONS_HADOLINT").map(PathBuf::from).unwrap_or_else(|| {
		let home = std::env::var_os("HOME").expect("HOME is set");
		PathBuf::from(home).join(".cache/commons/venv/bin/hadolint")
	});
	assert!(
		hadolint.exists(),
		"{} is missing: run scripts/setup.sh, which installs hadolint",
		hadolint.display()
	);
	let docker = common::repo_root().join("packaging/docker");
	let paths = ["worker.Dockerfile", "node.Dockerfile"].map(|name| docker.join(name));
	let worker = std::fs::read_to_string(&paths[0]).unwrap();
	for needed in ["STOPSIGNAL SIGTERM", "mesa-vulkan-drivers", "libvulkan1"] {
		assert!(worker.contains(needed), "worker.Dockerfile lacks {needed}");
	}
	let output = Command::new(&hadolint)
		.arg("--no-color")
		.args(&paths)
		.output()
		.unwrap_or_else(|error| panic!("{} runs: {error}", hadolint.display()));
	assert!(
		output.status.success() && output.stdout.is_empty() && output.stderr.is_empty(),
		"hadolint ({}): {}{}",
		output.status,
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
}

/// `completions bash` prints a script that bash loads and that completes every subcommand of
/// both binaries.
#[test]
fn shell_completions_load_in_bash() {
	let worker = PathBuf::from(common::NODE).with_file_name("commons-worker");
	for (binary, subcommands) in [
		(cli_binary(), &["infer", "transfer", "gov", "completions"][..]),
		(worker, &["register", "go-offline", "set-price", "init", "completions"][..]),
	] {
		let name = binary.file_name().unwrap().to_string_lossy().into_owned();
		let script = Command::new(&binary).args(["completions", "bash"]).output().unwrap();
		assert!(script.status.success(), "{name} completions bash: {}", stderr(&script));
		let script = String::from_utf8(script.stdout).unwrap();
		for subcommand in subcommands {
			assert!(script.contains(subcommand), "{name}'s completions lack {subcommand}");
		}
		// Loaded into bash, the script registers a completion function for the binary.
		let loaded = Command::new("bash")
			.args(["-c", &format!("{script}\ncomplete -p {name}")])
			.output()
			.expect("bash runs");
		let registered = String::from_utf8_lossy(&loaded.stdout);
		assert!(
			loaded.status.success() && registered.contains(&format!(" {name}")),
			"bash did not load {name}'s completions: {registered}{}",
			stderr(&loaded)
		);
	}
}
