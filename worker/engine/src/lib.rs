//! `commons-engine`: deterministic inference for llama-architecture GGUF models.
//!
//! So far: [`gguf`], the model file loader, and [`tokenizer`], the tokenizer built from its
//! metadata.

pub mod gguf;
pub mod tokenizer;
