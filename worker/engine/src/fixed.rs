//! Fixed-point arithmetic of the integer path: rounding, exact conversion of IEEE scales to
//! integers, and the integer algorithms for `2^-x`, `log2`, `sin` and `cos`.
//!
//! Nothing here uses a float operation: floats from the file are read as bit patterns and taken
//! apart into an integer mantissa and a power of two. The rules are written down in
//! `DETERMINISM.md`; every rounding is half away from zero.

/// `ln 2` in Q2.62.
pub const LN2_Q62: u128 = 3_196_577_161_300_663_915;
/// `log2 e` in Q.32.
pub const LOG2E_Q32: i64 = 6_196_328_019;
/// `pi / 2` in Q2.62.
pub const HALF_PI_Q62: u128 = 7_244_019_458_077_122_842;
/// `1.0` in Q.62.
pub const ONE_Q62: u128 = 1 << 62;

/// `n / d` rounded half away from zero; `d > 0`.
#[inline]
pub fn div_round_i128(n: i128, d: i128) -> i128 {
	debug_assert!(d > 0);
	if n >= 0 {
		(n + d / 2) / d
	} else {
		-((-n + d / 2) / d)
	}
}

/// `n / d` rounded half away from zero; `d > 0`.
#[inline]
pub fn div_round_i64(n: i64, d: i64) -> i64 {
	debug_assert!(d > 0);
	if n >= 0 {
		(n + d / 2) / d
	} else {
		-((-n + d / 2) / d)
	}
}

/// `n / 2^s` rounded half away from zero; `1 <= s <= 126`.
#[inline]
pub fn shr_round_i128(n: i128, s: u32) -> i128 {
	let half = 1i128 << (s - 1);
	if n >= 0 {
		(n + half) >> s
	} else {
		-((-n + half) >> s)
	}
}

/// `n / 2^s` rounded half away from zero; `1 <= s <= 62`.
#[inline]
pub fn shr_round_i64(n: i64, s: u32) -> i64 {
	let half = 1i64 << (s - 1);
	if n >= 0 {
		(n + half) >> s
	} else {
		-((-n + half) >> s)
	}
}

/// Saturates to `i32`.
#[inline]
pub fn clamp_i32(v: i128) -> i32 {
	v.clamp(i32::MIN.into(), i32::MAX.into()) as i32
}

/// Per high byte of an f16 (sign, exponent and the top two fraction bits), `(P, Q)` with
/// `F(bits) = low_byte * P + Q`. For the exponent `e`: `P = ±2^(e-1)` when it is normal (the
/// implicit bit adds `0x400 P`), `±1` for subnormals, 0 for infinities and NaN (with `Q` 0);
/// `Q` also holds the top fraction bits times `P`.
const F16_BY_HIGH_BYTE: [(i64, i64); 256] = {
	let mut parts = [(0i64, 0i64); 256];
	let mut high = 0;
	while high < 256 {
		let exponent = (high >> 2) & 31;
		let (p, implicit) = match exponent {
			0 => (1, 0),
			31 => (0, 0),
			_ => (1i64 << (exponent - 1), 0x400),
		};
		let q = (((high as i64 & 3) << 8) + implicit) * p;
		parts[high] = if high >= 128 { (-p, -q) } else { (p, q) };
		high += 1;
	}
	parts
};

/// An IEEE f16 bit pattern times `2^24`, exactly (every finite f16 is an integer multiple of
/// `2^-24`; the largest, 65504, times `2^24` is below `2^40`). Infinities and NaN give 0.
///
/// Without a branch: one multiply-add with a 4 KiB table indexed by the high byte (it stays
/// in the L1 cache, where a table of every pattern would not); the matrix products decode two
/// of these per block.
#[inline]
pub fn f16_times_2_24(bits: u16) -> i64 {
	let [low, high] = bits.to_le_bytes();
	let (p, q) = F16_BY_HIGH_BYTE[usize::from(high)];
	i64::from(low) * p + q
}

/// An IEEE f32 bit pattern as `(mantissa, exponent)` with value `mantissa * 2^exponent`
/// exactly; infinities and NaN give `(0, 0)`.
pub fn f32_parts(bits: u32) -> (i64, i32) {
	let sign = bits >> 31;
	let exponent = ((bits >> 23) & 0xff) as i32;
	let fraction = i64::from(bits & 0x7f_ffff);
	let (mantissa, power) = match exponent {
		0 => (fraction, -149),
		255 => (0, 0),
		_ => (fraction | 0x80_0000, exponent - 150),
	};
	(if sign == 1 { -mantissa } else { mantissa }, power)
}

/// An f32 bit pattern in fixed point with `frac` fractional bits, rounded half away from zero
/// and saturated to `i64`.
pub fn f32_to_fixed(bits: u32, frac: i32) -> i64 {
	let (mantissa, power) = f32_parts(bits);
	let shift = power + frac;
	let value: i128 = if shift >= 0 {
		if shift > 60 {
			return if mantissa >= 0 { i64::MAX } else { i64::MIN };
		}
		i128::from(mantissa) << shift
	} else if shift < -100 {
		0
	} else {
		shr_round_i128(i128::from(mantissa), (-shift) as u32)
	};
	value.clamp(i64::MIN.into(), i64::MAX.into()) as i64
}

/// `2^(-k/1024)` in Q.62 for `k` in `0..1024`, built from `2^(-1/2^j)` by repeated integer
/// square roots and products rounded half up.
pub fn exp2_table() -> Vec<u64> {
	// roots[j] = 2^(-2^-(j+1)) in Q.62, j = 0..10.
	let mut roots = [0u128; 10];
	let mut current = ONE_Q62;
	for root in roots.iter_mut() {
		// sqrt(c) in Q.62 = isqrt(c << 62); the first step halves first: 2^-1/2 = sqrt(1/2).
		let c = if current == ONE_Q62 { ONE_Q62 / 2 } else { current };
		current = (c << 62).isqrt();
		*root = current;
	}
	(0..1024u32)
		.map(|k| {
			let mut value = ONE_Q62;
			for (j, root) in roots.iter().enumerate() {
				// Bit 9 of k is 1/2, bit 0 is 1/1024.
				if k & (1 << (9 - j)) != 0 {
					value = (value * root + (1 << 61)) >> 62;
				}
			}
			value as u64
		})
		.collect()
}

/// `2^(-u)` in Q.62 for `u >= 0` in Q.32: the table for the top ten fractional bits, a
/// third-order series of `e^(-r ln 2)` for the remaining 22, then a rounded shift by the integer
/// part.
pub fn exp2_neg_q62(table: &[u64], u: u64) -> u64 {
	let whole = u >> 32;
	if whole >= 63 {
		return 0;
	}
	let k = ((u >> 22) & 1023) as usize;
	let r = u128::from(u & ((1 << 22) - 1));
	// rl = r * ln2 in Q.62 (r is Q.32): below 2^52.
	let rl = (r * LN2_Q62 + (1 << 31)) >> 32;
	let rl2 = (rl * rl + (1 << 61)) >> 62;
	let rl3 = (rl2 * rl + (1 << 61)) >> 62;
	// 1 - rl + rl^2/2 - rl^3/6
	let series = ONE_Q62 - rl + rl2.div_ceil(2) - (rl3 + 3) / 6;
	let fraction = (u128::from(table[k]) * series + (1 << 61)) >> 62;
	if whole == 0 {
		fraction as u64
	} else {
		((fraction + (1 << (whole - 1))) >> whole) as u64
	}
}

/// `log2(x)` in Q.32 for a positive f32 bit pattern, by the square-and-compare algorithm on the
/// mantissa in Q.62 (the last bit truncated). `None` for values that are not positive and finite.
pub fn log2_f32_q32(bits: u32) -> Option<i64> {
	let (mantissa, power) = f32_parts(bits);
	if mantissa <= 0 {
		return None;
	}
	let top = 63 - mantissa.leading_zeros() as i32; // floor(log2 mantissa)
	let mut y: u128 = (mantissa as u128) << (62 - top); // in [1, 2) as Q.62
	let mut fraction: i64 = 0;
	for bit in (0..32).rev() {
		y = (y * y) >> 62;
		if y >= 2 << 62 {
			y >>= 1;
			fraction |= 1 << bit;
		}
	}
	Some((i64::from(top + power) << 32) + fraction)
}

/// `(sin a, cos a)` in Q.30 for an angle `a >= 0` in Q.62 radians: reduction by `pi/2` to
/// `[-pi/4, pi/4]`, Taylor series to the 13th power in Q.62, quadrant swap, rounded shift.
pub fn sin_cos_q30(angle: u128) -> (i32, i32) {
	let mut quadrant = angle / HALF_PI_Q62;
	let mut r = (angle - quadrant * HALF_PI_Q62) as i128;
	if r > (HALF_PI_Q62 / 2) as i128 {
		r -= HALF_PI_Q62 as i128;
		quadrant += 1;
	}
	let one = ONE_Q62 as i128;
	let mul = |a: i128, b: i128| shr_round_i128(a * b, 62);
	// Powers of |r| <= pi/4 in Q.62 stay below 2^62, so products fit i128.
	let mut sin = r;
	let mut cos = one;
	let mut term = r; // r^n / n!
	for n in 2..=13i128 {
		term = div_round_i128(mul(term, r), n);
		match n % 4 {
			0 => cos += term,
			1 => sin += term,
			2 => cos -= term,
			_ => sin -= term,
		}
	}
	let (s, c) = (shr_round_i128(sin, 32) as i32, shr_round_i128(cos, 32) as i32);
	match quadrant % 4 {
		0 => (s, c),
		1 => (c, -s),
		2 => (-s, -c),
		_ => (-c, s),
	}
}

/// Integer square root of a `u128`, rounded down.
#[inline]
pub fn isqrt_u128(v: u128) -> u128 {
	v.isqrt()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn rounding_is_half_away_from_zero() {
		assert_eq!(div_round_i64(5, 2), 3);
		assert_eq!(div_round_i64(-5, 2), -3);
		assert_eq!(div_round_i64(4, 3), 1);
		assert_eq!(shr_round_i64(3, 1), 2);
		assert_eq!(shr_round_i64(-3, 1), -2);
		assert_eq!(shr_round_i128(-1, 1), -1);
	}

	#[test]
	fn f16_is_exact() {
		assert_eq!(f16_times_2_24(0x3c00), 1 << 24); // 1.0
		assert_eq!(f16_times_2_24(0xc000), -(2 << 24)); // -2.0
		assert_eq!(f16_times_2_24(0x0001), 1); // 2^-24
		assert_eq!(f16_times_2_24(0x7bff), 65504 << 24);
		// Every pattern against its value computed in f64 (exact for all of them).
		for bits in 0..=u16::MAX {
			let (sign, exponent, fraction) = (bits >> 15, (bits >> 10) & 0x1f, bits & 0x3ff);
			let value = match exponent {
				0 => f64::from(fraction) * 2f64.powi(-24),
				31 => 0.0,
				_ => (1.0 + f64::from(fraction) / 1024.0) * 2f64.powi(i32::from(exponent) - 15),
			};
			let expected = (if sign == 1 { -value } else { value }) * 2f64.powi(24);
			assert_eq!(f16_times_2_24(bits), expected as i64, "{bits:#06x}");
		}
	}

	#[test]
	fn transcendental_functions_are_close() {
		let table = exp2_table();
		for u in [0u64, 1 << 31, 1 << 32, 3 << 30, 12345678901, 20 << 32] {
			let exact = 2f64.powf(-(u as f64) / 2f64.powi(32));
			let got = exp2_neg_q62(&table, u) as f64 / 2f64.powi(62);
			assert!((got - exact).abs() <= exact * 1e-9 + 1e-18, "{u}: {got} vs {exact}");
		}
		let log = log2_f32_q32(100000f32.to_bits()).unwrap() as f64 / 2f64.powi(32);
		assert!((log - 100000f64.log2()).abs() < 1e-8);
		for a in [0.0f64, 0.5, 1.0, 2.0, 3.3, 100.0, 8000.25] {
			let (s, c) = sin_cos_q30((a * 2f64.powi(62)) as u128);
			assert!((s as f64 / 2f64.powi(30) - a.sin()).abs() < 1e-8, "sin {a}");
			assert!((c as f64 / 2f64.powi(30) - a.cos()).abs() < 1e-8, "cos {a}");
		}
	}
}
