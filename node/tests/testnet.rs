//! The four-validator local testnet: `scripts/testnet.sh --check` reaches one finalised block,
//! and the market keeps working with one validator down.

mod common;

use std::{process::Command, time::Duration};

use common::{
	market::{infer_paris, json, logs, one_at_a_time, temp_dir, text, WorkerProcess},
	NodeProcess,
};
use commons_testing::Node;

#[test]
fn four_validator_testnet_finalises() {
	let _turn = one_at_a_time();
	let output = Command::new("bash")
		.arg(common::repo_root().join("scripts/testnet.sh"))
		.arg("--check")
		.env("COMMONS_NODE", common::NODE)
		.output()
		.expect("bash runs");
	let stdout = String::from_utf8_lossy(&output.stdout);
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(output.status.success(), "testnet check failed:\n{stdout}\n{stderr}");
	assert!(stdout.contains("finalised"), "{stdout}");
}

/// Alice's fixed network key (`0x…01`) gives her this peer id, so the others can dial her.
const ALICE_PEER_ID: &str = "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";
const VALIDATORS: [&str; 4] = ["alice", "bob", "charlie", "dave"];

fn validator(index: usize, alice_port: u16) -> NodeProcess {
	let spec = common::repo_root().join("chain-spec/local-raw.json");
	let mut args: Vec<String> = vec![
		"--chain".into(),
		spec.to_str().unwrap().into(),
		format!("--{}", VALIDATORS[index]),
		"--node-key".into(),
		format!("{:064x}", index + 1),
		"--bootnodes".into(),
		format!("/ip4/127.0.0.1/tcp/{alice_port}/p2p/{ALICE_PEER_ID}"),
	];
	if index == 0 {
		args.extend(["--port".into(), alice_port.to_string()]);
	}
	NodeProcess::start(&args)
}

fn finalized(runtime: &tokio::runtime::Runtime, url: &str) -> (u32, commons_runtime::Hash) {
	runtime.block_on(async { Node::connect(url).await.unwrap().finalized_head().await.unwrap() })
}

/// Waits until the node at `url` has finalised block `number`; returns its hash there.
fn wait_finalized(
	runtime: &tokio::runtime::Runtime,
	node: &NodeProcess,
	number: u32,
) -> commons_runtime::Hash {
	runtime.block_on(async {
		let client = Node::connect_with_retry(&node.url, Duration::from_secs(60))
			.await
			.unwrap_or_else(|error| panic!("{error}\n{}", node.output()));
		if let Err(error) = client.wait_finalized_number(number, Duration::from_secs(180)).await {
			panic!("{} did not finalise #{number}: {error}\n{}", node.url, node.output());
		}
		client.block_hash(number).await.unwrap().unwrap()
	})
}

/// Total issuance, and the sum of every account's free and reserved balance, at `at`.
fn issuance_and_balances(url: &str, at: commons_runtime::Hash) -> (u128, u128) {
	use commons_client::chain::{self, api};
	let runtime = tokio::runtime::Runtime::new().unwrap();
	runtime.block_on(async {
		let client = chain::connect(url).await.unwrap();
		let storage = client.storage().at(subxt_hash(at));
		let issuance = storage.fetch_or_default(&api::storage().balances().total_issuance()).await;
		let mut sum = 0u128;
		let mut accounts = storage.iter(api::storage().system().account_iter()).await.unwrap();
		while let Some(entry) = accounts.next().await {
			let data = entry.unwrap().value.data;
			sum += data.free + data.reserved;
		}
		(issuance.unwrap(), sum)
	})
}

/// Every transaction fee paid (and so burned) in blocks `from..=to`.
async fn fees_burned(url: &str, from: u32, to: u32) -> u128 {
	let node = Node::connect(url).await.unwrap();
	let mut fees = 0;
	for number in from..=to {
		let hash = node.block_hash(number).await.unwrap().expect("a finalised block");
		for record in node.events(hash).await.unwrap() {
			if let commons_runtime::RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, .. },
			) = record.event
			{
				fees += actual_fee;
			}
		}
	}
	fees
}

fn subxt_hash(hash: commons_runtime::Hash) -> commons_client::chain::BlockHash {
	commons_client::chain::BlockHash::from(hash.0)
}

#[test]
fn jobs_settle_and_finality_advances_with_a_validator_down_and_no_funds_are_lost() {
	let _turn = one_at_a_time();
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let alice_port = common::free_port();
	let mut nodes: Vec<NodeProcess> = (0..4).map(|i| validator(i, alice_port)).collect();
	for node in &nodes {
		wait_finalized(&runtime, node, 3);
	}
	let (start_number, start) = finalized(&runtime, &nodes[0].url);
	let (issuance_at_start, sum_at_start) = issuance_and_balances(&nodes[0].url, start);
	assert_eq!(issuance_at_start, sum_at_start, "balances reconcile at the start");

	// One worker on each of Alice's, Bob's and Charlie's nodes; Dave's serves the requester.
	let dir = temp_dir("testnet");
	let workers: Vec<WorkerProcess> = ["on-alice", "on-bob", "on-charlie"]
		.iter()
		.zip(&nodes)
		.map(|(name, node)| WorkerProcess::start(&node.url, &dir, name, "cpu"))
		.collect();
	let all: Vec<&WorkerProcess> = workers.iter().collect();
	let settle = |url: &str| {
		let output = infer_paris(url, "3");
		if !output.status.success() {
			panic!("{}\nworkers:\n{}", text(&output), logs(&all));
		}
		let receipt = json(&output);
		assert_eq!(receipt["outcome"], "accepted", "{receipt}");
		assert_eq!(receipt["agreeing_workers"].as_array().unwrap().len(), 3, "{receipt}");
		receipt
	};
	settle(&nodes[3].url);

	// Dave stops: three of four validators still author and finalise.
	let status = nodes[3].interrupt(Duration::from_secs(30));
	assert!(status.success(), "{status:?}");
	let (down_at, _) = finalized(&runtime, &nodes[0].url);
	settle(&nodes[0].url);
	let (later, _) = finalized(&runtime, &nodes[0].url);
	assert!(later >= down_at + 5, "finality advanced from #{down_at} to #{later} with Dave down");

	// Dave returns and catches up to what the others finalised meanwhile.
	nodes[3].restart();
	let dave = wait_finalized(&runtime, &nodes[3], later);
	let alice = wait_finalized(&runtime, &nodes[0], later);
	assert_eq!(dave, alice, "Dave and Alice agree on block #{later}");

	// No funds were lost: the sum of every balance (free and held, the treasury's included)
	// still equals the total issuance, and the issuance fell by exactly the transaction fees,
	// which are burned (no era ended, so nothing was minted).
	let (issuance, sum) = issuance_and_balances(&nodes[0].url, alice);
	assert_eq!(issuance, sum, "balances reconcile at the end");
	let burned = runtime.block_on(fees_burned(&nodes[0].url, start_number + 1, later));
	assert!(burned > 0, "the test's transactions paid fees");
	assert_eq!(issuance + burned, issuance_at_start, "only the fees left the issuance");
	assert_eq!(issuance_and_balances(&nodes[3].url, dave), (issuance, sum), "Dave sees the same");
}
