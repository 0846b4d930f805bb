//! The committed chain specs in `chain-spec/` are exactly what the current runtime generates.
//! When this fails, run `scripts/chain-specs.sh` and commit the result.

mod common;

use std::process::Command;

fn generated(chain: &str, raw: bool) -> String {
	let mut command = Command::new(common::NODE);
	command.args(["export-chain-spec", "--chain", chain]);
	if raw {
		command.arg("--raw");
	}
	let output = command.output().expect("commons-node runs");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	String::from_utf8(output.stdout).unwrap()
}

#[test]
fn committed_chain_specs_match_the_runtime() {
	for (chain, file) in [("dev", "dev"), ("local", "local"), ("testnet", "testnet")] {
		for raw in [false, true] {
			let name = if raw { format!("{file}-raw.json") } else { format!("{file}.json") };
			let path = common::repo_root().join("chain-spec").join(&name);
			let committed = std::fs::read_to_string(&path)
				.unwrap_or_else(|error| panic!("{} is missing: {error}", path.display()));
			let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
			let current: serde_json::Value = serde_json::from_str(&generated(chain, raw)).unwrap();
			assert!(
				committed == current,
				"chain-spec/{name} is stale: run scripts/chain-specs.sh and commit the result"
			);
		}
	}
}
