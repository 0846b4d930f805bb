//! Builds the wasm runtime once, next to the native one, when the `std` feature is on.
fn main() {
	#[cfg(feature = "std")]
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}
