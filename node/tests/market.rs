//! The marketplace on a real `commons-node --dev`, over RPC: three ed25519 workers register, a
//! requester posts a job, the chain assigns it in a later block, the workers commit and reveal,
//! and the last reveal settles it as Accepted; balances move exactly as the events say. The
//! outputs here are fixed token ids: running the model is the worker's job.

mod common;

use std::time::Duration;

use codec::Decode;
use common::NodeProcess;
use commons_primitives::{commitment, output_hash, JobId};
use commons_runtime::{
	currency::UNIT, genesis_config_presets::smollm2, AccountId, Runtime, RuntimeCall, RuntimeEvent,
};
use commons_testing::{Keypair, Node, Scheme};
use pallet_jobs::{JobStatus, Sampling, Verdict};

const TIMEOUT: Duration = Duration::from_secs(90);
const PRICE: u128 = UNIT;

fn key(uri: &str, scheme: Scheme) -> Keypair {
	Keypair::from_uri(uri, scheme).unwrap()
}

async fn job(node: &Node, job: JobId) -> pallet_jobs::Job<Runtime> {
	let bytes = node
		.storage(pallet_jobs::Jobs::<Runtime>::hashed_key_for(job), None)
		.await
		.unwrap()
		.expect("the job is stored");
	pallet_jobs::Job::<Runtime>::decode(&mut &bytes[..]).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_is_posted_assigned_committed_revealed_and_accepted_on_a_real_node() {
	let (_process, node) = NodeProcess::dev_connected(TIMEOUT).await;

	let workers: Vec<Keypair> =
		["//Charlie", "//Dave", "//Eve"].iter().map(|uri| key(uri, Scheme::Ed25519)).collect();
	for worker in &workers {
		let call = RuntimeCall::Workers(pallet_workers::Call::register {
			stake: 1_000 * UNIT,
			models: vec![0].try_into().unwrap(),
			price: PRICE,
			capacity: commons_primitives::Capacity { slots: 1, tokens_per_block: 10_000 },
		});
		let inclusion = node.sign_and_submit(call, worker, TIMEOUT).await.unwrap();
		assert_eq!(inclusion.outcome, Ok(()), "{:?}", inclusion.events);
	}

	let requester = key("//Bob", Scheme::Sr25519);
	let (head, _) = node.finalized_head().await.unwrap();
	let post = RuntimeCall::Jobs(pallet_jobs::Call::post_job {
		model: 0,
		prompt: b"What is the capital of France?".to_vec(),
		max_tokens: 16,
		sampling: Sampling::Greedy,
		replicas: 3,
		price_per_replica: PRICE,
		deadline: head + 100,
	});
	let posted = node.sign_and_submit(post, &requester, TIMEOUT).await.unwrap();
	assert_eq!(posted.outcome, Ok(()), "{:?}", posted.events);
	let id = posted
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Jobs(pallet_jobs::Event::JobPosted { job, .. }) => Some(*job),
			_ => None,
		})
		.expect("JobPosted");

	// Assigned in a block after the posting block.
	let deadline = std::time::Instant::now() + TIMEOUT;
	let record = loop {
		let record = job(&node, id).await;
		if let JobStatus::Assigned { at, .. } = record.status {
			assert!(
				at > posted.block_number,
				"assigned at #{at}, posted at #{}",
				posted.block_number
			);
			break record;
		}
		assert!(std::time::Instant::now() < deadline, "never assigned: {:?}", record.status);
		tokio::time::sleep(Duration::from_millis(500)).await;
	};
	let seated: Vec<AccountId> = record.seats.iter().map(|seat| seat.worker.clone()).collect();
	let mut seated_keys: Vec<&Keypair> = seated
		.iter()
		.map(|account| workers.iter().find(|key| key.account_id() == *account).unwrap())
		.collect();
	seated_keys.dedup_by_key(|key| key.account_id());
	assert_eq!(seated_keys.len(), 3);

	let tokens = vec![504u32, 3575, 314, 4649, 30];
	let hash = output_hash(smollm2::ENGINE_VERSION, 0, &tokens);
	let salt_of = |worker: &Keypair| sp_crypto_hashing::blake2_256(worker.account_id().as_ref());
	for worker in &seated_keys {
		let call = RuntimeCall::Jobs(pallet_jobs::Call::commit_result {
			job: id,
			commitment: commitment(&hash, &salt_of(worker), &worker.account_id()),
		});
		let inclusion = node.sign_and_submit(call, worker, TIMEOUT).await.unwrap();
		assert_eq!(inclusion.outcome, Ok(()), "{:?}", inclusion.events);
	}

	let mut before = Vec::new();
	for worker in &seated_keys {
		before.push(node.free_balance(&worker.account_id(), None).await.unwrap());
	}
	let mut last = None;
	let mut fees = Vec::new();
	for worker in &seated_keys {
		let call = RuntimeCall::Jobs(pallet_jobs::Call::reveal_result {
			job: id,
			output: tokens.clone().try_into().unwrap(),
			salt: salt_of(worker),
		});
		let inclusion = node.sign_and_submit(call, worker, TIMEOUT).await.unwrap();
		assert_eq!(inclusion.outcome, Ok(()), "{:?}", inclusion.events);
		fees.push(inclusion.fee);
		last = Some(inclusion);
	}
	let settled = last.unwrap();
	assert!(settled.events.iter().any(|event| matches!(
		event,
		RuntimeEvent::Jobs(pallet_jobs::Event::JobAccepted { job, output_hash, paid, .. })
			if *job == id && *output_hash == hash && *paid == 3 * PRICE
	)));
	let record = job(&node, id).await;
	assert!(matches!(
		record.status,
		JobStatus::Settled { verdict: Verdict::Accepted { output_hash }, .. } if output_hash == hash
	));
	// Each worker got the price, less the fee of its own reveal.
	for ((worker, before), fee) in seated_keys.iter().zip(before).zip(fees) {
		let now = node.free_balance(&worker.account_id(), Some(settled.block_hash)).await.unwrap();
		assert_eq!(now, before + PRICE - fee);
	}
}
