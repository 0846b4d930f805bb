//! `commons_client::batch` on a real `commons-node --dev`: calls queued together go in one
//! `Utility.force_batch` transaction, each call reports its own outcome, and a failing call does
//! not stop the others.

mod common;

use std::time::Duration;

use common::NodeProcess;
use commons_client::{
	batch::{self, Batcher},
	chain::{
		self,
		api::{
			self,
			runtime_types::{
				frame_system::pallet::Call as SystemCall, pallet_jobs::pallet::Call as JobsCall,
			},
		},
		ChainError,
	},
	Keypair, Scheme,
};

const TIMEOUT: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread")]
async fn calls_queued_together_share_one_transaction_and_fail_alone() {
	let (process, _) = NodeProcess::dev_connected(TIMEOUT).await;
	let client = chain::connect(&process.url).await.unwrap();

	let signer = Keypair::from_uri("//Ferdie", Scheme::Sr25519).unwrap();
	let account = chain::account(&signer.account_id());
	// A long window: the three calls below are queued well within it.
	let batcher = Batcher::spawn(signer, Duration::from_secs(2), batch::MOST_CALLS);
	let remark =
		|text: &str| batch::Call::System(SystemCall::remark { remark: text.as_bytes().to_vec() });
	let unknown_job =
		batch::Call::Jobs(JobsCall::commit_result { job: 999_999, commitment: [7; 32] });
	let (first, failed, last) = tokio::join!(
		batcher.submit(&client, remark("first")),
		batcher.submit(&client, unknown_job),
		batcher.submit(&client, remark("last")),
	);

	let (first, last) = (first.unwrap(), last.unwrap());
	assert_eq!(first, last, "both remarks were finalised in one block");
	match failed {
		Err(ChainError::Dispatch { call, error }) => {
			assert_eq!(call, "Jobs.commit_result");
			assert_eq!(error, "Jobs::JobNotFound");
		},
		other => panic!("the commit to an unknown job did not fail as a call: {other:?}"),
	}
	// One transaction carried the three calls: the signer's nonce moved by one.
	let nonce = client.tx().account_nonce(&account).await.unwrap();
	assert_eq!(nonce, 1);
	let events = client.events().at(first).await.unwrap();
	let completed = events.find::<api::utility::events::ItemCompleted>().count();
	let failed = events.find::<api::utility::events::ItemFailed>().count();
	assert_eq!((completed, failed), (2, 1));
	assert!(events
		.find_first::<api::utility::events::BatchCompletedWithErrors>()
		.unwrap()
		.is_some());
}

/// A batch sent while the previous one is in a best block but not yet final takes the next
/// nonce: a nonce read at the finalised block would repeat the previous one and the node would
/// refuse the transaction as outdated (the race a worker met when its commit followed its
/// `go_offline` within a block).
#[tokio::test(flavor = "multi_thread")]
async fn batches_sent_before_the_previous_one_is_final_take_the_next_nonce() {
	let (process, _) = NodeProcess::dev_connected(TIMEOUT).await;
	let client = chain::connect(&process.url).await.unwrap();

	let signer = Keypair::from_uri("//Eve", Scheme::Sr25519).unwrap();
	let account = chain::account(&signer.account_id());
	let batcher = Batcher::spawn(signer, Duration::from_millis(10), batch::MOST_CALLS);
	let remark =
		|text: String| batch::Call::System(SystemCall::remark { remark: text.into_bytes() });
	const ROUNDS: u64 = 6;
	let mut last = None;
	for round in 0..ROUNDS {
		// Each batch is sent as soon as the previous one is in a best block.
		let block = batcher.submit_in_best_block(&client, remark(format!("round {round}"))).await;
		last = Some(block.unwrap_or_else(|error| panic!("round {round} was refused: {error}")));
	}
	assert!(last.is_some());
	// Every batch was its own transaction, each with its own nonce.
	let deadline = tokio::time::Instant::now() + TIMEOUT;
	loop {
		let nonce = client.tx().account_nonce(&account).await.unwrap();
		if nonce == ROUNDS {
			break;
		}
		assert!(nonce < ROUNDS && tokio::time::Instant::now() < deadline, "nonce {nonce}");
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
}
