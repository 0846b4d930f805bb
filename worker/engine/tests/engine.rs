//! The forward passes against the real model file: quality, determinism across thread counts,
//! and bad input.

use commons_engine::{
	integer::{argmax, fnv1a},
	reference,
	tokenizer::Role,
	AdapterChoice, Backend, EngineError, GpuError, Model, Sampling, StopReason,
};

/// The model file, found from the package directory `cargo test` names when it runs the test
/// (the one compiled in may be another checkout's, when a target directory is shared).
fn model_path() -> std::path::PathBuf {
	let package = std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
	std::path::Path::new(&package).join("../../models/SmolLM2-135M-Instruct.Q4_1.gguf")
}
const TEXT: &str = include_str!("fixtures/agreement.txt");

fn model() -> Model {
	Model::load(model_path()).expect("the model file (scripts/fetch-model.sh) loads")
}

fn france(model: &Model) -> Vec<u32> {
	model.tokenizer().encode_chat(&[(Role::User, "What is the capital of France?")], true).unwrap()
}

#[test]
fn integer_greedy_answer_names_paris() {
	let model = model();
	let mut streamed = Vec::new();
	let generation =
		model.generate(&france(&model), 24, &Sampling::Greedy, |id, _| streamed.push(id)).unwrap();
	println!("integer: {:?} ({:?})", generation.text, generation.stop);
	assert_eq!(streamed, generation.tokens);
	assert!(generation.text.contains("Paris"), "{:?}", generation.text);
}

#[test]
fn reference_greedy_answer_names_paris() {
	let model = model();
	let generation = model.generate_reference(&france(&model), 24, |_, _| {}).unwrap();
	println!("reference: {:?}", generation.text);
	assert!(generation.text.contains("Paris"), "{:?}", generation.text);
}

/// Per-layer activation hashes (and the logits' hash) for the first positions of `text` as
/// plain text, then a short greedy generation for it as a chat prompt.
fn run(model: &Model, text: &str) -> (Vec<u64>, Vec<u32>) {
	let mut session = model.integer_session();
	let mut hashes = Vec::new();
	for token in model.tokenizer().encode(text, false).into_iter().take(6) {
		let logits =
			session.forward(token, Some(&mut |_, x: &[i32]| hashes.push(fnv1a(x)))).unwrap();
		hashes.push(fnv1a(&logits));
	}
	let prompt = model.tokenizer().encode_chat(&[(Role::User, text)], true).unwrap();
	let generation = model.generate(&prompt, 8, &Sampling::Greedy, |_, _| {}).unwrap();
	(hashes, generation.tokens)
}

#[test]
fn one_thread_and_all_threads_agree_bit_for_bit() {
	let model = model();
	let one = model.with_threads(1).unwrap();
	let all = model.with_threads(0).unwrap();
	assert_eq!(one.threads(), 1);
	for text in ["What is the capital of France?", "Write a haiku about rivers in spring."] {
		let (hashes_one, tokens_one) = run(&one, text);
		let (hashes_all, tokens_all) = run(&all, text);
		assert_eq!(hashes_one.len(), 6 * (model.config().layers + 1));
		assert_eq!(hashes_one, hashes_all, "activation hashes differ for {text:?}");
		assert_eq!(tokens_one, tokens_all, "tokens differ for {text:?}");
		println!("{text:?}: {} threads, first hashes {:016x?}", all.threads(), &hashes_all[..3]);
	}
}

#[test]
fn teacher_forced_agreement_with_the_float_reference() {
	let model = model();
	let tokens = model.tokenizer().encode(TEXT, false);
	assert!(tokens.len() >= 256, "the fixture has {} tokens", tokens.len());
	let mut integer = model.integer_session();
	let mut float = model.reference_session();
	let mut agree = 0usize;
	let steps = tokens.len() - 1;
	for &token in &tokens[..steps] {
		let a = argmax(&integer.forward(token, None).unwrap());
		let b = reference::argmax(&float.forward(token).unwrap());
		agree += usize::from(a == b);
	}
	let percent = 100.0 * agree as f64 / steps as f64;
	println!("teacher-forced top-1 agreement: {agree}/{steps} = {percent:.2} %");
	assert!(percent >= 97.0, "agreement {percent:.2} % is below 97 %");
}

#[test]
fn sampling_is_seeded_and_deterministic() {
	let model = model();
	let prompt = model.tokenizer().encode_chat(&[(Role::User, "Tell me a story.")], true).unwrap();
	let sampling = Sampling::TopK { k: 40, temperature_milli: 800, seed: 7 };
	let a = model.generate(&prompt, 12, &sampling, |_, _| {}).unwrap();
	let b = model.with_threads(1).unwrap().generate(&prompt, 12, &sampling, |_, _| {}).unwrap();
	assert_eq!(a, b);
	assert!(!a.tokens.is_empty());
}

#[test]
fn bad_requests_are_clear_errors() {
	let model = model();
	let prompt = france(&model);
	let context = model.config().context;
	assert!(matches!(
		model.generate(&prompt, 0, &Sampling::Greedy, |_, _| {}),
		Err(EngineError::ZeroMaxTokens)
	));
	assert!(matches!(
		model.generate(&[], 4, &Sampling::Greedy, |_, _| {}),
		Err(EngineError::EmptyPrompt)
	));
	let long = vec![28u32; context];
	let error = model.generate(&long, 4, &Sampling::Greedy, |_, _| {}).unwrap_err();
	assert!(matches!(error, EngineError::PromptTooLong { .. }), "{error}");
	println!("{error}");
	assert!(matches!(
		model.generate_reference(&long, 4, |_, _| {}),
		Err(EngineError::PromptTooLong { .. })
	));
	let vocab = model.config().vocab as u32;
	assert!(matches!(
		model.generate(&[vocab], 4, &Sampling::Greedy, |_, _| {}),
		Err(EngineError::TokenOutOfRange { .. })
	));
	assert!(matches!(
		model.integer_session().forward(vocab + 5, None),
		Err(EngineError::TokenOutOfRange { .. })
	));
	let zero_k = Sampling::TopK { k: 0, temperature_milli: 500, seed: 1 };
	assert!(matches!(
		model.generate(&prompt, 4, &zero_k, |_, _| {}),
		Err(EngineError::BadSampling(_))
	));
	assert!(matches!(Model::load("/nonexistent/model.gguf"), Err(EngineError::Gguf(_))));
}

/// The sha256 of SmolLM2-135M-Instruct.Q4_1.gguf, as the architecture brief and the model
/// registry's genesis give it.
const MODEL_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

#[test]
fn only_the_registered_file_loads_when_a_hash_is_given() {
	let mut expected = [0u8; 32];
	hex::decode_to_slice(MODEL_SHA256, &mut expected).unwrap();
	let model = Model::load_verified(model_path(), &expected).expect("the real file matches");
	assert_eq!(model.config().layers, 30);
	expected[0] ^= 1;
	let error =
		Model::load_verified(model_path(), &expected).err().expect("a wrong hash is refused");
	let message = error.to_string();
	println!("{message}");
	assert!(matches!(error, EngineError::HashMismatch { .. }), "{message}");
	assert!(
		message.contains(MODEL_SHA256) && message.contains(&hex::encode(expected)),
		"{message}"
	);
	let missing = Model::load_verified("/nonexistent/model.gguf", &expected).err().unwrap();
	assert!(matches!(missing, EngineError::Read { .. }), "{missing}");
	assert!(missing.to_string().contains("/nonexistent/model.gguf"));
}

#[test]
fn generation_stops_at_max_tokens_and_hashes_as_the_chain_does() {
	let model = model();
	let generation = model.generate(&france(&model), 2, &Sampling::Greedy, |_, _| {}).unwrap();
	assert_eq!(generation.tokens.len(), 2);
	assert_eq!(generation.stop, StopReason::MaxTokens);
	let hash = generation.output_hash(0);
	assert_eq!(
		hash,
		commons_primitives::output_hash(commons_engine::ENGINE_VERSION, 0, &generation.tokens)
	);
	assert_ne!(hash, generation.output_hash(1), "the model id is part of the hash");
}

/// FNV-1a 64 of the integer logits after each token of "The capital of France is" (plain text).
const PINNED: &[u64] = &[
	0xc937_599b_dee8_4a97,
	0x0b4d_f9ab_059c_96bb,
	0xdb8d_2bda_0018_4c8d,
	0x20fa_1827_f423_4e35,
	0x93bf_db92_cf24_27ea,
];

/// The integer path's output for a fixed input, pinned: any change to the arithmetic of
/// `DETERMINISM.md` (or a backend that departs from it) changes these hashes.
#[test]
fn integer_logits_are_pinned() {
	let hashes = pinned_logit_hashes(&model());
	println!("pinned: {hashes:#018x?}");
	assert_eq!(hashes, PINNED);
}

fn pinned_logit_hashes(model: &Model) -> Vec<u64> {
	let mut session = model.integer_session();
	let mut hashes = Vec::new();
	for token in model.tokenizer().encode("The capital of France is", false) {
		hashes.push(fnv1a(&session.forward(token, None).unwrap()));
	}
	hashes
}

/// The model on the best adapter wgpu finds: a GPU, or Mesa lavapipe where there is none.
fn on_gpu(model: &Model) -> Model {
	model
		.with_backend(&Backend::Gpu(AdapterChoice::Best))
		.expect("a wgpu adapter: a GPU, or Mesa lavapipe (scripts/setup.sh installs it)")
}

#[test]
fn gpu_and_cpu_agree_bit_for_bit() {
	let model = model();
	let gpu = on_gpu(&model);
	println!("{} vs {}", gpu.backend_description(), model.backend_description());
	assert!(gpu.backend_description().starts_with("gpu: "));
	for text in [
		"What is the capital of France?",
		"Write a haiku about rivers in spring.",
		"Liste trois nombres premiers : 2, 3, 5, 7, 11 ; et 1 000 000 ?",
	] {
		let (hashes_cpu, tokens_cpu) = run(&model, text);
		let (hashes_gpu, tokens_gpu) = run(&gpu, text);
		assert_eq!(hashes_gpu.len(), 6 * (model.config().layers + 1));
		assert_eq!(hashes_cpu, hashes_gpu, "activation hashes differ for {text:?}");
		assert_eq!(tokens_cpu, tokens_gpu, "tokens differ for {text:?}");
	}
	assert_eq!(pinned_logit_hashes(&gpu), PINNED);
	let prompt = model.tokenizer().encode_chat(&[(Role::User, "Tell me a story.")], true).unwrap();
	let sampling = Sampling::TopK { k: 40, temperature_milli: 800, seed: 11 };
	let cpu_story = model.generate(&prompt, 8, &sampling, |_, _| {}).unwrap();
	let gpu_story = gpu.generate(&prompt, 8, &sampling, |_, _| {}).unwrap();
	assert_eq!(cpu_story, gpu_story);
	let answer = gpu.generate(&france(&model), 24, &Sampling::Greedy, |_, _| {}).unwrap();
	assert!(answer.text.contains("Paris"), "{:?}", answer.text);
}

#[test]
fn an_absent_adapter_is_named_in_the_error() {
	let model = model();
	let choice = AdapterChoice::Named("no-such-adapter-9000".into());
	let error = model.with_backend(&Backend::Gpu(choice)).err().expect("no such adapter");
	let message = error.to_string();
	println!("{message}");
	assert!(
		matches!(error, EngineError::Gpu(GpuError::NoSuchAdapter { .. } | GpuError::NoAdapter)),
		"{message}"
	);
	assert!(message.contains("adapter"), "{message}");
	// The adapters listed are the ones the best choice picks from.
	let seen = commons_engine::gpu::adapters();
	println!("{seen:?}");
	assert!(seen.iter().any(|a| a.usable), "no usable adapter among {seen:?}");
}
