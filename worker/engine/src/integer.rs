//! The integer-only forward pass: the path whose output every backend must match bit for bit.
//! `DETERMINISM.md` is its specification; nothing here touches a float.

use rayon::prelude::*;

use crate::{
	fixed::{self, clamp_i32, div_round_i128, shr_round_i128, shr_round_i64},
	gguf::TensorType,
	model::{EngineError, Matrix, Model, Norm, Result, Sampling, Weights},
};

/// Elements per quantisation block.
pub const BLOCK: usize = 32;
/// Output rows per parallel task.
const ROWS_PER_TASK: usize = 32;

/// A Q16.16 vector quantised to two int8 levels per block of 32:
/// `x = (q1 amax1 + q2 amax2 / 127) / 127` up to the rounding of `q2`, where
/// `q1 = round(127 x / amax1)` with `amax1 = max |x|`, and `q2 = round(127 r / amax2)` quantises
/// the exact remainder `r = 127 x - q1 amax1` with `amax2 = max |r|`.
pub struct QuantVec {
	pub(crate) q1: Vec<i8>,
	pub(crate) q2: Vec<i8>,
	/// Per block `127 amax1`.
	pub(crate) scale1: Vec<i64>,
	/// Per block `amax2`.
	pub(crate) scale2: Vec<i64>,
	/// Per block `sum q1` and `sum q2` (for the Q4_1 minimum).
	pub(crate) sums: Vec<(i64, i64)>,
	/// Per block `T1 127 amax1 + T2 amax2`: what the block's Q4_1 minimum multiplies (below
	/// 2^51).
	pub(crate) min_weights: Vec<i64>,
}

/// One level: `amax = max |x|`, `q = round(127 x / amax)` (all 0 when amax is 0); returns amax
/// and the sum of the quants.
fn quantize_block(x: &[i64; BLOCK], q: &mut [i8; BLOCK]) -> (i64, i64) {
	let amax = x.iter().map(|v| v.abs()).max().unwrap_or(0);
	let mut sum = 0i64;
	if amax > 0 {
		for (v, q) in x.iter().zip(q.iter_mut()) {
			*q = fixed::div_round_i64(127 * v, amax) as i8;
			sum += i64::from(*q);
		}
	}
	(amax, sum)
}

/// Quantises a Q16.16 vector (length a multiple of 32) to two int8 levels per block.
pub fn quantize(x: &[i32]) -> QuantVec {
	let blocks = x.len() / BLOCK;
	let mut out = QuantVec {
		q1: vec![0; blocks * BLOCK],
		q2: vec![0; blocks * BLOCK],
		scale1: Vec::with_capacity(blocks),
		scale2: Vec::with_capacity(blocks),
		sums: Vec::with_capacity(blocks),
		min_weights: Vec::with_capacity(blocks),
	};
	let levels =
		out.q1.as_chunks_mut::<BLOCK>().0.iter_mut().zip(out.q2.as_chunks_mut::<BLOCK>().0);
	for (x, (q1, q2)) in x.as_chunks::<BLOCK>().0.iter().zip(levels) {
		let x: [i64; BLOCK] = x.map(i64::from);
		let (amax1, sum1) = quantize_block(&x, q1);
		let remainder: [i64; BLOCK] =
			core::array::from_fn(|j| 127 * x[j] - i64::from(q1[j]) * amax1);
		let (amax2, sum2) = quantize_block(&remainder, q2);
		out.scale1.push(127 * amax1);
		out.scale2.push(amax2);
		out.sums.push((sum1, sum2));
		out.min_weights.push(sum1 * 127 * amax1 + sum2 * amax2);
	}
	out
}

/// Two int8 dot products of one Q8_0 block's quants with both activation levels.
#[inline]
fn dot_q8(w: &[u8; 32], a1: &[i8; 32], a2: &[i8; 32]) -> (i32, i32) {
	let mut s1 = 0i32;
	let mut s2 = 0i32;
	for j in 0..32 {
		let w = i32::from(w[j] as i8);
		s1 += w * i32::from(a1[j]);
		s2 += w * i32::from(a2[j]);
	}
	(s1, s2)
}

/// Two dot products of one Q4_1 block's quants (low nibbles are elements 0..16, high nibbles
/// 16..32) with both activation levels.
#[inline]
fn dot_q4(w: &[u8; 16], a1: &[i8; 32], a2: &[i8; 32]) -> (i32, i32) {
	let mut s1 = 0i32;
	let mut s2 = 0i32;
	for j in 0..16 {
		let lo = i32::from(w[j] & 0x0f);
		let hi = i32::from(w[j] >> 4);
		s1 += lo * i32::from(a1[j]) + hi * i32::from(a1[j + 16]);
		s2 += lo * i32::from(a2[j]) + hi * i32::from(a2[j + 16]);
	}
	(s1, s2)
}

/// The f16 at `at` in a block, times 2^24 (`fixed::f16_times_2_24`: a multiply-add with a
/// 64-entry table; a table of every pattern, 512 KiB, would miss the cache on nearly every
/// block).
#[inline]
fn f16_at(bytes: &[u8], at: usize) -> i64 {
	fixed::f16_times_2_24(u16::from_le_bytes([bytes[at], bytes[at + 1]]))
}

/// One output row's exact accumulator
/// `sum_b [(D S1 + M T1) 127 amax1 + (D S2 + M T2) amax2]`, where `D`, `M` are the block's f16
/// scale and minimum (0 for Q8_0) times 2^24, `S1`, `S2` the int8 dot products with the two
/// levels and `T1`, `T2` the sums of their quants; summed in i128, in block order. Computed as
/// `D V + M U` with `V = S1 127 amax1 + S2 amax2` (below 2^58) and the vector's own
/// `U = T1 127 amax1 + T2 amax2` in i64: the same integer with two 128-bit products a block.
/// One loop, expanded once with the portable block products and once with the AVX2 ones.
macro_rules! row_accumulator_with {
	($ty:expr, $row:expr, $x:expr, $dot_q8:path, $dot_q4:path) => {{
		let (row, x): (&[u8], &QuantVec) = ($row, $x);
		let levels = x.q1.as_chunks::<BLOCK>().0.iter().zip(x.q2.as_chunks::<BLOCK>().0);
		let scales = x.scale1.iter().zip(&x.scale2).zip(&x.min_weights);
		let mut acc: i128 = 0;
		match $ty {
			TensorType::Q8_0 => {
				for (block, ((a1, a2), ((scale1, scale2), _))) in
					row.as_chunks::<34>().0.iter().zip(levels.zip(scales))
				{
					let Ok(quants) = <&[u8; 32]>::try_from(&block[2..]) else { continue };
					let (s1, s2) = $dot_q8(quants, a1, a2);
					let v = i64::from(s1) * scale1 + i64::from(s2) * scale2;
					acc += i128::from(f16_at(block, 0)) * i128::from(v);
				}
			},
			TensorType::Q4_1 => {
				for (block, ((a1, a2), ((scale1, scale2), u))) in
					row.as_chunks::<20>().0.iter().zip(levels.zip(scales))
				{
					let Ok(quants) = <&[u8; 16]>::try_from(&block[4..]) else { continue };
					let (s1, s2) = $dot_q4(quants, a1, a2);
					let v = i64::from(s1) * scale1 + i64::from(s2) * scale2;
					acc += i128::from(f16_at(block, 0)) * i128::from(v)
						+ i128::from(f16_at(block, 2)) * i128::from(*u);
				}
			},
			// Refused when the model is loaded.
			TensorType::F32 | TensorType::F16 => {},
		}
		acc
	}};
}

/// The row accumulator with the portable block products: the reference the vectorised
/// kernels are tested against, and the path on CPUs without them.
fn row_accumulator_portable(ty: TensorType, row: &[u8], x: &QuantVec) -> i128 {
	row_accumulator_with!(ty, row, x, dot_q8, dot_q4)
}

/// The row accumulator, vectorised where the CPU allows; every kernel computes the same exact
/// integers (the block products cannot overflow), so the choice never changes a bit.
fn row_accumulator(ty: TensorType, row: &[u8], x: &QuantVec) -> i128 {
	#[cfg(target_arch = "x86_64")]
	if std::is_x86_feature_detected!("avx2") {
		#[allow(unsafe_code)]
		// SAFETY: the function's only requirement is AVX2, which the CPU was just seen to have.
		return unsafe { avx2::row_accumulator(ty, row, x) };
	}
	row_accumulator_portable(ty, row, x)
}

/// The block products with AVX2 (`vpmaddubsw`: unsigned 8-bit weights times signed 8-bit
/// activations, adjacent pairs summed into i16; then `vpmaddwd` into i32).
///
/// No intermediate saturates: a Q4_1 pair is at most `2 * 15 * 127`, a Q8_0 pair (weights made
/// unsigned by moving their sign onto the activations) at most `2 * 128 * 127 = 32512`.
#[cfg(target_arch = "x86_64")]
mod avx2 {
	use core::arch::x86_64::*;

	use bytemuck::cast;

	use super::{f16_at, QuantVec, TensorType, BLOCK};

	/// `[S1, S2]` from the i32 partial sums of both levels, reduced with unpacks and adds
	/// (the horizontal adds are microcoded on some CPUs), both sums in one 64-bit move.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn reduce_pair(p1: __m128i, p2: __m128i) -> (i32, i32) {
		// [p1_0 + p1_2, p2_0 + p2_2, p1_1 + p1_3, p2_1 + p2_3]
		let u = _mm_add_epi32(_mm_unpacklo_epi32(p1, p2), _mm_unpackhi_epi32(p1, p2));
		let both = _mm_cvtsi128_si64(_mm_add_epi32(u, _mm_unpackhi_epi64(u, u)));
		(both as i32, (both >> 32) as i32)
	}

	/// The two halves of a 256-bit vector of i32 added: four lanes.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn fold_i32(v: __m256i) -> __m128i {
		_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v))
	}

	#[inline]
	#[target_feature(enable = "avx2")]
	fn dot_q8(w: &[u8; 32], a1: &[i8; 32], a2: &[i8; 32]) -> (i32, i32) {
		let w: __m256i = cast(*w);
		let (a1, a2): (__m256i, __m256i) = (cast(*a1), cast(*a2));
		// Unsigned weights, their signs moved onto the activations.
		let unsigned = _mm256_sign_epi8(w, w);
		let ones = _mm256_set1_epi16(1);
		let p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(unsigned, _mm256_sign_epi8(a1, w)), ones);
		let p2 = _mm256_madd_epi16(_mm256_maddubs_epi16(unsigned, _mm256_sign_epi8(a2, w)), ones);
		reduce_pair(fold_i32(p1), fold_i32(p2))
	}

	/// In 128-bit halves: the low nibbles with activations 0..16, the high ones with 16..32.
	/// The i16 pair sums (at most `2 * 15 * 127`) of both halves are added in i16 (at most
	/// 7620) before one `vpmaddwd` per level widens them.
	#[inline]
	#[target_feature(enable = "avx2")]
	fn dot_q4(w: &[u8; 16], a1: &[i8; 32], a2: &[i8; 32]) -> (i32, i32) {
		let packed: __m128i = cast(*w);
		let mask = _mm_set1_epi8(0x0f);
		let lo = _mm_and_si128(packed, mask);
		let hi = _mm_and_si128(_mm_srli_epi16::<4>(packed), mask);
		let ones = _mm_set1_epi16(1);
		let level = |a: &[i8; 32]| {
			let [first, second]: [__m128i; 2] = cast(*a);
			let pairs = _mm_add_epi16(_mm_maddubs_epi16(lo, first), _mm_maddubs_epi16(hi, second));
			_mm_madd_epi16(pairs, ones)
		};
		reduce_pair(level(a1), level(a2))
	}

	#[target_feature(enable = "avx2")]
	pub(super) fn row_accumulator(ty: TensorType, row: &[u8], x: &QuantVec) -> i128 {
		row_accumulator_with!(ty, row, x, dot_q8, dot_q4)
	}

	#[cfg(test)]
	mod tests {
		use crate::integer::random;

		/// Random blocks, and the extremes: every weight and activation at its bound.
		fn cases() -> Vec<([u8; 32], [i8; 32], [i8; 32])> {
			let mut cases = vec![
				([0x80; 32], [127; 32], [-127; 32]),
				([0x80; 32], [-127; 32], [127; 32]),
				([0xff; 32], [127; 32], [-127; 32]),
				([0x7f; 32], [-127; 32], [-127; 32]),
				([0; 32], [127; 32], [127; 32]),
			];
			for case in 0..2000u64 {
				let byte = |j: u64| (random(case, j) >> 56) as u8;
				// Activations come from `quantize`: always within -127..=127.
				let act = |j: u64| ((random(case, j) % 255) as i64 - 127) as i8;
				cases.push((
					core::array::from_fn(|j| byte(j as u64)),
					core::array::from_fn(|j| act(100 + j as u64)),
					core::array::from_fn(|j| act(200 + j as u64)),
				));
			}
			cases
		}

		#[test]
		fn the_avx2_block_products_equal_the_portable_ones() {
			assert!(
				std::is_x86_feature_detected!("avx2"),
				"this x86-64 CPU has no AVX2: the kernel under test cannot run here"
			);
			for (w, a1, a2) in cases() {
				let Ok(w4) = <[u8; 16]>::try_from(&w[..16]) else { unreachable!() };
				#[allow(unsafe_code)]
				// SAFETY: AVX2 was checked above.
				let (q8, q4) = unsafe { (super::dot_q8(&w, &a1, &a2), super::dot_q4(&w4, &a1, &a2)) };
				assert_eq!(q8, crate::integer::dot_q8(&w, &a1, &a2), "Q8_0 {w:?} {a1:?} {a2:?}");
				assert_eq!(q4, crate::integer::dot_q4(&w4, &a1, &a2), "Q4_1 {w4:?} {a1:?} {a2:?}");
			}
		}
	}
}

/// A row's value in Q16.16 from its accumulator: `round(acc / (127^2 2^24))`, saturated. Both
/// backends finish their rows here.
///
/// Without a 128-bit division (one per output row is a large share of a decode step):
/// rounding half away from zero is `floor((|acc| + d/2) / d)`, and a floor division by
/// `127^2 2^24` is a shift by 24 followed by a division by `127^2`; a quotient of 2^31 or more
/// saturates, so only shifted values below `127^2 2^31` (which fit a u64) are divided.
pub(crate) fn finish_row(acc: i128) -> i32 {
	const SQUARE: u64 = 127 * 127;
	let shifted = (acc.unsigned_abs() + (u128::from(SQUARE) << 23)) >> 24;
	let magnitude = match u64::try_from(shifted) {
		Ok(shifted) if shifted < SQUARE << 31 => shifted / SQUARE,
		_ => 1 << 31,
	};
	if acc < 0 {
		(magnitude as i64).wrapping_neg().max(i64::from(i32::MIN)) as i32
	} else {
		magnitude.min(i32::MAX as u64) as i32
	}
}

/// `y = W x` for each matrix on the CPU, all the products in one parallel region (a region
/// costs a wake-up of every thread; a layer has seven products), each task some rows of one
/// matrix.
pub(crate) fn matvecs<const N: usize>(
	weights: &Weights,
	matrices: [&Matrix; N],
	x: &QuantVec,
) -> [Vec<i32>; N] {
	let mut outs = matrices.map(|m| vec![0i32; m.rows]);
	let tasks: Vec<(&Matrix, usize, &mut [i32])> = matrices
		.iter()
		.zip(outs.iter_mut())
		.flat_map(|(matrix, out)| {
			out.chunks_mut(ROWS_PER_TASK)
				.enumerate()
				.map(move |(task, chunk)| (*matrix, task * ROWS_PER_TASK, chunk))
		})
		.collect();
	tasks.into_par_iter().for_each(|(matrix, first, chunk)| {
		let data = weights.data(matrix);
		let ty = matrix.info.tensor_type;
		let row_bytes = matrix.cols / BLOCK * ty.block_bytes() as usize;
		for (i, y) in chunk.iter_mut().enumerate() {
			let r = first + i;
			*y = finish_row(row_accumulator(ty, &data[r * row_bytes..(r + 1) * row_bytes], x));
		}
	});
	outs
}

/// `sum a_i b_i` exactly, without a 128-bit product per term: `b = 2^16 hi + lo` with
/// `|hi| <= 2^15` and `0 <= lo < 2^16`, so each product is below 2^47 and 2^14 of them sum in
/// an i64 (and in i64 lanes, which vectorise: both factors are 32-bit).
#[inline(always)]
fn dot_exact(a: &[i32], b: &[i32]) -> i128 {
	const TERMS: usize = 1 << 14;
	let mut total = 0i128;
	for (a, b) in a.chunks(TERMS).zip(b.chunks(TERMS)) {
		let (mut hi, mut lo) = (0i64, 0i64);
		for (a, b) in a.iter().zip(b) {
			hi += i64::from(*a) * i64::from(*b >> 16);
			lo += i64::from(*a) * i64::from(*b & 0xffff);
		}
		total += (i128::from(hi) << 16) + i128::from(lo);
	}
	total
}

/// One attention head: `out_i = round(sum_j p_j v_ji / sum_j p_j)`, saturated, with
/// `p_j = exp(s_j - max s)` in Q.30 of the scores `s_j = round(q.k_j inv_sqrt / 2^48)`
/// (Q16.16). `keys` and `values` hold every position, `stride` apart, this head's slice at
/// `offset`. The weighted sums split `v` like `dot_exact`: `p_j < 2^31`, so each product is
/// below 2^47 and 2^16 positions sum in an i64.
///
/// Expanded with AVX2 where the CPU has it, where the 32-bit products run four to an
/// instruction (`vpmuldq`; the baseline x86-64 target has no signed 32-bit vector product); the
/// integers are the same.
fn attend(
	w: &Weights,
	q: &[i32],
	cache: (&[i32], &[i32]),
	layout: (usize, usize),
	inv_sqrt_q32: i128,
	out: &mut [i32],
) {
	#[cfg(target_arch = "x86_64")]
	if std::is_x86_feature_detected!("avx2") {
		#[allow(unsafe_code)]
		// SAFETY: the function's only requirement is AVX2, which the CPU was just seen to have.
		return unsafe { attend_avx2(w, q, cache, layout, inv_sqrt_q32, out) };
	}
	attend_body(w, q, cache, layout, inv_sqrt_q32, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn attend_avx2(
	w: &Weights,
	q: &[i32],
	cache: (&[i32], &[i32]),
	layout: (usize, usize),
	inv_sqrt_q32: i128,
	out: &mut [i32],
) {
	attend_body(w, q, cache, layout, inv_sqrt_q32, out)
}

#[inline(always)]
fn attend_body(
	w: &Weights,
	q: &[i32],
	(keys, values): (&[i32], &[i32]),
	(stride, offset): (usize, usize),
	inv_sqrt_q32: i128,
	out: &mut [i32],
) {
	let head_dim = q.len();
	let positions = keys.len() / stride;
	// Plain loops, not iterator adapters: the adapters are compiled apart from this function
	// and would not get its vector instructions.
	let mut scores = Vec::with_capacity(positions);
	for j in 0..positions {
		let dot = dot_exact(q, &keys[j * stride + offset..][..head_dim]);
		scores.push(shr_round_i128(dot * inv_sqrt_q32, 48) as i64);
	}
	let max = scores.iter().copied().max().unwrap_or(0);
	// At most 2^30: 32-bit factors for the weighted sums.
	let probs: Vec<i32> =
		scores.iter().map(|s| clamp_i32(exp_neg_q30(w, max - s).into())).collect();
	let total: i128 = probs.iter().map(|p| i128::from(*p)).sum();
	let mut acc = vec![0i128; head_dim];
	let (mut hi, mut lo) = (vec![0i64; head_dim], vec![0i64; head_dim]);
	for (chunk, probs) in probs.chunks(1 << 16).enumerate() {
		hi.fill(0);
		lo.fill(0);
		for (j, p) in probs.iter().enumerate() {
			let v = &values[((chunk << 16) + j) * stride + offset..][..head_dim];
			for ((hi, lo), v) in hi.iter_mut().zip(lo.iter_mut()).zip(v) {
				*hi += i64::from(*p) * i64::from(*v >> 16);
				*lo += i64::from(*p) * i64::from(*v & 0xffff);
			}
		}
		for ((acc, hi), lo) in acc.iter_mut().zip(&hi).zip(&lo) {
			*acc += (i128::from(*hi) << 16) + i128::from(*lo);
		}
	}
	for (o, acc) in out.iter_mut().zip(acc) {
		*o = clamp_i32(div_round_i128(acc, total.max(1)));
	}
}

/// RMSNorm in Q16.16: `ms = round(sum x^2 / n)` (Q.32), `rms = isqrt((ms + eps) << 32)` (Q.32),
/// `inv = round(2^80 / rms)` (Q.48), `y = round(round(x w / 2^24) inv / 2^48)`.
pub(crate) fn rms_norm(weights: &Weights, x: &[i32], norm: &Norm) -> Vec<i32> {
	let sum: i128 = x.iter().map(|v| i128::from(*v) * i128::from(*v)).sum();
	let ms = div_round_i128(sum, x.len() as i128) + i128::from(weights.eps_q32);
	let rms = fixed::isqrt_u128((ms as u128) << 32).max(1) as i128;
	let inv = div_round_i128(1i128 << 80, rms);
	x.iter()
		.zip(&norm.q24)
		.map(|(v, w)| {
			let t = shr_round_i128(i128::from(*v) * i128::from(*w), 24);
			clamp_i32(shr_round_i128(t * inv, 48))
		})
		.collect()
}

/// `2^(-u)` in Q.30 for `u >= 0` in Q.32.
#[inline]
fn exp2_neg_q30(weights: &Weights, u: u64) -> i64 {
	shr_round_i64(fixed::exp2_neg_q62(&weights.exp2, u) as i64, 32)
}

/// `e^(-d)` in Q.30 for `d >= 0` in Q16.16: `u = round(d log2e / 2^16)` in Q.32.
#[inline]
fn exp_neg_q30(weights: &Weights, d: i64) -> i64 {
	let u = shr_round_i128(i128::from(d) * i128::from(fixed::LOG2E_Q32), 16);
	exp2_neg_q30(weights, u.clamp(0, i128::from(u64::MAX >> 1)) as u64)
}

/// `silu(g) * u` in Q16.16: `sigmoid` in Q.30 from `e = e^-|g|` (`2^60 / (2^30 + e)` or
/// `e 2^30 / (2^30 + e)`, rounded), `silu = round(g sig / 2^30)`, result `round(silu u / 2^16)`.
fn swiglu(weights: &Weights, gate: &[i32], up: &[i32]) -> Vec<i32> {
	gate.iter()
		.zip(up)
		.map(|(g, u)| {
			let g = i64::from(*g);
			let e = exp_neg_q30(weights, g.abs());
			let denominator = (1 << 30) + e;
			let sig = if g >= 0 {
				fixed::div_round_i64(1 << 60, denominator)
			} else {
				fixed::div_round_i64(e << 30, denominator)
			};
			let silu = shr_round_i128(i128::from(g) * i128::from(sig), 30);
			clamp_i32(shr_round_i128(silu * i128::from(*u), 16))
		})
		.collect()
}

/// `(sin, cos)` in Q.30 of each rotated pair at `pos`: angle `pos * freq` in Q.62.
fn rope_table(weights: &Weights, pos: usize) -> Vec<(i32, i32)> {
	weights.rope_freq_q62.iter().map(|f| fixed::sin_cos_q30(pos as u128 * u128::from(*f))).collect()
}

/// Rotates adjacent pairs `(x[2i], x[2i+1])` of the first `rope_dims` of each head (the llama
/// "normal" RoPE): `x' = round((x0 cos - x1 sin) / 2^30)`, `y' = round((x0 sin + x1 cos) / 2^30)`.
fn rope(x: &mut [i32], head_dim: usize, table: &[(i32, i32)]) {
	for head in x.chunks_exact_mut(head_dim) {
		for (pair, (s, c)) in head.chunks_exact_mut(2).zip(table) {
			let (x0, x1) = (i64::from(pair[0]), i64::from(pair[1]));
			let (s, c) = (i64::from(*s), i64::from(*c));
			pair[0] = clamp_i32(i128::from(shr_round_i64(x0 * c - x1 * s, 30)));
			pair[1] = clamp_i32(i128::from(shr_round_i64(x0 * s + x1 * c, 30)));
		}
	}
}

/// FNV-1a 64 of the little-endian bytes of `values`.
pub fn fnv1a(values: &[i32]) -> u64 {
	let mut hash = 0xcbf2_9ce4_8422_2325u64;
	for v in values {
		for byte in v.to_le_bytes() {
			hash ^= u64::from(byte);
			hash = hash.wrapping_mul(0x0100_0000_01b3);
		}
	}
	hash
}

/// Sees the residual stream (Q16.16) after each layer: `(layer, values)`.
pub type Trace<'a> = &'a mut (dyn FnMut(usize, &[i32]) + Send);

/// The integer path with its KV cache: one token at a time.
pub struct IntegerSession {
	model: Model,
	keys: Vec<Vec<i32>>,
	values: Vec<Vec<i32>>,
	pos: usize,
}

impl IntegerSession {
	pub(crate) fn new(model: Model) -> Self {
		let layers = model.weights.config.layers;
		Self { model, keys: vec![Vec::new(); layers], values: vec![Vec::new(); layers], pos: 0 }
	}

	/// Positions already in the cache.
	pub fn position(&self) -> usize {
		self.pos
	}

	/// Runs `token` at the next position and returns the logits in Q16.16; `trace` sees the
	/// residual stream (Q16.16) after each layer.
	pub fn forward(&mut self, token: u32, trace: Option<Trace<'_>>) -> Result<Vec<i32>> {
		let model = self.model.clone();
		model.pool.install(|| self.forward_inner(token, trace))
	}

	fn forward_inner(&mut self, token: u32, mut trace: Option<Trace<'_>>) -> Result<Vec<i32>> {
		let w: &Weights = &self.model.weights;
		let c = &w.config;
		if token as usize >= c.vocab {
			return Err(EngineError::TokenOutOfRange { token, vocab: c.vocab });
		}
		if self.pos >= c.context {
			return Err(EngineError::ContextFull(c.context));
		}
		let pos = self.pos;
		let mut x = embed(w, token);
		let table = rope_table(w, pos);
		let kv_dim = c.kv_dim();
		let group = c.heads / c.kv_heads;
		let inv_sqrt_q32 = fixed::isqrt_u128((1u128 << 64) / c.head_dim as u128) as i128;
		for (l, layer) in w.layers.iter().enumerate() {
			let h = quantize(&rms_norm(w, &x, &layer.attn_norm));
			let [mut q, mut k, v] = self.model.matvecs([&layer.q, &layer.k, &layer.v], &h)?;
			rope(&mut q, c.head_dim, &table[..c.rope_dims / 2]);
			rope(&mut k, c.head_dim, &table[..c.rope_dims / 2]);
			self.keys[l].extend_from_slice(&k);
			self.values[l].extend_from_slice(&v);
			let cache = (self.keys[l].as_slice(), self.values[l].as_slice());
			let mut attn = vec![0i32; c.dim];
			// The heads are independent: one task each.
			attn.par_chunks_mut(c.head_dim).zip(q.par_chunks(c.head_dim)).enumerate().for_each(
				|(head, (out, qh))| {
					let offset = (head / group) * c.head_dim;
					attend(w, qh, cache, (kv_dim, offset), inv_sqrt_q32, out);
				},
			);
			let [o] = self.model.matvecs([&layer.o], &quantize(&attn))?;
			add(&mut x, &o);
			let h = quantize(&rms_norm(w, &x, &layer.ffn_norm));
			let [gate, up] = self.model.matvecs([&layer.gate, &layer.up], &h)?;
			let [down] = self.model.matvecs([&layer.down], &quantize(&swiglu(w, &gate, &up)))?;
			add(&mut x, &down);
			if let Some(trace) = trace.as_mut() {
				trace(l, &x);
			}
		}
		let [logits] =
			self.model.matvecs([&w.output], &quantize(&rms_norm(w, &x, &w.output_norm)))?;
		self.pos += 1;
		Ok(logits)
	}
}

fn add(x: &mut [i32], y: &[i32]) {
	for (a, b) in x.iter_mut().zip(y) {
		*a = a.saturating_add(*b);
	}
}

/// The token's embedding row in Q16.16: `round(D q / 2^8)`.
fn embed(w: &Weights, token: u32) -> Vec<i32> {
	let m = &w.embedding;
	let ty = m.info.tensor_type;
	let row_bytes = m.cols / BLOCK * ty.block_bytes() as usize;
	let t = token as usize;
	let row = &w.data(m)[t * row_bytes..(t + 1) * row_bytes];
	let mut out = Vec::with_capacity(m.cols);
	match ty {
		TensorType::Q8_0 => {
			for block in row.chunks_exact(34) {
				let d = f16_at(block, 0);
				out.extend(
					block[2..].iter().map(|q| shr_round_i64(d * i64::from(*q as i8), 8) as i32),
				);
			}
		},
		TensorType::Q4_1 => {
			for block in row.chunks_exact(20) {
				let d = f16_at(block, 0);
				let m = f16_at(block, 2);
				let value = |q: u8| shr_round_i64(d * i64::from(q) + m, 8) as i32;
				out.extend(block[4..].iter().map(|b| value(b & 0x0f)));
				out.extend(block[4..].iter().map(|b| value(b >> 4)));
			}
		},
		TensorType::F32 | TensorType::F16 => out.resize(m.cols, 0),
	}
	out
}

/// The highest logit, ties to the lowest id.
pub fn argmax(logits: &[i32]) -> u32 {
	let mut best = 0usize;
	for (i, v) in logits.iter().enumerate() {
		if *v > logits[best] {
			best = i;
		}
	}
	best as u32
}

/// SplitMix64 of `seed + counter * golden`: the counter-based generator of sampling.
pub fn random(seed: u64, counter: u64) -> u64 {
	let mut z = seed.wrapping_add(counter.wrapping_mul(0x9e37_79b9_7f4a_7c15));
	z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
	z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
	z ^ (z >> 31)
}

/// Chooses the next token: greedy, or top-k at temperature `t` (thousandths): candidates sorted
/// by logit descending then id ascending; weight `e^(-(max - l) * 1000 / t)` in Q.30 with the
/// difference `round((max - l) * 1000 / t)` in Q16.16; the cumulative sum `C` (i64); the pick is
/// the first candidate whose cumulative weight exceeds `(random(seed, counter) * C) >> 64`.
pub(crate) fn choose(w: &Weights, logits: &[i32], sampling: &Sampling, counter: u64) -> u32 {
	match sampling {
		Sampling::Greedy => argmax(logits),
		Sampling::TopK { k, temperature_milli, seed } => {
			let mut ids: Vec<u32> = (0..logits.len() as u32).collect();
			ids.sort_by(|a, b| logits[*b as usize].cmp(&logits[*a as usize]).then(a.cmp(b)));
			ids.truncate((*k).max(1));
			let max = i64::from(logits[ids[0] as usize]);
			let t = i64::from((*temperature_milli).max(1));
			let mut cumulative = Vec::with_capacity(ids.len());
			let mut total = 0i64;
			for id in &ids {
				let d = fixed::div_round_i64((max - i64::from(logits[*id as usize])) * 1000, t);
				total += exp_neg_q30(w, d);
				cumulative.push(total);
			}
			let r = ((u128::from(random(*seed, counter)) * total as u128) >> 64) as i64;
			let pick = cumulative.iter().position(|c| *c > r).unwrap_or(0);
			ids[pick]
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn two_levels_reconstruct_the_input_closely() {
		let x: Vec<i32> = (0..64).map(|i| (i * 7919 % 200_003 - 100_000) * (1 + i % 3)).collect();
		let q = quantize(&x);
		for (b, block) in x.chunks_exact(BLOCK).enumerate() {
			for (j, v) in block.iter().enumerate() {
				let i = b * BLOCK + j;
				// x ≈ (q1 127 amax1 + q2 amax2) / 127^2
				let back = (i128::from(q.q1[i]) * i128::from(q.scale1[b])
					+ i128::from(q.q2[i]) * i128::from(q.scale2[b])) as f64
					/ (127.0 * 127.0);
				let amax = block.iter().map(|v| v.abs()).max().unwrap() as f64;
				assert!((back - *v as f64).abs() <= amax / (127.0 * 254.0) + 1.0, "{i}");
			}
		}
	}

	/// The accumulator exactly as `DETERMINISM.md` writes it, one block at a time.
	fn specified_accumulator(ty: TensorType, row: &[u8], x: &QuantVec) -> i128 {
		let bytes = ty.block_bytes() as usize;
		let mut acc = 0i128;
		for (b, block) in row.chunks_exact(bytes).enumerate() {
			let (a1, a2) = (&x.q1[b * BLOCK..][..BLOCK], &x.q2[b * BLOCK..][..BLOCK]);
			let (d, m, w) = match ty {
				TensorType::Q8_0 => (f16_at(block, 0), 0, &block[2..]),
				_ => (f16_at(block, 0), f16_at(block, 2), &block[4..]),
			};
			let weight = |j: usize| match ty {
				TensorType::Q8_0 => i64::from(w[j] as i8),
				_ => i64::from(if j < 16 { w[j] & 0x0f } else { w[j - 16] >> 4 }),
			};
			let s1: i64 = (0..BLOCK).map(|j| weight(j) * i64::from(a1[j])).sum();
			let s2: i64 = (0..BLOCK).map(|j| weight(j) * i64::from(a2[j])).sum();
			let (t1, t2) = x.sums[b];
			acc += i128::from(d * s1 + m * t1) * i128::from(x.scale1[b])
				+ i128::from(d * s2 + m * t2) * i128::from(x.scale2[b]);
		}
		acc
	}

	#[test]
	fn every_row_kernel_computes_the_specified_accumulator() {
		// Even and odd block counts; random scales (any f16, including the largest), quants
		// and activations of every size.
		for (case, blocks) in [1usize, 2, 3, 18, 48, 7].into_iter().enumerate() {
			let case = case as u64;
			let x: Vec<i32> = (0..blocks * BLOCK)
				.map(|j| (random(case, j as u64) >> (33 + j % 24)) as i32 - (1 << (30 - j % 24)))
				.collect();
			let x = quantize(&x);
			for ty in [TensorType::Q8_0, TensorType::Q4_1] {
				let row: Vec<u8> = (0..blocks * ty.block_bytes() as usize)
					.map(|j| (random(case + 100, j as u64) >> 56) as u8)
					.collect();
				let expected = specified_accumulator(ty, &row, &x);
				assert_eq!(row_accumulator_portable(ty, &row, &x), expected, "{ty:?} {blocks}");
				assert_eq!(row_accumulator(ty, &row, &x), expected, "{ty:?} {blocks}");
			}
		}
	}

	#[test]
	fn finishing_a_row_equals_the_rounded_saturated_division() {
		let d: i128 = (127 * 127) << 24;
		let reference = |acc: i128| clamp_i32(div_round_i128(acc, d));
		// The reference's `|acc| + d/2` overflows near i128's ends; accumulators stay far below
		// (DETERMINISM.md), so the cases do too.
		let mut cases = vec![0, 1, -1, i128::MAX >> 1, -(i128::MAX >> 1)];
		for k in [0i128, 1, 2, 3, 1000, (1 << 31) - 1, 1 << 31, (1 << 31) + 1, 1 << 40] {
			for base in [k * d, k * d + d / 2, (2 * k + 1) * d / 2] {
				cases.extend([base - 1, base, base + 1].iter().flat_map(|v| [*v, -*v]));
			}
		}
		for i in 0..20_000u64 {
			let wide = (i128::from(random(7, i)) << 64 | i128::from(random(8, i))) >> (1 + i % 100);
			cases.push(wide);
		}
		for acc in cases {
			assert_eq!(finish_row(acc), reference(acc), "{acc}");
		}
	}

	#[test]
	fn argmax_ties_go_to_the_lowest_id() {
		assert_eq!(argmax(&[1, 5, 5, 2]), 1);
		assert_eq!(argmax(&[-3, -3]), 0);
	}

	#[test]
	fn the_sampling_generator_is_fixed() {
		assert_eq!(random(0, 1), random(0, 1));
		assert_ne!(random(0, 1), random(0, 2));
		assert_ne!(random(1, 1), random(0, 1));
	}
}
