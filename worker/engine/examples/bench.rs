//! Measures one engine configuration and prints one JSON line; `scripts/bench-engine.sh` runs it
//! per configuration (each in its own process, so that peak memory is its own) and prints the
//! table.
//!
//! Prefill feeds the prompt one position at a time through the KV cache (the integer path has no
//! batched prefill); decode then runs `--decode` greedy steps whatever the tokens are.
//! `--bandwidth` instead measures the machine's memory read bandwidth for the roofline.

use std::time::Instant;

use clap::Parser;
use commons_engine::{integer::argmax, AdapterChoice, Backend, Model};
use rayon::prelude::*;

#[derive(Parser)]
struct Args {
	/// The GGUF model file.
	#[arg(long)]
	model: String,
	/// A plain-text file whose first `--prompt-tokens` tokens are the prompt.
	#[arg(long)]
	text: String,
	#[arg(long, default_value_t = 128)]
	prompt_tokens: usize,
	#[arg(long, default_value_t = 64)]
	decode: usize,
	/// Threads (0: one per core).
	#[arg(long, default_value_t = 0)]
	threads: usize,
	#[arg(long, default_value = "cpu", value_parser = ["cpu", "gpu"])]
	backend: String,
	/// Measure memory read bandwidth with this many threads instead.
	#[arg(long)]
	bandwidth: bool,
}

/// Peak resident memory of this process in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> f64 {
	std::fs::read_to_string("/proc/self/status")
		.ok()
		.and_then(|s| {
			s.lines()
				.find(|l| l.starts_with("VmHWM:"))
				.and_then(|l| l.split_whitespace().nth(1))
				.and_then(|kb| kb.parse::<f64>().ok())
		})
		.map_or(0.0, |kb| kb / 1024.0)
}

/// Best of five parallel reads of a 1 GiB buffer, in GB/s.
fn bandwidth(threads: usize) -> anyhow::Result<f64> {
	let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
	let data: Vec<u64> = (0..(1u64 << 27)).collect();
	let bytes = (data.len() * 8) as f64;
	let mut best = 0f64;
	for _ in 0..5 {
		let start = Instant::now();
		let sum: u64 = pool.install(|| {
			data.par_chunks(1 << 16)
				.map(|c| c.iter().fold(0u64, |a, v| a ^ v))
				.reduce(|| 0, |a, b| a ^ b)
		});
		std::hint::black_box(sum);
		best = best.max(bytes / start.elapsed().as_secs_f64() / 1e9);
	}
	Ok(best)
}

fn main() -> anyhow::Result<()> {
	let args = Args::parse();
	if args.bandwidth {
		let threads = if args.threads == 0 { rayon::current_num_threads() } else { args.threads };
		println!(r#"{{"bandwidth_gbs":{:.2},"threads":{threads}}}"#, bandwidth(threads)?);
		return Ok(());
	}
	let backend = match args.backend.as_str() {
		"gpu" => Backend::Gpu(AdapterChoice::Best),
		_ => Backend::Cpu,
	};
	let model = Model::load(&args.model)?.with_threads(args.threads)?.with_backend(&backend)?;
	let text = std::fs::read_to_string(&args.text)?;
	let prompt: Vec<u32> =
		model.tokenizer().encode(&text, false).into_iter().take(args.prompt_tokens).collect();
	let mut session = model.integer_session();
	let start = Instant::now();
	let mut logits = Vec::new();
	for &token in &prompt {
		logits = session.forward(token, None)?;
	}
	let prefill = start.elapsed().as_secs_f64();
	let start = Instant::now();
	for _ in 0..args.decode {
		logits = session.forward(argmax(&logits), None)?;
	}
	let decode = start.elapsed().as_secs_f64();
	println!(
		r#"{{"engine":"commons","backend":"{}","threads":{},"prefill_tps":{:.2},"decode_tps":{:.2},"peak_mib":{:.0},"bytes_per_token":{}}}"#,
		model.backend_description(),
		model.threads(),
		prompt.len() as f64 / prefill,
		args.decode as f64 / decode,
		peak_rss_mib(),
		model.weight_bytes_per_token(),
	);
	Ok(())
}
