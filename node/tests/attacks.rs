//! The market under attack, with real processes: a `commons-node --dev`, honest
//! `commons-worker` daemons on the real SmolLM2 model, a sybil worker
//! (`commons-worker-faulty`) and requesters using the `commons` CLI. Each test is an attack
//! that took honest stake or gave a requester something for nothing before; after it, no honest
//! worker has lost stake, no requester has gained, and every honest worker that did the work
//! was paid.

mod common;

use std::{collections::HashSet, process::Output, thread, time::Duration};

use common::market::{
	amount, free, json, logs, one_at_a_time, start_node, temp_dir, text, worker_entries,
	WorkerProcess,
};
use commons_runtime::currency::UNIT;

/// Each test worker bonds 1,000 CMN; the development chain slashes 10 % for a wrong result.
const BONDED: u128 = 1_000 * UNIT;
const WRONG_RESULT_SLASH: u128 = BONDED / 10;

/// `commons infer --json` as `key`, its assignment deadline `deadline` blocks ahead.
fn infer(
	url: &str,
	key: &str,
	prompt: &str,
	max_tokens: u32,
	replicas: u32,
	deadline: u32,
) -> Output {
	let (max_tokens, replicas, deadline) =
		(max_tokens.to_string(), replicas.to_string(), deadline.to_string());
	common::market::infer(
		url,
		key,
		prompt,
		&max_tokens,
		&replicas,
		&["--deadline", &deadline, "--timeout", "600"],
	)
}

fn addresses(value: &serde_json::Value) -> HashSet<String> {
	value.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

/// The overload attack, as an honest burst of demand: four requesters each post a job of a
/// long prompt with three seats at the same moment to three honest one-slot CPU workers.
/// Before, the workers were seated in every job at once, missed most commit windows and lost
/// 14 % of their stake, and the requesters ended richer. Now the jobs beyond the workers'
/// declared capacity wait for a free slot (or expire, refunded): nobody is slashed, every job
/// that was served paid the workers that served it, and no requester gained.
#[test]
fn a_burst_beyond_capacity_slashes_no_honest_worker_and_enriches_no_requester() {
	let _turn = one_at_a_time();
	let node = start_node();
	let url = node.url.as_str();
	let dir = temp_dir("burst");
	let workers = [
		WorkerProcess::start(url, &dir, "a", "cpu"),
		WorkerProcess::start(url, &dir, "b", "cpu"),
		WorkerProcess::start(url, &dir, "c", "cpu"),
	];
	let all = [&workers[0], &workers[1], &workers[2]];
	let requesters = ["//Bob", "//Charlie", "//Dave", "//Eve"];
	let requesters_before: Vec<u128> = requesters.iter().map(|key| free(url, key)).collect();
	let workers_before: Vec<u128> =
		workers.iter().map(|worker| free(url, &worker.address)).collect();
	// About 500 bytes: with the chat template and 48 tokens to generate, 612 tokens of work as
	// the chain counts it, far more than the model really has to process.
	let prompt = "Summarise in one sentence: ".to_string()
		+ &"The market holds money in escrow, seats staked workers, checks their answers \
		  against each other and pays the ones that agree. "
			.repeat(4);

	let burst: Vec<_> = requesters
		.iter()
		.map(|key| {
			let (url, key, prompt) = (url.to_string(), key.to_string(), prompt.clone());
			thread::spawn(move || infer(&url, &key, &prompt, 48, 3, 150))
		})
		.collect();
	let outputs: Vec<Output> = burst.into_iter().map(|thread| thread.join().unwrap()).collect();

	let after = worker_entries(url);
	let mut served = 0;
	for ((output, key), before) in outputs.iter().zip(requesters).zip(&requesters_before) {
		assert!(output.status.success(), "{key}: {}\nworkers:\n{}", text(output), logs(&all));
		let receipt = json(output);
		let outcome = receipt["outcome"].as_str().unwrap().to_string();
		assert!(receipt["slashes"].as_array().unwrap().is_empty(), "{receipt}\n{}", logs(&all));
		let (escrow, refunded, deposit, tx_fee) = (
			amount(&receipt["escrow"]),
			amount(&receipt["refunded"]),
			amount(&receipt["deposit_held"]),
			amount(&receipt["transaction_fee"]),
		);
		// Each requester's balance moved by what its receipt says, and by nothing else:
		// nobody compensated it for anything.
		let spent = before - free(url, key);
		match outcome.as_str() {
			"accepted" => {
				served += 1;
				assert_eq!(receipt["agreeing_workers"].as_array().unwrap().len(), 3, "{receipt}");
				assert_eq!(amount(&receipt["paid"]), 3 * UNIT, "{receipt}");
				assert_eq!(spent, escrow - refunded + deposit + tx_fee, "{key}: {receipt}");
			},
			// Beyond the workers' capacity until its deadline: escrow and deposit returned.
			"expired" => {
				assert_eq!(refunded, escrow, "{receipt}");
				assert_eq!(spent, tx_fee, "{key}: {receipt}");
			},
			other => panic!("{key}: {other}: {receipt}\n{}", logs(&all)),
		}
	}
	assert!(served >= 1, "no job of the burst was served:\n{}", logs(&all));
	for (worker, before) in workers.iter().zip(workers_before) {
		let entry = &after[&worker.address];
		assert_eq!(amount(&entry["bonded"]), BONDED, "{entry}\n{}", logs(&all));
		assert_eq!(entry["no_show"], 0, "{entry}");
		// Every job served was served by all three, each paid 1 CMN a job: more than the
		// fees of its commits, reveals and capacity declaration.
		assert_eq!(entry["accepted"], served, "{entry}");
		assert!(free(url, &worker.address) > before, "{entry}");
	}
}

/// The free-output attack: a requester's second account, registered as a worker, is seated in
/// the requester's two-seat job and reveals garbage. Before, the job ended without a majority
/// and a full refund: the requester read the honest output for free and the honest worker was
/// unpaid. Now the split escalates to a third seat, the honest output wins two to one, both
/// honest workers are paid, the sybil is slashed and the requester pays for two seats.
#[test]
fn a_sybils_disagreement_escalates_and_the_honest_workers_are_paid() {
	let _turn = one_at_a_time();
	let node = start_node();
	let url = node.url.as_str();
	let dir = temp_dir("sybil");
	let honest = WorkerProcess::start(url, &dir, "honest-a", "cpu");
	let sybil = WorkerProcess::start_faulty(url, &dir, "sybil", "wrong-output");
	let requester_before = free(url, "//Bob");

	// The two running workers are the only ones registered: both are seated.
	let requester = {
		let url = url.to_string();
		thread::spawn(move || infer(&url, "//Bob", "What is the capital of France?", 16, 2, 30))
	};
	let minute = Duration::from_secs(120);
	honest.wait_for("revealed", 1, minute);
	sybil.wait_for("revealed", 1, minute);
	// The escalation seat goes to the only worker not seated yet: a third, honest one.
	let late = WorkerProcess::start(url, &dir, "honest-b", "cpu");
	let output = requester.join().unwrap();
	let all = [&honest, &sybil, &late];
	assert!(output.status.success(), "{}\nworkers:\n{}", text(&output), logs(&all));
	let receipt = json(&output);
	assert_eq!(receipt["outcome"], "accepted", "{receipt}\n{}", logs(&all));
	assert!(receipt["text"].as_str().unwrap_or_default().contains("Paris"), "{receipt}");
	let expected: HashSet<String> = [honest.address.clone(), late.address.clone()].into();
	assert_eq!(addresses(&receipt["agreeing_workers"]), expected, "{receipt}");
	let slashes = receipt["slashes"].as_array().unwrap();
	assert_eq!(slashes.len(), 1, "{receipt}");
	assert_eq!(slashes[0]["worker"], sybil.address.as_str(), "{receipt}");
	assert_eq!(amount(&slashes[0]["amount"]), WRONG_RESULT_SLASH, "{receipt}");
	assert_eq!(slashes[0]["reason"], "WrongResult", "{receipt}");
	assert_eq!(amount(&receipt["paid"]), 2 * UNIT, "two seats paid, as asked: {receipt}");

	let after = worker_entries(url);
	assert_eq!(amount(&after[&sybil.address]["bonded"]), BONDED - WRONG_RESULT_SLASH);
	for worker in [&honest, &late] {
		assert_eq!(after[&worker.address]["accepted"], 1, "{}", after[&worker.address]);
		assert_eq!(amount(&after[&worker.address]["bonded"]), BONDED);
	}
	// The requester paid two seats, their fee, the deposit still held and the transaction fee.
	let (escrow, refunded, deposit, tx_fee) = (
		amount(&receipt["escrow"]),
		amount(&receipt["refunded"]),
		amount(&receipt["deposit_held"]),
		amount(&receipt["transaction_fee"]),
	);
	assert_eq!(
		requester_before - free(url, "//Bob"),
		escrow - refunded + deposit + tx_fee,
		"{receipt}"
	);
	assert_eq!(escrow - refunded, amount(&receipt["paid"]) + amount(&receipt["fee"]), "{receipt}");
}
