//! The committed chain specs in `chain-spec/` match what the current runtime generates. When this
//! fails, run `scripts/chain-specs.sh` and commit the result.
//!
//! Everything but the wasm code must be equal to the byte. The code is compared by what it is,
//! not by its bytes: its runtime version and its whole metadata (pallets, calls, events, errors,
//! storage, constants and their values, types and docs) must be the ones of the current runtime.
//! Byte equality cannot be asked for: the compiler names symbols after each package's path, so
//! the same sources built in two clones give different bytes.

mod common;

use std::{collections::HashMap, process::Command};

use serde_json::Value;
use sp_core::traits::{CallContext, CodeExecutor, RuntimeCode, WrappedRuntimeCode};

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

/// Removes the wasm code from a spec and returns it.
fn take_code(spec: &mut Value, raw: bool) -> Vec<u8> {
	let slot = if raw {
		&mut spec["genesis"]["raw"]["top"]["0x3a636f6465"] // `:code`
	} else {
		&mut spec["genesis"]["runtimeGenesis"]["code"]
	};
	let code = slot.take();
	hex::decode(code.as_str().expect("the spec has code").trim_start_matches("0x")).unwrap()
}

/// What a runtime says about itself: its encoded version and metadata.
fn identity(code: &[u8]) -> (Vec<u8>, Vec<u8>) {
	let executor = sc_executor::WasmExecutor::<sp_io::SubstrateHostFunctions>::builder().build();
	let fetch = WrappedRuntimeCode(code.into());
	let runtime_code = RuntimeCode {
		code_fetcher: &fetch,
		heap_pages: None,
		hash: sp_io::hashing::blake2_256(code).to_vec(),
	};
	let mut externalities = sp_io::TestExternalities::default();
	let mut call = |method: &str| {
		let mut ext = externalities.ext();
		let (result, _) =
			executor.call(&mut ext, &runtime_code, method, &[], CallContext::Offchain);
		result.unwrap_or_else(|error| panic!("{method} fails: {error}"))
	};
	(call("Core_version"), call("Metadata_metadata"))
}

#[test]
fn committed_chain_specs_match_the_runtime() {
	let mut identities: HashMap<Vec<u8>, (Vec<u8>, Vec<u8>)> = HashMap::new();
	let mut identity_of =
		|code: Vec<u8>| identities.entry(code.clone()).or_insert_with(|| identity(&code)).clone();

	for chain in ["dev", "local"] {
		for raw in [false, true] {
			let name = if raw { format!("{chain}-raw.json") } else { format!("{chain}.json") };
			let path = common::repo_root().join("chain-spec").join(&name);
			let committed = std::fs::read_to_string(&path)
				.unwrap_or_else(|error| panic!("{} is missing: {error}", path.display()));
			let mut committed: Value = serde_json::from_str(&committed).unwrap();
			let mut current: Value = serde_json::from_str(&generated(chain, raw)).unwrap();
			let stale =
				format!("chain-spec/{name} is stale: run scripts/chain-specs.sh and commit");

			let (committed_code, current_code) =
				(take_code(&mut committed, raw), take_code(&mut current, raw));
			assert!(committed == current, "{stale} (its genesis differs)");
			let (committed_version, committed_metadata) = identity_of(committed_code);
			let (current_version, current_metadata) = identity_of(current_code);
			assert!(committed_version == current_version, "{stale} (its runtime version differs)");
			assert!(
				committed_metadata == current_metadata,
				"{stale} (its runtime's metadata differs)"
			);
		}
	}
}

#[test]
fn chain_specs_tell_wallets_the_token_and_address_format() {
	for chain in ["dev", "local"] {
		let spec: Value = serde_json::from_str(&generated(chain, false)).unwrap();
		let properties = &spec["properties"];
		assert_eq!(properties["tokenSymbol"], "CMN", "{chain}");
		assert_eq!(properties["tokenDecimals"], 12, "{chain}");
		assert_eq!(properties["ss58Format"], 7342, "{chain}");
		assert_eq!(spec["protocolId"], "commons", "{chain}");
	}
}
