//! The GGUF loader on the real SmolLM2 file and on crafted files, good and bad.

use std::path::PathBuf;

use commons_gguf::gguf::{GgufError, GgufFile, TensorType, Value};

/// Writes GGUF images for tests.
#[derive(Default)]
struct Writer {
	metadata: Vec<(String, u32, Vec<u8>)>,
	tensors: Vec<(String, Vec<u64>, u32, u64)>,
	data: Vec<u8>,
}

fn string(text: &str) -> Vec<u8> {
	let mut out = (text.len() as u64).to_le_bytes().to_vec();
	out.extend_from_slice(text.as_bytes());
	out
}

impl Writer {
	fn llama() -> Self {
		let mut writer = Self::default();
		writer.meta_string("general.architecture", "llama");
		writer.metadata.push(("llama.block_count".into(), 4, 2u32.to_le_bytes().to_vec()));
		let mut tokens = 8u32.to_le_bytes().to_vec(); // element type: string
		tokens.extend_from_slice(&3u64.to_le_bytes());
		for token in ["a", "b", "<|im_end|>"] {
			tokens.extend(string(token));
		}
		writer.metadata.push(("tokenizer.ggml.tokens".into(), 9, tokens));
		writer
	}

	fn meta_string(&mut self, key: &str, value: &str) {
		self.metadata.retain(|(existing, ..)| existing != key);
		self.metadata.push((key.into(), 8, string(value)));
	}

	fn tensor(&mut self, name: &str, dims: &[u64], type_id: u32, len: usize) {
		let offset = self.data.len() as u64;
		self.tensors.push((name.into(), dims.to_vec(), type_id, offset));
		self.data.extend((0..len).map(|i| i as u8));
		while !self.data.len().is_multiple_of(32) {
			self.data.push(0);
		}
	}

	fn bytes(&self) -> Vec<u8> {
		let mut out = b"GGUF".to_vec();
		out.extend_from_slice(&3u32.to_le_bytes());
		out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
		out.extend_from_slice(&(self.metadata.len() as u64).to_le_bytes());
		for (key, type_id, value) in &self.metadata {
			out.extend(string(key));
			out.extend_from_slice(&type_id.to_le_bytes());
			out.extend_from_slice(value);
		}
		for (name, dims, type_id, offset) in &self.tensors {
			out.extend(string(name));
			out.extend_from_slice(&(dims.len() as u32).to_le_bytes());
			for dim in dims {
				out.extend_from_slice(&dim.to_le_bytes());
			}
			out.extend_from_slice(&type_id.to_le_bytes());
			out.extend_from_slice(&offset.to_le_bytes());
		}
		while !out.len().is_multiple_of(32) {
			out.push(0);
		}
		out.extend_from_slice(&self.data);
		out
	}
}

fn small_model() -> Writer {
	let mut writer = Writer::llama();
	writer.tensor("token_embd.weight", &[32, 3], 8, 3 * 34); // Q8_0
	writer.tensor("blk.0.attn_q.weight", &[64, 2], 3, 2 * 2 * 20); // Q4_1
	writer.tensor("output_norm.weight", &[32], 0, 32 * 4); // F32
	writer
}

#[test]
fn a_crafted_model_parses_with_its_metadata_and_tensors() {
	let bytes = small_model().bytes();
	let file = GgufFile::from_bytes(bytes.clone()).unwrap();
	assert_eq!(file.architecture().unwrap(), "llama");
	assert_eq!(file.metadata_u64("llama.block_count").unwrap(), 2);
	let tokens = file.metadata["tokenizer.ggml.tokens"].as_array().unwrap();
	assert_eq!(tokens[2], Value::String("<|im_end|>".into()));

	let q = file.tensor("blk.0.attn_q.weight").unwrap();
	assert_eq!((q.tensor_type, q.elements(), q.len), (TensorType::Q4_1, 128, 80));
	let data = file.tensor_data(q).unwrap();
	let start = (file.data_offset + q.offset) as usize;
	assert_eq!(data, &bytes[start..start + 80]);
	assert_eq!(file.data_offset % 32, 0);
	assert!(file.tensor("missing").is_none());
}

#[test]
fn every_truncation_of_a_file_is_an_error_never_a_panic() {
	let bytes = small_model().bytes();
	for len in 0..bytes.len() {
		match GgufFile::from_bytes(bytes[..len].to_vec()) {
			Err(GgufError::Truncated { .. }) => {},
			Err(other) => panic!("cut at {len}: expected Truncated, got {other}"),
			Ok(_) => panic!("cut at {len} of {} parsed", bytes.len()),
		}
	}
}

#[test]
fn a_wrong_magic_or_version_is_named() {
	let mut bytes = small_model().bytes();
	bytes[..4].copy_from_slice(b"GGML");
	assert!(
		matches!(GgufFile::from_bytes(bytes), Err(GgufError::BadMagic(magic)) if &magic == b"GGML")
	);

	let mut bytes = small_model().bytes();
	bytes[4..8].copy_from_slice(&2u32.to_le_bytes());
	let error = GgufFile::from_bytes(bytes).err().unwrap();
	assert!(matches!(error, GgufError::UnsupportedVersion(2)));
	assert!(error.to_string().contains("version 2"));
}

#[test]
fn an_unsupported_quantisation_names_the_tensor_and_the_type() {
	let mut writer = Writer::llama();
	writer.tensor("blk.0.ffn_down.weight", &[256], 12, 144); // Q4_K
	let error = GgufFile::from_bytes(writer.bytes()).err().unwrap();
	assert!(
		matches!(&error, GgufError::UnsupportedTensorType { tensor, type_id: 12, name: "Q4_K" } if tensor == "blk.0.ffn_down.weight"),
		"{error}"
	);
	assert!(error.to_string().contains("Q4_K"));
}

#[test]
fn an_unsupported_architecture_is_named() {
	let mut writer = small_model();
	writer.meta_string("general.architecture", "gpt2");
	let error = GgufFile::from_bytes(writer.bytes()).err().unwrap();
	assert!(
		matches!(&error, GgufError::UnsupportedArchitecture(name) if name == "gpt2"),
		"{error}"
	);

	let mut writer = small_model();
	writer.metadata.retain(|(key, ..)| key != "general.architecture");
	let error = GgufFile::from_bytes(writer.bytes()).err().unwrap();
	assert!(error.to_string().contains("general.architecture"), "{error}");
}

#[test]
fn corrupt_counts_and_shapes_are_refused_without_allocating() {
	// A tensor count far beyond what the file could hold.
	let mut bytes = small_model().bytes();
	bytes[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
	assert!(matches!(
		GgufFile::from_bytes(bytes),
		Err(GgufError::Truncated { what: "tensor count", .. })
	));

	// A Q8_0 tensor whose rows are not whole blocks of 32.
	let mut writer = Writer::llama();
	writer.tensor("token_embd.weight", &[30, 3], 8, 3 * 34);
	let error = GgufFile::from_bytes(writer.bytes()).err().unwrap();
	assert!(
		matches!(&error, GgufError::BadTensor { tensor, .. } if tensor == "token_embd.weight"),
		"{error}"
	);

	// A tensor whose data would run past the end of the file.
	let mut writer = Writer::llama();
	writer.tensor("output_norm.weight", &[1024], 0, 16);
	let error = GgufFile::from_bytes(writer.bytes()).err().unwrap();
	assert!(matches!(error, GgufError::Truncated { what: "tensor data", .. }), "{error}");

	// An unknown metadata value type.
	let mut writer = small_model();
	writer.metadata.push(("general.odd".into(), 99, vec![]));
	let error = GgufFile::from_bytes(writer.bytes()).err().unwrap();
	assert!(
		matches!(&error, GgufError::UnknownValueType { key, type_id: 99 } if key == "general.odd"),
		"{error}"
	);
}

#[test]
fn a_missing_file_names_its_path() {
	let error = GgufFile::open("/nonexistent/model.gguf").err().unwrap();
	assert!(error.to_string().contains("/nonexistent/model.gguf"), "{error}");
}

/// The real model, fetched by `scripts/fetch-model.sh` (which `scripts/test.sh` runs).
fn smollm2() -> PathBuf {
	// Read at run time: clones sharing a target directory share this compiled test, so a path
	// baked in at compile time may name another clone.
	let crate_dir =
		std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
	let path = PathBuf::from(crate_dir).join("../../models/SmolLM2-135M-Instruct.Q4_1.gguf");
	assert!(path.exists(), "{} is missing: run scripts/fetch-model.sh", path.display());
	path
}

#[test]
fn smollm2_loads_as_a_llama_model_of_q4_1_and_q8_0_tensors() {
	let file = GgufFile::open(smollm2()).unwrap();
	assert_eq!(file.architecture().unwrap(), "llama");
	assert_eq!(file.metadata_u64("llama.block_count").unwrap(), 30);
	assert_eq!(file.metadata_u64("llama.embedding_length").unwrap(), 576);
	assert_eq!(file.metadata_u64("llama.attention.head_count").unwrap(), 9);
	assert_eq!(file.metadata_u64("llama.attention.head_count_kv").unwrap(), 3);
	let tokens = file.metadata["tokenizer.ggml.tokens"].as_array().unwrap();
	assert_eq!(tokens.len(), 49_152);
	assert_eq!(file.metadata_str("tokenizer.ggml.model").unwrap(), "gpt2");

	let embedding = file.tensor("token_embd.weight").unwrap();
	assert_eq!(embedding.tensor_type, TensorType::Q8_0);
	assert_eq!(embedding.dims, vec![576, 49_152]);
	let q = file.tensor("blk.0.attn_q.weight").unwrap();
	assert_eq!(q.tensor_type, TensorType::Q4_1);
	assert_eq!(q.dims, vec![576, 576]);
	// 30 blocks of 9 tensors (2 norms, 4 attention, 3 MLP), the embedding, the output norm.
	assert_eq!(file.tensors.len(), 30 * 9 + 2);
	for tensor in &file.tensors {
		assert_eq!(file.tensor_data(tensor).map(<[u8]>::len), Some(tensor.len as usize));
	}
	// The last tensor ends within one alignment of the end of the file.
	let end = file.tensors.iter().map(|t| file.data_offset + t.offset + t.len).max().unwrap();
	let size = std::fs::metadata(smollm2()).unwrap().len();
	assert!(end <= size && size - end < 32, "data ends at {end}, file is {size} bytes");
}

#[test]
fn a_metadata_image_reads_back_as_the_same_metadata() {
	let metadata: Vec<(String, Value)> = vec![
		("general.architecture".into(), Value::String("llama".into())),
		("a.u8".into(), Value::U8(7)),
		("a.i8".into(), Value::I8(-7)),
		("a.u16".into(), Value::U16(700)),
		("a.i16".into(), Value::I16(-700)),
		("a.u32".into(), Value::U32(70_000)),
		("a.i32".into(), Value::I32(-70_000)),
		("a.f32".into(), Value::F32(0.5)),
		("a.bool".into(), Value::Bool(true)),
		("a.u64".into(), Value::U64(1 << 40)),
		("a.i64".into(), Value::I64(-(1 << 40))),
		("a.f64".into(), Value::F64(-0.25)),
		(
			"a.strings".into(),
			Value::Array(vec![Value::String("x".into()), Value::String("".into())]),
		),
		("a.nested".into(), Value::Array(vec![Value::Array(vec![Value::I32(1), Value::I32(2)])])),
		("a.empty".into(), Value::Array(Vec::new())),
	];
	let image = commons_gguf::gguf::metadata_image(
		metadata.iter().map(|(key, value)| (key.as_str(), value)),
	);
	let file = GgufFile::from_bytes(image).unwrap();
	assert!(file.tensors.is_empty());
	assert_eq!(file.metadata.len(), metadata.len());
	for (key, value) in &metadata {
		assert_eq!(file.metadata.get(key), Some(value), "{key}");
	}
}
