//! Model files and tokenizers on this machine, found by the hashes the model registry holds.
//!
//! Turning an answer's token ids into text needs only the model's tokenizer, a few megabytes of
//! the model file's metadata, not its weights (98 MB to several GB). [`Tokenizers`] keeps each
//! model's tokenizer in a cache directory as a GGUF image of its own
//! (`tokenizers/<weights sha256>.gguf`), extracted once from a model file whose sha256 matched
//! the registry's, or imported from a tokenizer image whose sha256 is the registry's
//! `tokenizer_hash`. The weights may be deleted afterwards; answers still decode.
//!
//! Hashing a model file takes seconds: [`LocalModels`] remembers each file's sha256 by path,
//! size and modification time (`model-hashes.json` in the cache), so a file is hashed once until
//! it changes. The cache holds what this machine computed; a file rewritten in place with the
//! same size and time keeps its old hash, which only ever changes how an answer is displayed,
//! never what was paid or verified (receipts are checked on token ids, `commons job verify`).

use std::{
	collections::BTreeMap,
	fmt,
	path::{Path, PathBuf},
	time::UNIX_EPOCH,
};

use commons_gguf::{
	gguf::GgufFile,
	tokenizer::{tokenizer_image, Tokenizer, TokenizerError},
};

/// Why a model file or a model's tokenizer is not available.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
	/// Neither the cache nor the models directory has it.
	#[error(
		"no tokenizer for the model with sha256 {weights}: {local}; \
		 `commons models fetch <model> --from <file>` imports it"
	)]
	Missing {
		/// The registry's weights sha256, hex.
		weights: String,
		/// What the models directory holds.
		local: String,
	},
	/// A file is not what the registry names.
	#[error("{path} is neither the model file (sha256 {weights}) nor its tokenizer (sha256 {tokenizer}); its sha256 is {found}")]
	NotTheModel {
		/// The file.
		path: String,
		/// The registry's weights sha256, hex.
		weights: String,
		/// The registry's tokenizer hash, hex.
		tokenizer: String,
		/// The file's, hex.
		found: String,
	},
	/// A file could not be read or written.
	#[error("{path}: {reason}")]
	Io {
		/// The file.
		path: String,
		/// Why.
		reason: String,
	},
	/// The file is not a GGUF file with a tokenizer this client reads.
	#[error("{path}: {reason}")]
	Unreadable {
		/// The file.
		path: String,
		/// Why.
		reason: String,
	},
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ModelFileError + '_ {
	move |error| ModelFileError::Io { path: path.display().to_string(), reason: error.to_string() }
}

/// Where this client keeps tokenizers and file hashes: `$COMMONS_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/commons/client`, else `~/.cache/commons/client`.
pub fn default_cache_dir() -> PathBuf {
	if let Some(dir) = std::env::var_os("COMMONS_CACHE_DIR") {
		return PathBuf::from(dir);
	}
	let base = std::env::var_os("XDG_CACHE_HOME")
		.map(PathBuf::from)
		.or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")));
	base.unwrap_or_else(std::env::temp_dir).join("commons").join("client")
}

/// A file's sha256 as last computed, with the size and time it had then.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Remembered {
	size: u64,
	modified_ns: u128,
	sha256: String,
}

/// The `.gguf` files in a directory, with their sha256.
pub struct LocalModels {
	dir: PathBuf,
	files: Vec<(PathBuf, [u8; 32])>,
}

impl LocalModels {
	/// Finds every `.gguf` file in `dir` and its sha256: with a `cache_dir`, remembered there
	/// while the file's size and modification time are unchanged; without one (the worker,
	/// which must serve exactly the registered bytes), hashed every time.
	pub fn scan(dir: &Path, cache_dir: Option<&Path>) -> Result<Self, ModelFileError> {
		let entries = std::fs::read_dir(dir).map_err(|error| ModelFileError::Io {
			path: dir.display().to_string(),
			reason: format!("cannot read the models directory: {error}"),
		})?;
		let index_path = cache_dir.map(|dir| dir.join("model-hashes.json"));
		let mut index: BTreeMap<String, Remembered> = index_path
			.as_ref()
			.and_then(|path| std::fs::read(path).ok())
			.and_then(|bytes| serde_json::from_slice(&bytes).ok())
			.unwrap_or_default();
		let mut changed = false;
		let mut files = Vec::new();
		for entry in entries {
			let path = entry.map_err(io_error(dir))?.path();
			if path.extension().is_none_or(|extension| extension != "gguf") {
				continue;
			}
			let metadata = std::fs::metadata(&path).map_err(io_error(&path))?;
			let modified_ns = metadata
				.modified()
				.ok()
				.and_then(|time| time.duration_since(UNIX_EPOCH).ok())
				.map_or(0, |since| since.as_nanos());
			let key = std::fs::canonicalize(&path).unwrap_or(path.clone()).display().to_string();
			let remembered = index
				.get(&key)
				.filter(|known| known.size == metadata.len() && known.modified_ns == modified_ns);
			let hash = match remembered.and_then(|known| parse_hash(&known.sha256)) {
				Some(hash) => hash,
				None => {
					let hash = commons_gguf::file_sha256(&path).map_err(io_error(&path))?;
					tracing::info!(
						"model file {} has sha256 {}",
						path.display(),
						hex::encode(hash)
					);
					index.insert(
						key,
						Remembered { size: metadata.len(), modified_ns, sha256: hex::encode(hash) },
					);
					changed = true;
					hash
				},
			};
			files.push((path, hash));
		}
		if let (true, Some(path)) = (changed, &index_path) {
			// A cache that cannot be written only costs hashing again next time.
			if let Ok(json) = serde_json::to_vec_pretty(&index) {
				let _ = write_atomically(path, &json);
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

fn parse_hash(text: &str) -> Option<[u8; 32]> {
	hex::decode(text).ok()?.try_into().ok()
}

/// Writes `bytes` to `path` through a temporary file beside it, so that a reader never sees
/// half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
	if let Some(parent) = path.parent() {
		std::fs::create_dir_all(parent)?;
	}
	let partial = path.with_extension(format!("partial.{}", std::process::id()));
	std::fs::write(&partial, bytes)?;
	std::fs::rename(&partial, path)
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

/// What the registry pins a model's files with.
#[derive(Clone, Copy, Debug)]
pub struct ModelHashes {
	/// sha256 of the weights file.
	pub weights: [u8; 32],
	/// sha256 of the tokenizer image ([`tokenizer_image`] of the weights file).
	pub tokenizer: [u8; 32],
}

/// The hashes the registry holds for a model.
pub fn hashes(info: &crate::chain::ModelInfo) -> ModelHashes {
	ModelHashes { weights: info.spec.weights_sha256, tokenizer: info.spec.tokenizer_hash }
}

/// Tokenizers by model, cached as small GGUF images.
pub struct Tokenizers {
	models_dir: PathBuf,
	cache_dir: PathBuf,
}

/// Where a tokenizer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
	/// The cache already held it.
	Cache,
	/// Extracted from the model file.
	ModelFile,
	/// A tokenizer image whose sha256 is the registry's tokenizer hash.
	TokenizerImage,
}

impl Tokenizers {
	/// Tokenizers cached in `cache_dir`, extracted from model files in `models_dir` when needed.
	pub fn new(models_dir: &Path, cache_dir: &Path) -> Self {
		Self { models_dir: models_dir.to_path_buf(), cache_dir: cache_dir.to_path_buf() }
	}

	fn cached_path(&self, weights: &[u8; 32]) -> PathBuf {
		self.cache_dir.join("tokenizers").join(format!("{}.gguf", hex::encode(weights)))
	}

	/// The tokenizer of the model pinned by `hashes`: from the cache, else extracted from the
	/// model file in the models directory (and cached).
	pub fn load(&self, hashes: &ModelHashes) -> Result<Tokenizer, ModelFileError> {
		let cached = self.cached_path(&hashes.weights);
		if let Ok(bytes) = std::fs::read(&cached) {
			if let Ok(tokenizer) = from_image(&cached, bytes) {
				return Ok(tokenizer);
			}
			tracing::warn!("{} is unreadable; extracting it again", cached.display());
		}
		let local = LocalModels::scan(&self.models_dir, Some(&self.cache_dir));
		let path = match &local {
			Ok(local) => local.find(&hashes.weights).map(Path::to_path_buf),
			Err(_) => None,
		};
		let Some(path) = path else {
			return Err(ModelFileError::Missing {
				weights: hex::encode(hashes.weights),
				local: match local {
					Ok(local) => local.to_string(),
					Err(error) => error.to_string(),
				},
			});
		};
		self.import(hashes, &path).map(|(tokenizer, _)| tokenizer)
	}

	/// Imports the tokenizer of the model pinned by `hashes` from `path`: the model file itself
	/// (its sha256 is the weights hash) or a tokenizer image (its sha256 is the tokenizer hash).
	/// Anything else is refused. Returns the tokenizer and where it came from.
	pub fn import(
		&self,
		hashes: &ModelHashes,
		path: &Path,
	) -> Result<(Tokenizer, Source), ModelFileError> {
		let cached = self.cached_path(&hashes.weights);
		let found = commons_gguf::file_sha256(path).map_err(io_error(path))?;
		let (image, source) = if found == hashes.weights {
			let file = GgufFile::open(path).map_err(|error| ModelFileError::Unreadable {
				path: path.display().to_string(),
				reason: error.to_string(),
			})?;
			(tokenizer_image(&file), Source::ModelFile)
		} else if found == hashes.tokenizer {
			(std::fs::read(path).map_err(io_error(path))?, Source::TokenizerImage)
		} else {
			return Err(ModelFileError::NotTheModel {
				path: path.display().to_string(),
				weights: hex::encode(hashes.weights),
				tokenizer: hex::encode(hashes.tokenizer),
				found: hex::encode(found),
			});
		};
		let tokenizer = from_image(path, image.clone())?;
		write_atomically(&cached, &image).map_err(io_error(&cached))?;
		Ok((tokenizer, source))
	}

	/// Whether the cache holds the tokenizer of the model with weights hash `weights`.
	pub fn is_cached(&self, weights: &[u8; 32]) -> bool {
		self.cached_path(weights).is_file()
	}
}

fn from_image(path: &Path, bytes: Vec<u8>) -> Result<Tokenizer, ModelFileError> {
	let unreadable =
		|reason: String| ModelFileError::Unreadable { path: path.display().to_string(), reason };
	let file = GgufFile::from_bytes(bytes).map_err(|error| unreadable(error.to_string()))?;
	Tokenizer::from_gguf(&file).map_err(|error: TokenizerError| unreadable(error.to_string()))
}

/// The sha256 of the tokenizer image extracted from model file `path`: the value a model's
/// registration declares as its `tokenizer_hash`.
pub fn tokenizer_hash(path: &Path) -> Result<[u8; 32], ModelFileError> {
	let file = GgufFile::open(path).map_err(|error| ModelFileError::Unreadable {
		path: path.display().to_string(),
		reason: error.to_string(),
	})?;
	Ok(commons_gguf::sha256(&tokenizer_image(&file)))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_remembered_hash_is_used_until_the_file_changes() {
		let dir = std::env::temp_dir().join(format!("commons-hashes-{}", std::process::id()));
		let (models, cache) = (dir.join("models"), dir.join("cache"));
		std::fs::create_dir_all(&models).unwrap();
		let file = models.join("a.gguf");
		std::fs::write(&file, b"first").unwrap();
		let first = LocalModels::scan(&models, Some(&cache)).unwrap();
		let hash = commons_gguf::sha256(b"first");
		assert_eq!(first.find(&hash), Some(file.as_path()));
		assert!(cache.join("model-hashes.json").is_file());

		// Another size is another file: hashed again.
		std::fs::write(&file, b"second!").unwrap();
		let second = LocalModels::scan(&models, Some(&cache)).unwrap();
		assert_eq!(second.find(&commons_gguf::sha256(b"second!")), Some(file.as_path()));
		assert_eq!(second.find(&hash), None);
		std::fs::remove_dir_all(&dir).unwrap();
	}
}
