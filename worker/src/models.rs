//! The engine's backend choice.

use commons_engine::{AdapterChoice, Backend};

/// Where the engine runs.
#[derive(
	Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
	/// A real GPU when wgpu finds one, the CPU otherwise (never a CPU driver such as lavapipe).
	Auto,
	/// Any wgpu adapter, the best first (lavapipe when there is no GPU).
	Gpu,
	/// The CPU.
	Cpu,
}

impl BackendChoice {
	/// The name flags and the config file use.
	pub fn name(self) -> &'static str {
		match self {
			Self::Auto => "auto",
			Self::Gpu => "gpu",
			Self::Cpu => "cpu",
		}
	}

	/// The engine backend to load models with.
	pub fn backend(self) -> Backend {
		match self {
			Self::Cpu => Backend::Cpu,
			Self::Gpu => Backend::Gpu(AdapterChoice::Best),
			Self::Auto => {
				let gpu = commons_engine::gpu::adapters()
					.iter()
					.any(|adapter| adapter.usable && adapter.kind != "Cpu");
				if gpu {
					Backend::Gpu(AdapterChoice::Best)
				} else {
					Backend::Cpu
				}
			},
		}
	}
}
