//! The float reference forward pass: f32 with weights dequantised exactly as ggml defines the
//! block formats. A quality oracle for tests and benchmarks, never used for a commitment.

use rayon::prelude::*;

use crate::{
	gguf::TensorType,
	model::{EngineError, Matrix, Model, Norm, Result, Weights},
};

const BLOCK: usize = 32;

/// An f16 bit pattern as f32.
pub fn f16_to_f32(bits: u16) -> f32 {
	let sign = if bits >> 15 == 1 { -1.0f32 } else { 1.0 };
	let exponent = i32::from((bits >> 10) & 0x1f);
	let fraction = f32::from(bits & 0x3ff);
	match exponent {
		0 => sign * fraction * 2f32.powi(-24),
		31 if fraction == 0.0 => sign * f32::INFINITY,
		31 => f32::NAN,
		_ => sign * (1.0 + fraction / 1024.0) * 2f32.powi(exponent - 15),
	}
}

fn f16_at(bytes: &[u8], at: usize) -> f32 {
	f16_to_f32(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

/// Dequantises one row of `ty` into `out`.
pub fn dequantize_row(ty: TensorType, row: &[u8], out: &mut [f32]) {
	match ty {
		TensorType::F32 => {
			for (o, b) in out.iter_mut().zip(row.chunks_exact(4)) {
				*o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
			}
		},
		TensorType::F16 => {
			for (o, b) in out.iter_mut().zip(row.chunks_exact(2)) {
				*o = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
			}
		},
		TensorType::Q8_0 => {
			for (o, block) in out.chunks_exact_mut(BLOCK).zip(row.chunks_exact(34)) {
				let d = f16_at(block, 0);
				for (o, q) in o.iter_mut().zip(&block[2..]) {
					*o = d * f32::from(*q as i8);
				}
			}
		},
		TensorType::Q4_1 => {
			for (o, block) in out.chunks_exact_mut(BLOCK).zip(row.chunks_exact(20)) {
				let d = f16_at(block, 0);
				let m = f16_at(block, 2);
				let (lo, hi) = o.split_at_mut(16);
				for ((l, h), q) in lo.iter_mut().zip(hi).zip(&block[4..]) {
					*l = d * f32::from(q & 0x0f) + m;
					*h = d * f32::from(q >> 4) + m;
				}
			}
		},
	}
}

/// One row times `x`: for quantised rows, per block `d * sum(q x) + m * sum(x)`, which is the
/// dot product of the dequantised row up to float summation order.
fn row_dot(ty: TensorType, row: &[u8], x: &[f32], scratch: &mut [f32]) -> f32 {
	match ty {
		TensorType::Q8_0 => {
			// Sixteen lanes so that the loop vectorises; summed at the end.
			let mut lanes = [0f32; 16];
			for (block, x) in row.chunks_exact(34).zip(x.chunks_exact(BLOCK)) {
				let d = f16_at(block, 0);
				let (lo, hi) = x.split_at(16);
				let (qlo, qhi) = block[2..].split_at(16);
				for j in 0..16 {
					lanes[j] +=
						d * (f32::from(qlo[j] as i8) * lo[j] + f32::from(qhi[j] as i8) * hi[j]);
				}
			}
			lanes.iter().sum()
		},
		TensorType::Q4_1 => {
			let mut lanes = [0f32; 16];
			for (block, x) in row.chunks_exact(20).zip(x.chunks_exact(BLOCK)) {
				let d = f16_at(block, 0);
				let m = f16_at(block, 2);
				let (lo, hi) = x.split_at(16);
				let q = &block[4..20];
				for j in 0..16 {
					lanes[j] += d * (f32::from(q[j] & 0x0f) * lo[j] + f32::from(q[j] >> 4) * hi[j])
						+ m * (lo[j] + hi[j]);
				}
			}
			lanes.iter().sum()
		},
		TensorType::F32 | TensorType::F16 => {
			dequantize_row(ty, row, scratch);
			scratch.iter().zip(x).map(|(a, b)| a * b).sum()
		},
	}
}

fn matvec(w: &Weights, m: &Matrix, x: &[f32]) -> Vec<f32> {
	let data = w.data(m);
	let ty = m.info.tensor_type;
	let row_bytes = m.cols / ty.block_len() as usize * ty.block_bytes() as usize;
	let mut out = vec![0f32; m.rows];
	out.par_chunks_mut(32).enumerate().for_each(|(task, chunk)| {
		let mut scratch = vec![0f32; m.cols];
		for (i, y) in chunk.iter_mut().enumerate() {
			let r = task * 32 + i;
			*y = row_dot(ty, &data[r * row_bytes..(r + 1) * row_bytes], x, &mut scratch);
		}
	});
	out
}

fn rms_norm(x: &[f32], norm: &Norm, eps: f32) -> Vec<f32> {
	let ms = x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32;
	let scale = 1.0 / (ms + eps).sqrt();
	x.iter().zip(&norm.f32).map(|(v, w)| v * scale * w).collect()
}

/// The highest logit, ties to the lowest id.
pub fn argmax(logits: &[f32]) -> u32 {
	let mut best = 0usize;
	for (i, v) in logits.iter().enumerate() {
		if *v > logits[best] {
			best = i;
		}
	}
	best as u32
}

/// Sees the residual stream after each layer: `(layer, values)`.
pub type ReferenceTrace<'a> = &'a mut (dyn FnMut(usize, &[f32]) + Send);

/// The float path with its KV cache.
pub struct ReferenceSession {
	model: Model,
	keys: Vec<Vec<f32>>,
	values: Vec<Vec<f32>>,
	pos: usize,
}

impl ReferenceSession {
	pub(crate) fn new(model: Model) -> Self {
		let layers = model.weights.config.layers;
		Self { model, keys: vec![Vec::new(); layers], values: vec![Vec::new(); layers], pos: 0 }
	}

	/// Runs `token` at the next position and returns the logits.
	pub fn forward(&mut self, token: u32) -> Result<Vec<f32>> {
		self.forward_traced(token, None)
	}

	/// [`Self::forward`], with `trace` seeing the residual stream after each layer.
	pub fn forward_traced(
		&mut self,
		token: u32,
		trace: Option<ReferenceTrace<'_>>,
	) -> Result<Vec<f32>> {
		let model = self.model.clone();
		model.pool.install(|| self.forward_inner(token, trace))
	}

	fn forward_inner(
		&mut self,
		token: u32,
		mut trace: Option<ReferenceTrace<'_>>,
	) -> Result<Vec<f32>> {
		let w: &Weights = &self.model.weights;
		let c = &w.config;
		if token as usize >= c.vocab {
			return Err(EngineError::TokenOutOfRange { token, vocab: c.vocab });
		}
		if self.pos >= c.context {
			return Err(EngineError::ContextFull(c.context));
		}
		let pos = self.pos;
		let eps = f32::from_bits(c.rms_eps_bits);
		let base = f64::from(f32::from_bits(c.rope_base_bits));
		let e = &w.embedding;
		let ty = e.info.tensor_type;
		let row_bytes = e.cols / ty.block_len() as usize * ty.block_bytes() as usize;
		let mut x = vec![0f32; c.dim];
		let t = token as usize;
		dequantize_row(ty, &w.data(e)[t * row_bytes..(t + 1) * row_bytes], &mut x);
		let rot: Vec<(f32, f32)> = (0..c.rope_dims / 2)
			.map(|i| {
				let angle = pos as f64 * base.powf(-2.0 * i as f64 / c.rope_dims as f64);
				(angle.sin() as f32, angle.cos() as f32)
			})
			.collect();
		let rope = |v: &mut [f32]| {
			for head in v.chunks_exact_mut(c.head_dim) {
				for (pair, (s, co)) in head.chunks_exact_mut(2).zip(&rot) {
					let (a, b) = (pair[0], pair[1]);
					pair[0] = a * co - b * s;
					pair[1] = a * s + b * co;
				}
			}
		};
		let kv_dim = c.kv_dim();
		let group = c.heads / c.kv_heads;
		let scale = 1.0 / (c.head_dim as f32).sqrt();
		for (l, layer) in w.layers.iter().enumerate() {
			let h = rms_norm(&x, &layer.attn_norm, eps);
			let mut q = matvec(w, &layer.q, &h);
			let mut k = matvec(w, &layer.k, &h);
			let v = matvec(w, &layer.v, &h);
			rope(&mut q);
			rope(&mut k);
			self.keys[l].extend_from_slice(&k);
			self.values[l].extend_from_slice(&v);
			let (keys, values) = (&self.keys[l], &self.values[l]);
			let mut attn = vec![0f32; c.dim];
			for (head, out) in attn.chunks_exact_mut(c.head_dim).enumerate() {
				let qh = &q[head * c.head_dim..(head + 1) * c.head_dim];
				let off = (head / group) * c.head_dim;
				let scores: Vec<f32> = (0..=pos)
					.map(|j| {
						let kj = &keys[j * kv_dim + off..j * kv_dim + off + c.head_dim];
						qh.iter().zip(kj).map(|(a, b)| a * b).sum::<f32>() * scale
					})
					.collect();
				let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
				let probs: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
				let total: f32 = probs.iter().sum();
				for (i, o) in out.iter_mut().enumerate() {
					*o = probs
						.iter()
						.enumerate()
						.map(|(j, p)| p * values[j * kv_dim + off + i])
						.sum::<f32>() / total;
				}
			}
			let o = matvec(w, &layer.o, &attn);
			x.iter_mut().zip(&o).for_each(|(a, b)| *a += b);
			let h = rms_norm(&x, &layer.ffn_norm, eps);
			let gate = matvec(w, &layer.gate, &h);
			let up = matvec(w, &layer.up, &h);
			let act: Vec<f32> =
				gate.iter().zip(&up).map(|(g, u)| g / (1.0 + (-g).exp()) * u).collect();
			let down = matvec(w, &layer.down, &act);
			x.iter_mut().zip(&down).for_each(|(a, b)| *a += b);
			if let Some(trace) = trace.as_mut() {
				trace(l, &x);
			}
		}
		let logits = matvec(w, &w.output, &rms_norm(&x, &w.output_norm, eps));
		self.pos += 1;
		Ok(logits)
	}
}
