//! The real `commons-node --dev` over RPC: blocks every two seconds, finalised; ParityDB; RPC and
//! Prometheus on loopback only; signed transfers from sr25519 and ed25519 keys land; bad
//! transactions are refused with the runtime's error and move nothing; Ctrl-C stops the node
//! cleanly.

mod common;

use std::{process::Command, time::Duration};

use common::NodeProcess;
use commons_runtime::{currency::UNIT, time::SLOT_DURATION, Hash};
use commons_testing::{tx, Error, Keypair, Node, Scheme};
use sp_runtime::{DispatchError, TokenError};

const TIMEOUT: Duration = Duration::from_secs(60);

fn key(uri: &str, scheme: Scheme) -> Keypair {
	Keypair::from_uri(uri, scheme).unwrap()
}

fn assert_refused(result: Result<Hash, Error>, reason: &str) {
	match result {
		Err(Error::Rpc { method: "author_submitExtrinsic", message }) => {
			assert!(message.contains(reason), "expected `{reason}`, the node said: {message}")
		},
		other => panic!("the node must refuse it ({reason}), got {other:?}"),
	}
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_node_finalises_executes_transfers_refuses_bad_ones_and_stops_cleanly() {
	let mut process = NodeProcess::start_dev();
	let node = match Node::connect_with_retry(&process.url, TIMEOUT).await {
		Ok(node) => node,
		Err(error) => panic!("cannot reach the node: {error}\n{}", process.output()),
	};
	node.wait_finalized_number(5, TIMEOUT).await.unwrap();

	// A block in every two-second slot: consecutive blocks sit in consecutive Aura slots (the
	// slot is the block's timestamp divided by the slot duration; a missed slot would show as a
	// step of two or more).
	let mut slots = Vec::new();
	for number in 1..=5 {
		let hash = node.block_hash(number).await.unwrap().unwrap();
		slots.push(node.timestamp(hash).await.unwrap() / SLOT_DURATION);
	}
	let steps: Vec<u64> = slots.windows(2).map(|pair| pair[1] - pair[0]).collect();
	assert!(steps.iter().all(|step| *step >= 1), "slots {slots:?}");
	assert!(steps.iter().filter(|step| **step == 1).count() >= 2, "slots {slots:?}");

	// ParityDB holds the chain; RPC and Prometheus listen on loopback only.
	assert!(process.base_path.join("chains/commons_dev/paritydb").is_dir());
	let log = process.output();
	assert!(log.contains(&format!("addr=127.0.0.1:{}", process.rpc_port)), "{log}");
	assert!(log.contains(&format!("started at 127.0.0.1:{}", process.prometheus_port)), "{log}");
	assert!(!log.contains("0.0.0.0"), "{log}");

	let bob = key("//Bob", Scheme::Sr25519).account_id();

	// Signed transfers from an sr25519 key and an ed25519 key both land, and both pay a fee.
	for (sender, amount) in
		[(key("//Alice", Scheme::Sr25519), 10 * UNIT), (key("//Alice", Scheme::Ed25519), UNIT)]
	{
		let from = sender.account_id();
		let (from_before, bob_before) = (
			node.free_balance(&from, None).await.unwrap(),
			node.free_balance(&bob, None).await.unwrap(),
		);

		let inclusion = node
			.sign_and_submit(tx::transfer(bob.clone(), amount), &sender, TIMEOUT)
			.await
			.unwrap();
		assert_eq!(inclusion.outcome, Ok(()));
		assert!(inclusion.fee > 0, "a fee is charged");

		let at = Some(inclusion.block_hash);
		assert_eq!(node.free_balance(&bob, at).await.unwrap(), bob_before + amount);
		assert_eq!(
			node.free_balance(&from, at).await.unwrap(),
			from_before - amount - inclusion.fee
		);
	}

	// Transactions the node must refuse before they reach a block: nothing moves.
	let alice = key("//Alice", Scheme::Sr25519);
	let (alice_before, bob_before) = (
		node.free_balance(&alice.account_id(), None).await.unwrap(),
		node.free_balance(&bob, None).await.unwrap(),
	);
	let chain = node.chain();
	let nonce = node.next_nonce(&alice.account_id()).await.unwrap();
	let transfer = |signer: &Keypair, nonce, chain| {
		tx::sign(tx::transfer(bob.clone(), UNIT), signer, nonce, 0, chain, tx::Lifetime::Immortal)
	};

	// Alice's transfer carrying Eve's signature, of either scheme.
	for scheme in [Scheme::Sr25519, Scheme::Ed25519] {
		let eve = key("//Eve", scheme);
		let forged = tx::with_signature(
			transfer(&alice, nonce, chain),
			tx::signature_of(&transfer(&eve, nonce, chain)).unwrap(),
		)
		.unwrap();
		assert_refused(node.submit(&forged).await, "bad signature");
	}
	// Signed for another chain (a different genesis hash).
	let other_chain = tx::ChainContext { genesis_hash: Hash::repeat_byte(7), ..chain };
	assert_refused(node.submit(&transfer(&alice, nonce, other_chain)).await, "bad signature");
	// Signed for another runtime version.
	let other_runtime = tx::ChainContext { spec_version: chain.spec_version + 1, ..chain };
	assert_refused(node.submit(&transfer(&alice, nonce, other_runtime)).await, "bad signature");
	// A nonce already used: a replay.
	assert_refused(node.submit(&transfer(&alice, nonce - 1, chain)).await, "outdated");

	// A transfer of more than the balance is included, fails with the runtime's error, and only
	// the fee leaves the sender.
	let poor = key("//Bob", Scheme::Ed25519);
	let dave = key("//Dave", Scheme::Sr25519).account_id();
	let (poor_before, dave_before) = (
		node.free_balance(&poor.account_id(), None).await.unwrap(),
		node.free_balance(&dave, None).await.unwrap(),
	);
	let inclusion = node
		.sign_and_submit(tx::transfer(dave.clone(), poor_before + 1), &poor, TIMEOUT)
		.await
		.unwrap();
	assert_eq!(inclusion.outcome, Err(DispatchError::Token(TokenError::FundsUnavailable)));
	let at = Some(inclusion.block_hash);
	assert_eq!(node.free_balance(&dave, at).await.unwrap(), dave_before);
	assert_eq!(
		node.free_balance(&poor.account_id(), at).await.unwrap(),
		poor_before - inclusion.fee
	);

	// None of the refused transfers executed.
	assert_eq!(node.free_balance(&alice.account_id(), at).await.unwrap(), alice_before);
	assert_eq!(node.free_balance(&bob, at).await.unwrap(), bob_before);

	drop(node);
	let status = process.interrupt(Duration::from_secs(30));
	assert!(status.success(), "clean exit after SIGINT, got {status}:\n{}", process.output());
}

#[test]
fn a_missing_chain_spec_is_named_in_the_error() {
	let output = Command::new(common::NODE)
		.args(["--chain", "missing.json", "--tmp"])
		.output()
		.expect("commons-node runs");
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains("missing.json"), "error names the file: {stderr}");
	assert!(!stderr.contains("panicked"), "a clean error, not a panic: {stderr}");
}

#[test]
fn an_unreachable_node_is_reported_as_such() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	// Port 1 on loopback: nothing listens there, and no other test starts a node on it.
	let url = "ws://127.0.0.1:1".to_string();
	match runtime.block_on(Node::connect(&url)) {
		Err(Error::Unreachable { url: reported, .. }) => assert_eq!(reported, url),
		Err(other) => panic!("expected Unreachable, got {other}"),
		Ok(_) => panic!("nothing listens on {url}"),
	}
}
