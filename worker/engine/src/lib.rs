//! `commons-engine`: deterministic inference for llama-architecture GGUF models.
//!
//! So far: [`gguf`], the model file loader.

pub mod gguf;
