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

#[test]
fn a_metadata_change_moves_the_spec_version() {
	let committed = include_bytes!("../../client/metadata/commons.scale");
	let record = include_str!("../../client/metadata/spec-versions.txt");
	let versions: Vec<(u32, &str)> = record
		.lines()
		.filter(|line| !line.starts_with('#') && !line.trim().is_empty())
		.map(|line| {
			let (spec, hash) = line.split_once(' ').expect("`spec_version hash` lines");
			(spec.parse().expect("a spec version"), hash.trim())
		})
		.collect();
	assert!(
		versions.windows(2).all(|pair| pair[0].0 < pair[1].0),
		"client/metadata/spec-versions.txt: spec versions must only move up: {versions:?}"
	);
	let spec = commons_runtime::VERSION.spec_version;
	let hash = hex::encode(sp_io::hashing::blake2_256(committed));
	let recorded = versions.iter().find(|(version, _)| *version == spec).map(|(_, hash)| *hash);
	assert_eq!(
		recorded,
		Some(hash.as_str()),
		"the metadata of spec_version {spec} is not the one recorded for it in \
		 client/metadata/spec-versions.txt: a runtime whose calls, storage or events changed \
		 needs a new spec_version (scripts/update-metadata.sh refuses until it has one)"
	);
}
