//! Answers a chat prompt with SmolLM2 (or any llama GGUF) and prints tokens per second.
//!
//! `cargo run --release -p commons-engine --example infer -- --model models/SmolLM2-135M-Instruct.Q4_1.gguf --prompt "What is the capital of France?"`

use std::{io::Write, time::Instant};

use clap::Parser;
use commons_engine::{tokenizer::Role, AdapterChoice, Backend, Model, Sampling};

#[derive(Parser)]
struct Args {
	/// The GGUF model file.
	#[arg(long)]
	model: String,
	/// The user message (rendered with the model's chat template).
	#[arg(long)]
	prompt: String,
	/// Most tokens to generate.
	#[arg(long, default_value_t = 64)]
	max_tokens: usize,
	/// Threads (0: one per core).
	#[arg(long, default_value_t = 0)]
	threads: usize,
	/// Where the integer path's matrix products run: cpu or gpu (any wgpu adapter).
	#[arg(long, default_value = "cpu", value_parser = ["cpu", "gpu"])]
	backend: String,
	/// With `--backend gpu`: the adapter whose name contains this (default: the best found).
	#[arg(long)]
	adapter: Option<String>,
	/// Run the float reference path instead of the integer path.
	#[arg(long)]
	reference: bool,
	/// Sample among the top k (0: greedy).
	#[arg(long, default_value_t = 0)]
	top_k: usize,
	/// Sampling temperature in thousandths.
	#[arg(long, default_value_t = 700)]
	temperature_milli: u32,
	/// Sampling seed.
	#[arg(long, default_value_t = 0)]
	seed: u64,
}

fn main() -> anyhow::Result<()> {
	let args = Args::parse();
	let load = Instant::now();
	let backend = match (args.backend.as_str(), args.adapter) {
		("gpu", Some(name)) => Backend::Gpu(AdapterChoice::Named(name)),
		("gpu", None) => Backend::Gpu(AdapterChoice::Best),
		_ => Backend::Cpu,
	};
	let model = Model::load(&args.model)?.with_threads(args.threads)?.with_backend(&backend)?;
	let prompt = model.tokenizer().encode_chat(&[(Role::User, &args.prompt)], true)?;
	eprintln!(
		"loaded in {:.2} s; {} prompt tokens; {}; {} path",
		load.elapsed().as_secs_f64(),
		prompt.len(),
		model.backend_description(),
		if args.reference { "float reference" } else { "integer" }
	);
	let start = Instant::now();
	let mut first_token = None;
	let print = |_: u32, piece: &str| {
		first_token.get_or_insert_with(Instant::now);
		print!("{piece}");
		let _ = std::io::stdout().flush();
	};
	let generation = if args.reference {
		model.generate_reference(&prompt, args.max_tokens, print)?
	} else {
		let sampling = if args.top_k == 0 {
			Sampling::Greedy
		} else {
			Sampling::TopK {
				k: args.top_k,
				temperature_milli: args.temperature_milli,
				seed: args.seed,
			}
		};
		model.generate(&prompt, args.max_tokens, &sampling, print)?
	};
	let end = Instant::now();
	println!();
	// The first token comes out of the prompt's last step; each later one costs one decode step.
	let first = first_token.unwrap_or(end);
	let prefill = first.duration_since(start).as_secs_f64();
	let decode = end.duration_since(first).as_secs_f64();
	let decoded = generation.tokens.len().saturating_sub(1);
	eprintln!(
		"{} tokens generated ({:?}); prefill {} tokens in {prefill:.2} s ({:.1} tokens/s); \
		 decode {decoded} tokens in {decode:.2} s ({:.1} tokens/s)",
		generation.tokens.len(),
		generation.stop,
		prompt.len(),
		prompt.len() as f64 / prefill.max(1e-9),
		decoded as f64 / decode.max(1e-9),
	);
	Ok(())
}
