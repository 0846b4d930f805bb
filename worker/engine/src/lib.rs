//! `commons-engine`: deterministic inference for llama-architecture GGUF models.
//!
//! [`gguf`] loads the model file, [`tokenizer`] builds the tokenizer from its metadata,
//! [`integer`] is the integer-only forward pass whose output is committed (its arithmetic is
//! specified in `DETERMINISM.md`, with [`fixed`] holding the fixed-point primitives), and
//! [`gpu`] runs the integer path's matrix products through wgpu with the same bits, and
//! [`reference`] is the float forward pass used only as a quality oracle. [`Model`] ties them
//! together: load once, share, generate.

pub mod fixed;
/// The container, from `commons-gguf` (clients read it without the engine).
pub use commons_gguf::gguf;
/// The tokenizer and chat template, from `commons-gguf`.
pub use commons_gguf::tokenizer;
pub mod gpu;
pub mod integer;
pub mod model;
pub mod reference;

pub use gpu::{AdapterChoice, AdapterSummary, GpuError};
pub use model::{
	file_sha256, Backend, Config, EngineError, Generation, Model, Sampling, StopReason,
	ENGINE_VERSION,
};
