// The integer path's matrix-vector product (`row_accumulator` in integer.rs), one invocation per
// output row. Every operation is exact integer arithmetic, so the result is the CPU's bit for
// bit: int8 dot products in i32, the per-block terms in i64, their products with the activation
// scales in 128 bits (two u64 words, two's complement), summed in block order. The final rounded
// division happens on the host, shared with the CPU path.

struct Params {
	rows: u32,
	// Blocks of 32 per row.
	blocks: u32,
	// 0: Q8_0 (34-byte blocks), 1: Q4_1 (20-byte blocks).
	kind: u32,
	row_bytes: u32,
}

// The matrix's GGUF bytes, little-endian words (zero-padded to a whole word).
@group(0) @binding(0) var<storage, read> weights: array<u32>;
@group(0) @binding(1) var<uniform> params: Params;
// Activation quants, four int8 to a word: the first level, then the second.
@group(0) @binding(2) var<storage, read> quants: array<u32>;
// Per block: 127 amax1, amax2, sum q1, sum q2.
@group(0) @binding(3) var<storage, read> levels: array<i64>;
// Per row: the 128-bit accumulator as four u32, least significant first.
@group(0) @binding(4) var<storage, read_write> accumulators: array<u32>;

struct Wide {
	lo: u64,
	hi: u64,
}

// `a * b` as 128-bit two's complement; |a|, |b| < 2^63.
fn mul_wide(a: i64, b: i64) -> Wide {
	let ua = u64(select(a, -a, a < 0li));
	let ub = u64(select(b, -b, b < 0li));
	let mask = 0xfffffffflu;
	let a0 = ua & mask;
	let a1 = ua >> 32u;
	let b0 = ub & mask;
	let b1 = ub >> 32u;
	let p00 = a0 * b0;
	let p01 = a0 * b1;
	let p10 = a1 * b0;
	let p11 = a1 * b1;
	let mid = (p00 >> 32u) + (p01 & mask) + (p10 & mask);
	var lo = (p00 & mask) | (mid << 32u);
	var hi = p11 + (p01 >> 32u) + (p10 >> 32u) + (mid >> 32u);
	if ((a < 0li) != (b < 0li)) {
		lo = ~lo + 1lu;
		hi = ~hi + select(0lu, 1lu, lo == 0lu);
	}
	return Wide(lo, hi);
}

fn add_wide(x: Wide, y: Wide) -> Wide {
	let lo = x.lo + y.lo;
	let carry = select(0lu, 1lu, lo < x.lo);
	return Wide(lo, x.hi + y.hi + carry);
}

// An f16 bit pattern times 2^24, exactly; infinities and NaN give 0.
fn f16_times_2_24(bits: u32) -> i64 {
	let exponent = (bits >> 10u) & 0x1fu;
	let fraction = i64(bits & 0x3ffu);
	var magnitude = 0li;
	if (exponent == 0u) {
		magnitude = fraction;
	} else if (exponent != 31u) {
		magnitude = (fraction | 0x400li) << (exponent - 1u);
	}
	return select(magnitude, -magnitude, (bits >> 15u) == 1u);
}

// The four bytes starting at byte `at` (a multiple of 2) as one word.
fn word_at(at: u32) -> u32 {
	let w = at >> 2u;
	if ((at & 3u) == 0u) {
		return weights[w];
	}
	return (weights[w] >> 16u) | (weights[w + 1u] << 16u);
}

// The 16 bits at byte `at` (a multiple of 2).
fn half_at(at: u32) -> u32 {
	return (weights[at >> 2u] >> ((at & 2u) * 8u)) & 0xffffu;
}

// Signed byte `k` of a word.
fn lane(word: u32, k: u32) -> i32 {
	return extractBits(i32(word), k * 8u, 8u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
	let row = id.x;
	if (row >= params.rows) {
		return;
	}
	// Word offset of the second activation level.
	let second = params.blocks * 8u;
	var acc = Wide(0lu, 0lu);
	for (var b = 0u; b < params.blocks; b++) {
		var s1 = 0i;
		var s2 = 0i;
		var d = 0li;
		var m = 0li;
		if (params.kind == 0u) {
			let base = row * params.row_bytes + b * 34u;
			d = f16_times_2_24(half_at(base));
			for (var j = 0u; j < 8u; j++) {
				let w = word_at(base + 2u + 4u * j);
				let x1 = quants[b * 8u + j];
				let x2 = quants[second + b * 8u + j];
				for (var k = 0u; k < 4u; k++) {
					let wk = lane(w, k);
					s1 += wk * lane(x1, k);
					s2 += wk * lane(x2, k);
				}
			}
		} else {
			let base = (row * params.row_bytes + b * 20u) >> 2u;
			let dm = weights[base];
			d = f16_times_2_24(dm & 0xffffu);
			m = f16_times_2_24(dm >> 16u);
			// Byte j holds element j in its low nibble and element j + 16 in its high one.
			for (var j = 0u; j < 4u; j++) {
				let w = weights[base + 1u + j];
				let lo1 = quants[b * 8u + j];
				let hi1 = quants[b * 8u + 4u + j];
				let lo2 = quants[second + b * 8u + j];
				let hi2 = quants[second + b * 8u + 4u + j];
				for (var k = 0u; k < 4u; k++) {
					let byte = (w >> (8u * k)) & 0xffu;
					let lo = i32(byte & 0xfu);
					let hi = i32(byte >> 4u);
					s1 += lo * lane(lo1, k) + hi * lane(hi1, k);
					s2 += lo * lane(lo2, k) + hi * lane(hi2, k);
				}
			}
		}
		let scale1 = levels[4u * b];
		let scale2 = levels[4u * b + 1u];
		let t1 = levels[4u * b + 2u];
		let t2 = levels[4u * b + 3u];
		let a1 = d * i64(s1) + m * t1;
		let a2 = d * i64(s2) + m * t2;
		acc = add_wide(acc, add_wide(mul_wide(a1, scale1), mul_wide(a2, scale2)));
	}
	let mask = 0xfffffffflu;
	accumulators[4u * row] = u32(acc.lo & mask);
	accumulators[4u * row + 1u] = u32(acc.lo >> 32u);
	accumulators[4u * row + 2u] = u32(acc.hi & mask);
	accumulators[4u * row + 3u] = u32(acc.hi >> 32u);
}
