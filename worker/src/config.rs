//! The worker's settings, in layers: built-in defaults, under a TOML file, under environment
//! variables and flags (clap reads those two, flags first). `commons-worker init` writes a file
//! with every setting and what it does.
//!
//! The file is `--config` (`COMMONS_WORKER_CONFIG`), or `commons-worker.toml` in the working
//! directory when that exists. Relative paths in it are relative to the file's directory.

use std::path::{Path, PathBuf};

use figment::{
	providers::{Format, Serialized, Toml},
	value::magic::RelativePathBuf,
	Figment,
};
use serde::{Deserialize, Serialize};

use crate::models::BackendChoice;

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_FILE: &str = "commons-worker.toml";

/// Every setting of the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
	/// WebSocket RPC address of a Commons node.
	pub url: String,
	/// The worker's key file.
	pub key: Option<RelativePathBuf>,
	/// The registered worker the key operates for, when the key is its operator
	/// (`WorkerOperation` proxy) rather than the registered account itself.
	pub stash: Option<String>,
	/// Directory holding the model files.
	pub models_dir: RelativePathBuf,
	/// Where the engine runs.
	pub backend: BackendChoice,
	/// Engine threads (0: one per core).
	pub threads: usize,
	/// The local database of commitments (default: the key file's path with `.redb`).
	pub database: Option<RelativePathBuf>,
	/// Port of the Prometheus metrics endpoint (0: none).
	pub metrics_port: u16,
	/// Serve metrics on every interface instead of loopback only.
	pub metrics_external: bool,
	/// The longest wait between attempts to reach the node, in seconds.
	pub max_backoff: u64,
	/// Jobs computed at once.
	pub slots: u32,
	/// Tokens per block and slot to declare instead of measuring the engine.
	pub tokens_per_block: Option<u32>,
	/// Warn when the free balance pays the fees of fewer jobs than this.
	pub fee_warning_jobs: u32,
}

impl Default for Config {
	fn default() -> Self {
		Self {
			url: "ws://127.0.0.1:9944".into(),
			key: None,
			stash: None,
			models_dir: "models".into(),
			backend: BackendChoice::Auto,
			threads: 0,
			database: None,
			metrics_port: 9616,
			metrics_external: false,
			max_backoff: 10,
			slots: 1,
			tokens_per_block: None,
			fee_warning_jobs: 100,
		}
	}
}

/// Why the settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
	/// `--config` names a file that is not there.
	#[error("the config file {0} does not exist (`commons-worker init` writes one)")]
	Missing(PathBuf),
	/// A setting is malformed or unknown; figment names the key and where it was set.
	#[error("invalid configuration: {0}")]
	Invalid(Box<figment::Error>),
	/// The file could not be written (it exists, or the directory is not writable).
	#[error("cannot write {path}: {source}")]
	Write {
		/// The file.
		path: PathBuf,
		/// Why.
		source: std::io::Error,
	},
	/// No key file anywhere.
	#[error("no key file: give `--key`, set COMMONS_WORKER_KEY, or set `key` in the config file")]
	NoKey,
}

impl Config {
	/// The settings: defaults, then the config file (`file`, or [`DEFAULT_FILE`] if present),
	/// then `overrides` (the flags and environment variables given, as a map of setting names).
	pub fn load(file: Option<&Path>, overrides: impl Serialize) -> Result<Self, ConfigError> {
		let file = match file {
			Some(file) if !file.is_file() => return Err(ConfigError::Missing(file.into())),
			Some(file) => Some(file.to_path_buf()),
			None => Some(PathBuf::from(DEFAULT_FILE)).filter(|file| file.is_file()),
		};
		let mut figment = Figment::from(Serialized::defaults(Config::default()));
		if let Some(file) = file {
			figment = figment.merge(Toml::file_exact(file));
		}
		figment
			.merge(Serialized::defaults(overrides))
			.extract()
			.map_err(|error| ConfigError::Invalid(Box::new(error)))
	}

	/// The defaults with `overrides`, and no file: what `init` writes.
	pub fn defaults_with(overrides: impl Serialize) -> Result<Self, ConfigError> {
		Figment::from(Serialized::defaults(Config::default()))
			.merge(Serialized::defaults(overrides))
			.extract()
			.map_err(|error| ConfigError::Invalid(Box::new(error)))
	}

	/// Writes [`Config::render`] into a new file, never over an existing one.
	pub fn write_new(&self, path: &Path) -> Result<(), ConfigError> {
		use std::io::Write;
		std::fs::OpenOptions::new()
			.write(true)
			.create_new(true)
			.open(path)
			.and_then(|mut file| file.write_all(self.render().as_bytes()))
			.map_err(|source| ConfigError::Write { path: path.into(), source })
	}

	/// The key file, which every command but `key` and `infer` needs.
	pub fn key(&self) -> Result<PathBuf, ConfigError> {
		self.key.as_ref().map(RelativePathBuf::relative).ok_or(ConfigError::NoKey)
	}

	/// The config file with every setting, each with what it does; settings without a value are
	/// commented out with an example.
	pub fn render(&self) -> String {
		let path = |path: &RelativePathBuf| quoted(&path.original().display().to_string());
		let optional = |value: Option<String>, example: &str| value.ok_or(example.to_string());
		let settings: [(&str, &str, Result<String, String>); 13] = [
			(
				"url",
				"WebSocket RPC address of a Commons node (flag --url, env COMMONS_RPC).",
				Ok(quoted(&self.url)),
			),
			(
				"key",
				"The worker's key file, from `commons-worker key generate`; keep a backup offline \
				 (flag --key, env COMMONS_WORKER_KEY).",
				optional(self.key.as_ref().map(path), "\"worker.key\""),
			),
			(
				"models_dir",
				"Directory holding the model files (.gguf), matched to the chain's registry by \
				 sha256.",
				Ok(path(&self.models_dir)),
			),
			(
				"backend",
				"Where the engine runs: \"auto\" (a real GPU if there is one, else the CPU), \
				 \"gpu\" (any wgpu adapter, lavapipe included) or \"cpu\".",
				Ok(quoted(self.backend.name())),
			),
			("threads", "Engine threads (0: one per core).", Ok(self.threads.to_string())),
			(
				"stash",
				"The registered worker this key operates for, when the key is its operator (a \
				 WorkerOperation proxy that can commit, reveal and go offline, and cannot move \
				 stake; docs/worker.md, \"Keys by role\"). Unset: the key is the registered worker.",
				optional(self.stash.as_deref().map(quoted), "\"the stash's address\""),
			),
			(
				"database",
				"The local database of commitments (default: the key file's path with .redb). \
				 Losing it while seats are committed costs their reveals.",
				optional(self.database.as_ref().map(path), "\"worker.redb\""),
			),
			(
				"metrics_port",
				"Port of the Prometheus metrics endpoint (0: none).",
				Ok(self.metrics_port.to_string()),
			),
			(
				"metrics_external",
				"Serve metrics on every interface, not only on 127.0.0.1 (for a Prometheus on \
				 another host; firewall it).",
				Ok(self.metrics_external.to_string()),
			),
			(
				"max_backoff",
				"The longest wait between attempts to reach the node, in seconds.",
				Ok(self.max_backoff.to_string()),
			),
			(
				"slots",
				"Jobs computed at once (each slot shares the engine threads).",
				Ok(self.slots.to_string()),
			),
			(
				"tokens_per_block",
				"Tokens per block and slot to declare to the chain; measured on the engine at start \
				 when unset (recommended).",
				optional(self.tokens_per_block.map(|tokens| tokens.to_string()), "8"),
			),
			(
				"fee_warning_jobs",
				"Warn (log and metric) when the free balance pays the commit and reveal fees of \
				 fewer jobs than this; a reveal that cannot be paid is slashed as a no-show.",
				Ok(self.fee_warning_jobs.to_string()),
			),
		];
		let mut text = String::from(
			"# commons-worker settings. Flags and environment variables override this file;\n\
			 # relative paths are relative to this file's directory. docs/worker.md explains each.\n",
		);
		for (name, help, value) in settings {
			text.push('\n');
			for line in wrap(help, 98) {
				text.push_str("# ");
				text.push_str(&line);
				text.push('\n');
			}
			match value {
				Ok(value) => text.push_str(&format!("{name} = {value}\n")),
				Err(example) => text.push_str(&format!("# {name} = {example}\n")),
			}
		}
		text
	}
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
	toml::Value::String(text.into()).to_string()
}

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
	let mut lines = vec![String::new()];
	for word in text.split_whitespace() {
		let line = lines.last_mut().filter(|line| line.len() + 1 + word.len() <= width);
		match line {
			Some(line) if !line.is_empty() => {
				line.push(' ');
				line.push_str(word);
			},
			Some(line) => line.push_str(word),
			None => lines.push(word.into()),
		}
	}
	lines
}

#[cfg(test)]
// Jail's closures return figment's own error type, which is large; its API, not ours.
#[allow(clippy::result_large_err)]
mod tests {
	use super::*;
	use figment::Jail;

	/// A configuration in which every setting differs from the default.
	fn unusual() -> Config {
		Config {
			url: "ws://node.example:9944".into(),
			key: Some("keys/w.key".into()),
			stash: Some("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY".into()),
			models_dir: "/srv/models".into(),
			backend: BackendChoice::Cpu,
			threads: 3,
			database: Some("w.redb".into()),
			metrics_port: 9700,
			metrics_external: true,
			max_backoff: 30,
			slots: 2,
			tokens_per_block: Some(12),
			fee_warning_jobs: 7,
		}
	}

	#[test]
	fn the_rendered_file_reads_back_as_the_same_settings() {
		Jail::expect_with(|jail| {
			for config in [Config::default(), unusual()] {
				jail.create_file("rendered.toml", &config.render())?;
				let read = Config::load(Some(Path::new("rendered.toml")), serde_json::json!({}))
					.map_err(|error| error.to_string())?;
				assert_eq!(read, config);
			}
			// Relative paths are the file's directory's.
			jail.create_dir("etc")?;
			jail.create_file("etc/w.toml", &unusual().render())?;
			let read = Config::load(Some(Path::new("etc/w.toml")), serde_json::json!({}))
				.map_err(|e| e.to_string())?;
			assert_eq!(read.key().map_err(|e| e.to_string())?, PathBuf::from("etc/keys/w.key"));
			assert_eq!(read.models_dir.relative(), PathBuf::from("/srv/models"));
			Ok(())
		});
	}

	#[test]
	fn flags_and_environment_override_the_file_which_overrides_the_defaults() {
		Jail::expect_with(|jail| {
			// No file at all: the defaults.
			assert_eq!(
				Config::load(None, serde_json::json!({})).map_err(|e| e.to_string())?,
				Config::default()
			);
			jail.create_file(DEFAULT_FILE, "threads = 2\nslots = 3\nurl = \"ws://file:1\"\n")?;
			// (A struct: serde_json's numbers serialize as maps with its `arbitrary_precision`.)
			#[derive(Serialize)]
			struct Threads {
				threads: usize,
			}
			let read = Config::load(None, Threads { threads: 5 }).map_err(|e| e.to_string())?;
			assert_eq!((read.threads, read.slots, read.url.as_str()), (5, 3, "ws://file:1"));
			assert_eq!(read.metrics_port, Config::default().metrics_port);
			Ok(())
		});
	}

	#[test]
	fn a_bad_file_is_refused_with_the_key_named() {
		Jail::expect_with(|jail| {
			jail.create_file("typo.toml", "thread = 2\n")?;
			let error = Config::load(Some(Path::new("typo.toml")), serde_json::json!({}))
				.unwrap_err()
				.to_string();
			assert!(error.contains("thread"), "{error}");
			jail.create_file("type.toml", "slots = \"many\"\n")?;
			let error = Config::load(Some(Path::new("type.toml")), serde_json::json!({}))
				.unwrap_err()
				.to_string();
			assert!(error.contains("slots") && error.contains("type.toml"), "{error}");
			let error =
				Config::load(Some(Path::new("absent.toml")), serde_json::json!({})).unwrap_err();
			assert!(matches!(error, ConfigError::Missing(_)), "{error}");
			assert!(matches!(Config::default().key(), Err(ConfigError::NoKey)));
			Ok(())
		});
	}
}
