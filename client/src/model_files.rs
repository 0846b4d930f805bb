//! The model files on this machine, found by the sha256 the model registry holds for them.

use std::{
	fmt,
	path::{Path, PathBuf},
};

/// The `.gguf` files in a directory, with their sha256.
pub struct LocalModels {
	dir: PathBuf,
	files: Vec<(PathBuf, [u8; 32])>,
}

impl LocalModels {
	/// Hashes every `.gguf` file in `dir`.
	pub fn scan(dir: &Path) -> anyhow::Result<Self> {
		let entries = std::fs::read_dir(dir).map_err(|error| {
			anyhow::anyhow!("cannot read the models directory {}: {error}", dir.display())
		})?;
		let mut files = Vec::new();
		for entry in entries {
			let path = entry?.path();
			if path.extension().is_some_and(|extension| extension == "gguf") {
				let hash = commons_engine::file_sha256(&path)?;
				tracing::info!("model file {} has sha256 {}", path.display(), hex::encode(hash));
				files.push((path, hash));
			}
		}
		files.sort();
		Ok(Self { dir: dir.to_path_buf(), files })
	}

	/// The file whose sha256 is `hash`.
	pub fn find(&self, hash: &[u8; 32]) -> Option<&Path> {
		self.files.iter().find(|(_, file_hash)| file_hash == hash).map(|(path, _)| path.as_path())
	}
}

impl fmt::Display for LocalModels {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		if self.files.is_empty() {
			return write!(f, "{} holds no .gguf file", self.dir.display());
		}
		write!(f, "{} holds", self.dir.display())?;
		for (path, hash) in &self.files {
			let name = path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
			write!(f, " {name} (sha256 {})", hex::encode(hash))?;
		}
		Ok(())
	}
}
