//! `scripts/testnet.sh --check`: four validators on loopback reach the same finalised block.

mod common;

use std::process::Command;

#[test]
fn four_validator_testnet_finalises() {
	let output = Command::new("bash")
		.arg(common::repo_root().join("scripts/testnet.sh"))
		.arg("--check")
		.env("COMMONS_NODE", common::NODE)
		.output()
		.expect("bash runs");
	let stdout = String::from_utf8_lossy(&output.stdout);
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(output.status.success(), "testnet check failed:\n{stdout}\n{stderr}");
	assert!(stdout.contains("finalised"), "{stdout}");
}
