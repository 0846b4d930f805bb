//! The typed chain access of the CLI and the worker is generated from a committed copy of the
//! runtime's metadata: it must be this runtime's.

#![allow(
	clippy::unwrap_used,
	clippy::expect_used,
	clippy::panic,
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing
)]

mod common;

#[test]
fn the_committed_client_metadata_is_this_runtimes() {
	let committed = include_bytes!("../../client/metadata/commons.scale");
	// The referenda tracks in the metadata read governed parameters from storage: build it on the
	// development chain's genesis, where `scripts/update-metadata.sh` reads it.
	let current = common::development().execute_with(|| {
		commons_runtime::Runtime::metadata_at_version(16).expect("the runtime serves metadata V16")
	});
	assert!(
		committed.as_slice() == current.as_slice(),
		"client/metadata/commons.scale is stale ({} bytes committed, {} now): run \
		 scripts/update-metadata.sh and rebuild the CLI and the worker",
		committed.len(),
		current.len()
	);
}
