//! `commons-gguf`: GGUF model files without the engine.
//!
//! [`gguf`] reads the container (header, metadata, tensor table, memory-mapped data) and writes
//! metadata-only images; [`tokenizer`] builds the tokenizer and chat template a model file
//! carries. The engine runs models on top of these; clients that only turn token ids into text
//! (the `commons` CLI and its gateway) depend on this crate alone, without the GPU stack.

pub mod gguf;
pub mod tokenizer;

/// The sha256 of a file, read in chunks: how the model registry names a model file.
pub fn file_sha256(path: &std::path::Path) -> std::io::Result<[u8; 32]> {
	use sha2::Digest;
	let mut file = std::fs::File::open(path)?;
	let mut hasher = sha2::Sha256::new();
	std::io::copy(&mut file, &mut hasher)?;
	Ok(hasher.finalize().into())
}

/// The sha256 of bytes held in memory.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
	use sha2::Digest;
	sha2::Sha256::digest(bytes).into()
}
