//! Rebuilds the typed chain access when the committed runtime metadata changes: `subxt`'s macro
//! reads `metadata/commons.scale` at compile time, and cargo does not see that file otherwise.

fn main() {
	println!("cargo:rerun-if-changed=metadata/commons.scale");
}
