//! Starting and stopping real `commons-node` processes for tests.

#![allow(dead_code)]

use std::{
	fs::File,
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, ExitStatus, Stdio},
	time::{Duration, Instant},
};

/// The node binary cargo built for these tests.
pub const NODE: &str = env!("CARGO_BIN_EXE_commons-node");

/// The repository root.
pub fn repo_root() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("node/ has a parent").to_path_buf()
}

/// A port on loopback that was free a moment ago.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `commons-node` child process, killed if the test ends before stopping it.
pub struct NodeProcess {
	child: Option<Child>,
	/// WebSocket RPC address.
	pub url: String,
	/// Where its output goes.
	pub log: PathBuf,
	dir: PathBuf,
}

/// A fresh directory under the system's temporary directory, removed with its [`NodeProcess`].
fn fresh_dir() -> PathBuf {
	let nanos =
		std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
	let dir = std::env::temp_dir().join(format!("commons-test-{}-{nanos}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

impl NodeProcess {
	/// Starts `commons-node --dev` on free ports with a temporary database.
	pub fn start_dev() -> Self {
		let dir = fresh_dir();
		let rpc_port = free_port();
		let log = dir.join("node.log");
		let output = File::create(&log).unwrap();
		let child = Command::new(NODE)
			.args(["--dev", "--tmp", "--no-mdns", "--no-telemetry"])
			.args(["--rpc-port", &rpc_port.to_string()])
			.args(["--port", &free_port().to_string()])
			.args(["--prometheus-port", &free_port().to_string()])
			.stdout(Stdio::from(output.try_clone().unwrap()))
			.stderr(Stdio::from(output))
			.spawn()
			.expect("commons-node starts");
		Self { child: Some(child), url: format!("ws://127.0.0.1:{rpc_port}"), log, dir }
	}

	/// The node's output so far, for failure messages.
	pub fn output(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Sends SIGINT, as Ctrl-C does, and waits up to `timeout` for the process to exit.
	pub fn interrupt(&mut self, timeout: Duration) -> ExitStatus {
		let mut child = self.child.take().expect("node still running");
		let status = Command::new("kill")
			.args(["-INT", &child.id().to_string()])
			.status()
			.expect("kill runs");
		assert!(status.success(), "SIGINT delivered");
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(status) = child.try_wait().unwrap() {
				return status;
			}
			if Instant::now() >= deadline {
				let _ = child.kill();
				panic!("node did not exit within {timeout:?} of SIGINT:\n{}", self.output());
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
