//! A loaded model: configuration, tensor layout, thread pool and the generation API.

use std::{path::Path, sync::Arc};

use crate::{
	fixed,
	gguf::{GgufError, GgufFile, TensorInfo, TensorType, Value},
	gpu::{AdapterChoice, GpuError, GpuMatvec},
	integer::{IntegerSession, QuantVec},
	reference::ReferenceSession,
	tokenizer::{Tokenizer, TokenizerError},
};

/// Why the engine cannot load a model or run a request.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
	/// The model file is unusable.
	#[error(transparent)]
	Gguf(#[from] GgufError),
	/// The tokenizer in the model file is unusable.
	#[error(transparent)]
	Tokenizer(#[from] TokenizerError),
	/// A tensor the architecture needs is absent.
	#[error("tensor `{0}` is missing")]
	MissingTensor(String),
	/// A tensor with the wrong shape or a type the path cannot run.
	#[error("tensor `{tensor}` cannot be used: {reason}")]
	BadTensor {
		/// The tensor.
		tensor: String,
		/// Why.
		reason: String,
	},
	/// Metadata with an unusable value.
	#[error("metadata `{key}` is unusable: {reason}")]
	BadMetadata {
		/// The key.
		key: String,
		/// Why.
		reason: String,
	},
	/// A prompt without tokens.
	#[error("the prompt is empty")]
	EmptyPrompt,
	/// A prompt that leaves no room in the context.
	#[error("the prompt has {prompt} tokens; the context holds {context}, so at most {max} fit")]
	PromptTooLong {
		/// Prompt tokens.
		prompt: usize,
		/// Context length.
		context: usize,
		/// Largest prompt that still leaves room for one generated token.
		max: usize,
	},
	/// `max_tokens` of zero.
	#[error("max_tokens must be at least 1")]
	ZeroMaxTokens,
	/// A token id outside the vocabulary.
	#[error("token id {token} is outside the vocabulary of {vocab}")]
	TokenOutOfRange {
		/// The id.
		token: u32,
		/// Vocabulary size.
		vocab: usize,
	},
	/// A forward step past the end of the context.
	#[error("the context of {0} positions is full")]
	ContextFull(usize),
	/// Sampling parameters out of range.
	#[error("bad sampling parameters: {0}")]
	BadSampling(String),
	/// The thread pool could not be built.
	#[error("cannot start the thread pool: {0}")]
	ThreadPool(String),
	/// The model file is not the one expected.
	#[error("{path}: sha256 is {found}, expected {expected}: not the registered model file")]
	HashMismatch {
		/// The file.
		path: String,
		/// The sha256 asked for, hex.
		expected: String,
		/// The file's sha256, hex.
		found: String,
	},
	/// The model file could not be read for hashing.
	#[error("cannot read {path}: {reason}")]
	Read {
		/// The file.
		path: String,
		/// Why.
		reason: String,
	},
	/// The wgpu backend cannot start or failed.
	#[error(transparent)]
	Gpu(#[from] GpuError),
}

/// Where the integer path's matrix products run. Both give the same bits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Backend {
	/// The CPU, multi-threaded.
	#[default]
	Cpu,
	/// A GPU (or any adapter) through wgpu.
	Gpu(AdapterChoice),
}

/// Result of the engine.
pub type Result<T> = std::result::Result<T, EngineError>;

/// The hyper-parameters of a llama-architecture model, from its metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
	/// Transformer blocks.
	pub layers: usize,
	/// Width of the residual stream.
	pub dim: usize,
	/// Query heads.
	pub heads: usize,
	/// Key/value heads.
	pub kv_heads: usize,
	/// Width of one head.
	pub head_dim: usize,
	/// Dimensions of a head that RoPE rotates.
	pub rope_dims: usize,
	/// Hidden width of the MLP.
	pub ffn: usize,
	/// Vocabulary size.
	pub vocab: usize,
	/// Context length.
	pub context: usize,
	/// `rope.freq_base` as f32 bits.
	pub rope_base_bits: u32,
	/// `attention.layer_norm_rms_epsilon` as f32 bits.
	pub rms_eps_bits: u32,
}

/// A norm weight vector, as f32 and in the integer path's Q.24.
pub(crate) struct Norm {
	pub(crate) f32: Vec<f32>,
	pub(crate) q24: Vec<i64>,
}

/// A weight matrix: `rows` rows of `cols` elements, row-major.
#[derive(Clone)]
pub(crate) struct Matrix {
	pub(crate) info: TensorInfo,
	pub(crate) rows: usize,
	pub(crate) cols: usize,
}

pub(crate) struct Layer {
	pub(crate) attn_norm: Norm,
	pub(crate) q: Matrix,
	pub(crate) k: Matrix,
	pub(crate) v: Matrix,
	pub(crate) o: Matrix,
	pub(crate) ffn_norm: Norm,
	pub(crate) gate: Matrix,
	pub(crate) up: Matrix,
	pub(crate) down: Matrix,
}

/// What a loaded model shares between its handles.
pub(crate) struct Weights {
	pub(crate) file: GgufFile,
	pub(crate) config: Config,
	pub(crate) tokenizer: Tokenizer,
	pub(crate) embedding: Matrix,
	pub(crate) output: Matrix,
	pub(crate) output_norm: Norm,
	pub(crate) layers: Vec<Layer>,
	/// `2^(-k/1024)` in Q.62.
	pub(crate) exp2: Vec<u64>,
	/// RoPE frequency of each rotated pair in Q.62.
	pub(crate) rope_freq_q62: Vec<u64>,
	/// RMSNorm epsilon in Q.32.
	pub(crate) eps_q32: i64,
}

impl Weights {
	/// Every matrix a forward step multiplies by: the output head, then each layer's seven.
	pub(crate) fn matrices(&self) -> impl Iterator<Item = &Matrix> {
		std::iter::once(&self.output).chain(self.layers.iter().flat_map(|layer| {
			[&layer.q, &layer.k, &layer.v, &layer.o, &layer.gate, &layer.up, &layer.down]
		}))
	}

	/// A matrix's bytes.
	pub(crate) fn data(&self, matrix: &Matrix) -> &[u8] {
		// Checked to be inside the file when it was opened.
		self.file.tensor_data(&matrix.info).unwrap_or(&[])
	}
}

/// How the next token is chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sampling {
	/// The highest logit; ties go to the lowest token id.
	Greedy,
	/// Seeded sampling among the `k` highest logits at a temperature in thousandths.
	TopK {
		/// Candidates (at least 1).
		k: usize,
		/// Temperature × 1000 (at least 1).
		temperature_milli: u32,
		/// Seed of the counter-based generator.
		seed: u64,
	},
}

/// Why generation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
	/// The model produced its end-of-sequence token (not included in `tokens`).
	Eos,
	/// `max_tokens` were produced.
	MaxTokens,
	/// The context is full.
	Context,
}

/// The version of the integer path's arithmetic (`DETERMINISM.md`), registered with each model:
/// workers agree only when they run the same one.
pub const ENGINE_VERSION: u32 = 1;

/// The result of [`Model::generate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generation {
	/// Generated token ids, without the prompt and without the end-of-sequence token.
	pub tokens: Vec<u32>,
	/// Their text.
	pub text: String,
	/// Why generation stopped.
	pub stop: StopReason,
}

impl Generation {
	/// The hash workers commit to and the chain compares for the registry's `model` id:
	/// `blake2_256(SCALE(ENGINE_VERSION, model, tokens))`, the chain's own definition.
	pub fn output_hash(&self, model: u32) -> [u8; 32] {
		commons_primitives::output_hash(ENGINE_VERSION, model, &self.tokens)
	}
}

/// A model loaded once (memory-mapped) and shared by every clone of this handle, with the thread
/// pool its forward passes run on.
#[derive(Clone)]
pub struct Model {
	pub(crate) weights: Arc<Weights>,
	pub(crate) pool: Arc<rayon::ThreadPool>,
	/// The device the matrix products run on, when not the CPU.
	pub(crate) gpu: Option<Arc<GpuMatvec>>,
}

fn metadata_f32_bits(file: &GgufFile, key: &str, default: Option<f32>) -> Result<u32> {
	match file.metadata.get(key) {
		Some(Value::F32(v)) => Ok(v.to_bits()),
		None => default
			.map(f32::to_bits)
			.ok_or_else(|| EngineError::BadMetadata { key: key.into(), reason: "missing".into() }),
		Some(_) => Err(EngineError::BadMetadata { key: key.into(), reason: "not an f32".into() }),
	}
}

fn usize_of(file: &GgufFile, key: &str) -> Result<usize> {
	let value = file.metadata_u64(key)?;
	usize::try_from(value)
		.ok()
		.filter(|v| *v > 0)
		.ok_or_else(|| EngineError::BadMetadata { key: key.into(), reason: format!("{value}") })
}

impl Config {
	fn from_file(file: &GgufFile) -> Result<Self> {
		let arch = file.architecture()?.to_string();
		let key = |name: &str| format!("{arch}.{name}");
		let dim = usize_of(file, &key("embedding_length"))?;
		let heads = usize_of(file, &key("attention.head_count"))?;
		let kv_heads = match file.metadata.get(&key("attention.head_count_kv")) {
			None => heads,
			Some(_) => usize_of(file, &key("attention.head_count_kv"))?,
		};
		let bad =
			|k: &str, reason: &str| EngineError::BadMetadata { key: key(k), reason: reason.into() };
		if dim % heads != 0 || heads % kv_heads != 0 {
			return Err(bad("attention.head_count", "heads do not divide the width"));
		}
		let head_dim = dim / heads;
		let rope_dims = match file.metadata.get(&key("rope.dimension_count")) {
			None => head_dim,
			Some(_) => usize_of(file, &key("rope.dimension_count"))?,
		};
		if rope_dims > head_dim || rope_dims % 2 != 0 {
			return Err(bad("rope.dimension_count", "not an even count within a head"));
		}
		let embedding = file.tensor("token_embd.weight");
		let vocab = match file.metadata.get(&key("vocab_size")) {
			Some(_) => usize_of(file, &key("vocab_size"))?,
			None => embedding
				.and_then(|t| t.dims.get(1).copied())
				.and_then(|v| usize::try_from(v).ok())
				.ok_or_else(|| EngineError::MissingTensor("token_embd.weight".into()))?,
		};
		let config = Config {
			layers: usize_of(file, &key("block_count"))?,
			dim,
			heads,
			kv_heads,
			head_dim,
			rope_dims,
			ffn: usize_of(file, &key("feed_forward_length"))?,
			vocab,
			context: usize_of(file, &key("context_length"))?,
			rope_base_bits: metadata_f32_bits(file, &key("rope.freq_base"), Some(10000.0))?,
			rms_eps_bits: metadata_f32_bits(
				file,
				&key("attention.layer_norm_rms_epsilon"),
				Some(1e-5),
			)?,
		};
		if !config.dim.is_multiple_of(32)
			|| !config.ffn.is_multiple_of(32)
			|| !config.head_dim.is_multiple_of(32)
		{
			return Err(bad("embedding_length", "widths must be multiples of 32"));
		}
		Ok(config)
	}

	/// Width of the key and value vectors.
	pub fn kv_dim(&self) -> usize {
		self.kv_heads * self.head_dim
	}
}

fn matrix(file: &GgufFile, name: &str, cols: usize, rows: usize) -> Result<Matrix> {
	let info = file.tensor(name).ok_or_else(|| EngineError::MissingTensor(name.into()))?;
	if info.dims != [cols as u64, rows as u64] {
		return Err(EngineError::BadTensor {
			tensor: name.into(),
			reason: format!("dimensions {:?}, expected [{cols}, {rows}]", info.dims),
		});
	}
	if !matches!(info.tensor_type, TensorType::Q4_1 | TensorType::Q8_0) {
		return Err(EngineError::BadTensor {
			tensor: name.into(),
			reason: format!(
				"type {:?}: the integer path runs Q4_1 and Q8_0 matrices",
				info.tensor_type
			),
		});
	}
	Ok(Matrix { info: info.clone(), rows, cols })
}

fn norm(file: &GgufFile, name: &str, dim: usize) -> Result<Norm> {
	let info = file.tensor(name).ok_or_else(|| EngineError::MissingTensor(name.into()))?;
	if info.dims != [dim as u64] || info.tensor_type != TensorType::F32 {
		return Err(EngineError::BadTensor {
			tensor: name.into(),
			reason: format!("expected F32 [{dim}], found {:?} {:?}", info.tensor_type, info.dims),
		});
	}
	let data = file.tensor_data(info).ok_or_else(|| EngineError::MissingTensor(name.into()))?;
	let bits: Vec<u32> =
		data.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
	Ok(Norm {
		f32: bits.iter().map(|b| f32::from_bits(*b)).collect(),
		q24: bits.iter().map(|b| fixed::f32_to_fixed(*b, 24)).collect(),
	})
}

impl Model {
	/// Maps the GGUF file at `path` and prepares it for both forward passes, with a thread pool
	/// of as many threads as the machine has cores.
	pub fn load(path: impl AsRef<Path>) -> Result<Self> {
		Self::from_file(GgufFile::open(path)?)
	}

	/// Like [`Model::load`], after checking that the file's sha256 is `expected` (a worker
	/// serves only the exact file the model registry names).
	pub fn load_verified(path: impl AsRef<Path>, expected: &[u8; 32]) -> Result<Self> {
		let found = file_sha256(path.as_ref())?;
		if &found != expected {
			return Err(EngineError::HashMismatch {
				path: path.as_ref().display().to_string(),
				expected: hex::encode(expected),
				found: hex::encode(found),
			});
		}
		Self::load(path)
	}

	/// Prepares an opened GGUF file.
	pub fn from_file(file: GgufFile) -> Result<Self> {
		let config = Config::from_file(&file)?;
		let tokenizer = Tokenizer::from_gguf(&file)?;
		let c = &config;
		let embedding = matrix(&file, "token_embd.weight", c.dim, c.vocab)?;
		let output = match file.tensor("output.weight") {
			Some(_) => matrix(&file, "output.weight", c.dim, c.vocab)?,
			None => embedding.clone(),
		};
		let output_norm = norm(&file, "output_norm.weight", c.dim)?;
		let kv = c.kv_dim();
		let layers = (0..c.layers)
			.map(|l| {
				let name = |t: &str| format!("blk.{l}.{t}.weight");
				Ok(Layer {
					attn_norm: norm(&file, &name("attn_norm"), c.dim)?,
					q: matrix(&file, &name("attn_q"), c.dim, c.dim)?,
					k: matrix(&file, &name("attn_k"), c.dim, kv)?,
					v: matrix(&file, &name("attn_v"), c.dim, kv)?,
					o: matrix(&file, &name("attn_output"), c.dim, c.dim)?,
					ffn_norm: norm(&file, &name("ffn_norm"), c.dim)?,
					gate: matrix(&file, &name("ffn_gate"), c.dim, c.ffn)?,
					up: matrix(&file, &name("ffn_up"), c.dim, c.ffn)?,
					down: matrix(&file, &name("ffn_down"), c.ffn, c.dim)?,
				})
			})
			.collect::<Result<Vec<_>>>()?;
		let exp2 = fixed::exp2_table();
		let log2_base =
			fixed::log2_f32_q32(c.rope_base_bits).filter(|v| *v > 0).ok_or_else(|| {
				EngineError::BadMetadata {
					key: "rope.freq_base".into(),
					reason: "must be finite and above 1".into(),
				}
			})?;
		// freq_i = base^(-2i/rope_dims) = 2^(-(2i/rope_dims) log2 base).
		let rope_freq_q62 = (0..c.rope_dims / 2)
			.map(|i| {
				let u = fixed::div_round_i128(
					i128::from(log2_base) * 2 * i as i128,
					c.rope_dims as i128,
				);
				fixed::exp2_neg_q62(&exp2, u as u64)
			})
			.collect();
		let eps_q32 = fixed::f32_to_fixed(c.rms_eps_bits, 32).max(0);
		let weights = Weights {
			exp2,
			rope_freq_q62,
			eps_q32,
			file,
			config,
			tokenizer,
			embedding,
			output,
			output_norm,
			layers,
		};
		let pool = build_pool(0)?;
		Ok(Self { weights: Arc::new(weights), pool: Arc::new(pool), gpu: None })
	}

	/// This model (shared, not copied) on a pool of `threads` threads; 0 means one per core.
	pub fn with_threads(&self, threads: usize) -> Result<Self> {
		Ok(Self { pool: Arc::new(build_pool(threads)?), ..self.clone() })
	}

	/// This model (shared, not copied) with its matrix products on `backend`; for a GPU the
	/// matrices are uploaded to the device once, here.
	pub fn with_backend(&self, backend: &Backend) -> Result<Self> {
		let gpu = match backend {
			Backend::Cpu => None,
			Backend::Gpu(choice) => Some(Arc::new(GpuMatvec::new(&self.weights, choice)?)),
		};
		Ok(Self { gpu, ..self.clone() })
	}

	/// Where the matrix products run, in words (`cpu (2 threads)`, `gpu: NVIDIA H100 (Vulkan)`).
	pub fn backend_description(&self) -> String {
		match &self.gpu {
			None => format!("cpu ({} threads)", self.threads()),
			Some(gpu) => {
				let adapter = gpu.adapter();
				format!("gpu: {} ({}, {})", adapter.name, adapter.kind, adapter.api)
			},
		}
	}

	/// Bytes of weights one decode step reads: every matrix of every layer, the output head,
	/// one embedding row and the norm vectors (the roofline's numerator).
	pub fn weight_bytes_per_token(&self) -> u64 {
		let w = &self.weights;
		let c = &w.config;
		let norms = (2 * w.layers.len() as u64 + 1) * c.dim as u64 * 4;
		let embedding_row = w.embedding.info.len / c.vocab as u64;
		w.matrices().map(|m| m.info.len).sum::<u64>() + embedding_row + norms
	}

	/// `W x` for each matrix, on this model's backend.
	pub(crate) fn matvecs<const N: usize>(
		&self,
		matrices: [&Matrix; N],
		x: &QuantVec,
	) -> Result<[Vec<i32>; N]> {
		match &self.gpu {
			None => Ok(crate::integer::matvecs(&self.weights, matrices, x)),
			Some(gpu) => gpu.matvecs(&matrices, x)?.try_into().map_err(|_| {
				EngineError::Gpu(GpuError::Device("wrong number of products returned".into()))
			}),
		}
	}

	/// Threads of the pool.
	pub fn threads(&self) -> usize {
		self.pool.current_num_threads()
	}

	/// The model's configuration.
	pub fn config(&self) -> &Config {
		&self.weights.config
	}

	/// The model's tokenizer.
	pub fn tokenizer(&self) -> &Tokenizer {
		&self.weights.tokenizer
	}

	/// A fresh integer-path session (empty KV cache).
	pub fn integer_session(&self) -> IntegerSession {
		IntegerSession::new(self.clone())
	}

	/// A fresh float-reference session (empty KV cache).
	pub fn reference_session(&self) -> ReferenceSession {
		ReferenceSession::new(self.clone())
	}

	fn check_request(&self, prompt: &[u32], max_tokens: usize) -> Result<()> {
		let context = self.config().context;
		if prompt.is_empty() {
			return Err(EngineError::EmptyPrompt);
		}
		if prompt.len() >= context {
			return Err(EngineError::PromptTooLong {
				prompt: prompt.len(),
				context,
				max: context - 1,
			});
		}
		if max_tokens == 0 {
			return Err(EngineError::ZeroMaxTokens);
		}
		if let Some(&token) = prompt.iter().find(|t| **t as usize >= self.config().vocab) {
			return Err(EngineError::TokenOutOfRange { token, vocab: self.config().vocab });
		}
		Ok(())
	}

	/// Generates up to `max_tokens` tokens after `prompt` on the integer path, calling
	/// `on_token` with each token id and the text it completes; stops at the end-of-sequence
	/// token (`<|im_end|>` or the file's eos id) or when the context is full.
	pub fn generate(
		&self,
		prompt: &[u32],
		max_tokens: usize,
		sampling: &Sampling,
		on_token: impl FnMut(u32, &str),
	) -> Result<Generation> {
		self.check_request(prompt, max_tokens)?;
		if let Sampling::TopK { k, temperature_milli, .. } = sampling {
			if *k == 0 || *temperature_milli == 0 {
				return Err(EngineError::BadSampling(
					"k and temperature_milli must be at least 1".into(),
				));
			}
		}
		let mut session = self.integer_session();
		self.run_loop(prompt, max_tokens, on_token, |token| {
			let logits = session.forward(token, None)?;
			// The sampling counter is the position of the token being chosen.
			let position = session.position();
			if position < prompt.len() {
				return Ok(0);
			}
			Ok(crate::integer::choose(&self.weights, &logits, sampling, position as u64))
		})
	}

	/// Greedy generation on the float reference path (tests and benchmarks only).
	pub fn generate_reference(
		&self,
		prompt: &[u32],
		max_tokens: usize,
		on_token: impl FnMut(u32, &str),
	) -> Result<Generation> {
		self.check_request(prompt, max_tokens)?;
		let mut session = self.reference_session();
		self.run_loop(prompt, max_tokens, on_token, |token| {
			let logits = session.forward(token)?;
			Ok(crate::reference::argmax(&logits))
		})
	}

	fn run_loop(
		&self,
		prompt: &[u32],
		max_tokens: usize,
		mut on_token: impl FnMut(u32, &str),
		mut step: impl FnMut(u32) -> Result<u32>,
	) -> Result<Generation> {
		let tokenizer = self.tokenizer();
		let im_end = tokenizer.token_id("<|im_end|>");
		let eos = tokenizer.eos_id();
		let context = self.config().context;
		let (last, rest) = prompt.split_last().ok_or(EngineError::EmptyPrompt)?;
		for &token in rest {
			step(token)?;
		}
		let mut next = step(*last)?;
		let mut tokens = Vec::new();
		let mut decoder = tokenizer.decoder();
		let mut text = String::new();
		let stop = loop {
			if Some(next) == eos || Some(next) == im_end {
				break StopReason::Eos;
			}
			tokens.push(next);
			let piece = decoder.push(next)?;
			text.push_str(&piece);
			on_token(next, &piece);
			if tokens.len() >= max_tokens {
				break StopReason::MaxTokens;
			}
			if prompt.len() + tokens.len() >= context {
				break StopReason::Context;
			}
			next = step(next)?;
		};
		text.push_str(&decoder.finish());
		Ok(Generation { tokens, text, stop })
	}
}

/// The sha256 of a file, read in chunks.
pub fn file_sha256(path: &Path) -> Result<[u8; 32]> {
	commons_gguf::file_sha256(path)
		.map_err(|e| EngineError::Read { path: path.display().to_string(), reason: e.to_string() })
}

fn build_pool(threads: usize) -> Result<rayon::ThreadPool> {
	rayon::ThreadPoolBuilder::new()
		.num_threads(threads)
		.build()
		.map_err(|e| EngineError::ThreadPool(e.to_string()))
}
