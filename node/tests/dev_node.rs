//! The real `commons-node --dev` over RPC: blocks are produced and finalised, signed transfers
//! from sr25519 and ed25519 keys land, bad transactions are refused with the runtime's error and
//! move nothing, and Ctrl-C stops the node cleanly.

mod common;

use std::{process::Command, time::Duration};

use common::NodeProcess;
use commons_client::{tx, Error, Keypair, Node, Scheme};
use commons_runtime::currency::UNIT;

const TIMEOUT: Duration = Duration::from_secs(60);

fn key(uri: &str, scheme: Scheme) -> Keypair {
	Keypair::from_uri(uri, scheme).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_node_finalises_executes_transfers_refuses_bad_ones_and_stops_cleanly() {
	let mut process = NodeProcess::start_dev();
	let node = match Node::connect_with_retry(&process.url, TIMEOUT).await {
		Ok(node) => node,
		Err(error) => panic!("cannot reach the node: {error}\n{}", process.output()),
	};
	let finalised = node.wait_finalized_number(2, TIMEOUT).await.unwrap();
	assert!(finalised >= 2);

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

	// A transaction whose signature is not the sender's is refused by the node: nothing moves.
	let alice = key("//Alice", Scheme::Sr25519);
	let (alice_before, bob_before) = (
		node.free_balance(&alice.account_id(), None).await.unwrap(),
		node.free_balance(&bob, None).await.unwrap(),
	);
	let chain = node.chain();
	let nonce = node.next_nonce(&alice.account_id()).await.unwrap();
	let transfer = |signer: &Keypair| {
		tx::sign(tx::transfer(bob.clone(), UNIT), signer, nonce, 0, chain, tx::Lifetime::Immortal)
	};
	let eve_signature = tx::signature_of(&transfer(&key("//Eve", Scheme::Sr25519))).unwrap();
	let forged = tx::with_signature(transfer(&alice), eve_signature).unwrap();
	match node.submit(&forged).await {
		Err(Error::Rpc { method: "author_submitExtrinsic", message }) => {
			assert!(message.contains("bad signature"), "the node names the problem: {message}")
		},
		other => panic!("a forged transaction must be refused, got {other:?}"),
	}

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
	assert_eq!(inclusion.outcome, Err("Token(FundsUnavailable)".to_string()));
	let at = Some(inclusion.block_hash);
	assert_eq!(node.free_balance(&dave, at).await.unwrap(), dave_before);
	assert_eq!(
		node.free_balance(&poor.account_id(), at).await.unwrap(),
		poor_before - inclusion.fee
	);

	// The forged transfer never executed.
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
}

#[test]
fn an_unreachable_node_is_reported_as_such() {
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let url = format!("ws://127.0.0.1:{}", common::free_port());
	match runtime.block_on(Node::connect(&url)) {
		Err(Error::Unreachable { url: reported, .. }) => assert_eq!(reported, url),
		Err(other) => panic!("expected Unreachable, got {other}"),
		Ok(_) => panic!("nothing listens on {url}"),
	}
}
