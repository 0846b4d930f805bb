//! A chain running the previous release's runtime (`chain-spec/releases/`: its development chain
//! spec, genesis and wasm as that release generated them) is upgraded to this tree's runtime by
//! a root referendum (`authorize_upgrade`, then `apply_authorized_upgrade`), with a job half
//! answered, stake bonded and a referendum's votes locked, while
//! workers built from this tree serve. Nothing is lost: the job settles on the new runtime
//! without a slash, the workers go on serving without a restart, the referendum carries and
//! enacts, and this runtime's invariants (every pallet's holds reconciled with its records,
//! storage versions as the code declares them) hold on the migrated state, read back from the
//! node.

mod common;

use std::time::Duration;

use common::{
	market::{
		amount, infer_paris, json, logs, one_at_a_time, temp_dir, worker_entries, WorkerProcess,
		TIMEOUT,
	},
	repo_root, NodeProcess,
};
use commons_runtime::{
	currency::UNIT,
	governance::{
		origins,
		parameters::{market, RuntimeParameters},
	},
	OriginCaller, Runtime, RuntimeCall,
};
use commons_testing::{Keypair, Node, Scheme};
use frame_support::traits::{GetStorageVersion, StorageVersion};

/// The release this tree upgrades from.
const PREVIOUS_SPEC: u32 = 110;

/// Development accounts that vote for the upgrade beside Alice.
const UPGRADE_VOTERS: [(&str, Scheme); 12] = [
	("//Bob", Scheme::Sr25519),
	("//Charlie", Scheme::Sr25519),
	("//Dave", Scheme::Sr25519),
	("//Eve", Scheme::Sr25519),
	("//Ferdie", Scheme::Sr25519),
	("//Alice//stash", Scheme::Sr25519),
	("//Bob//stash", Scheme::Sr25519),
	("//Charlie//stash", Scheme::Sr25519),
	("//Dave//stash", Scheme::Sr25519),
	("//Eve//stash", Scheme::Sr25519),
	("//Ferdie//stash", Scheme::Sr25519),
	("//Alice", Scheme::Ed25519),
];

/// Each test worker bonds 1,000 CMN.
const BONDED: u128 = 1_000 * UNIT;

fn keypair(uri: &str) -> Keypair {
	Keypair::from_uri(uri, Scheme::Sr25519).unwrap()
}

/// The referendum in flight: raise the minimum stake, on the parameters track.
fn min_worker_stake(value: u128) -> RuntimeCall {
	RuntimeCall::ProtocolParameters(commons_runtime::governance::parameters::Call::set_parameter {
		key_value: RuntimeParameters::Market(market::Parameters::MinWorkerStake(
			market::MinWorkerStake,
			Some(value),
		)),
	})
}

fn vote(index: u32) -> RuntimeCall {
	use pallet_conviction_voting::{AccountVote, Conviction, Vote};
	RuntimeCall::ConvictionVoting(pallet_conviction_voting::Call::vote {
		poll_index: index,
		vote: AccountVote::Standard {
			vote: Vote { aye: true, conviction: Conviction::Locked1x },
			balance: 900_000 * UNIT,
		},
	})
}

/// This runtime's invariants, checked natively against the node's state at `at`: the pallets'
/// own `try_state` checks (holds against records, indexes against their lists, counts) and
/// every market pallet's storage version against the one its code declares.
async fn check_invariants(node: &Node, at: commons_runtime::Hash, when: &str) {
	native_state(node, at).await.execute_with(|| {
		pallet_models::Pallet::<Runtime>::do_try_state().expect(when);
		pallet_workers::Pallet::<Runtime>::do_try_state().expect(when);
		pallet_jobs::Pallet::<Runtime>::do_try_state().expect(when);
		pallet_rewards::Pallet::<Runtime>::do_try_state().expect(when);
		same_storage_version::<pallet_models::Pallet<Runtime>>("Models", when);
		same_storage_version::<pallet_workers::Pallet<Runtime>>("Workers", when);
		same_storage_version::<pallet_jobs::Pallet<Runtime>>("Jobs", when);
		same_storage_version::<pallet_rewards::Pallet<Runtime>>("Rewards", when);
	});
}

/// The node's whole state at `at`, for this runtime's native code to read.
async fn native_state(node: &Node, at: commons_runtime::Hash) -> sp_io::TestExternalities {
	let pairs = node.state_pairs(at).await.unwrap();
	let storage = sp_core::storage::Storage {
		top: pairs.into_iter().collect(),
		children_default: Default::default(),
	};
	sp_io::TestExternalities::new(storage)
}

/// A pallet's storage version on chain is the one its code declares: no migration is missing.
fn same_storage_version<Pallet>(name: &str, when: &str)
where
	Pallet: GetStorageVersion<InCodeStorageVersion = StorageVersion>,
{
	let (on_chain, in_code) =
		(Pallet::on_chain_storage_version(), Pallet::in_code_storage_version());
	assert_eq!(on_chain, in_code, "{when}: {name}'s storage version");
}

#[test]
fn the_previous_release_upgrades_to_this_one_with_a_job_stake_and_votes_in_flight() {
	let _turn = one_at_a_time();
	let spec = repo_root().join(format!("chain-spec/releases/spec-{PREVIOUS_SPEC}-dev-raw.json"));
	let process = NodeProcess::start(&[
		"--chain".into(),
		spec.to_str().unwrap().into(),
		"--alice".into(),
		"--validator".into(),
		"--force-authoring".into(),
		// A validator of a chain that is not `--dev` needs a network key of its own.
		"--node-key".into(),
		"0000000000000000000000000000000000000000000000000000000000000001".into(),
	]);
	let url = process.url.clone();
	let runtime = tokio::runtime::Runtime::new().unwrap();
	let node = runtime.block_on(async {
		let node = match Node::connect_with_retry(&url, TIMEOUT).await {
			Ok(node) => node,
			Err(error) => panic!("cannot reach the node: {error}\n{}", process.output()),
		};
		node.wait_finalized_number(1, TIMEOUT).await.unwrap();
		node
	});
	assert_eq!(runtime.block_on(node.spec_version()).unwrap(), PREVIOUS_SPEC);
	let ours = commons_runtime::VERSION.spec_version;
	assert!(ours > PREVIOUS_SPEC, "this tree's runtime must move spec_version up");

	// Two workers serve throughout; a third is seated but starts only after the upgrade, so
	// that the job cannot settle before it.
	let dir = temp_dir("upgrade");
	let serving = [
		WorkerProcess::start(&url, &dir, "a", "cpu"),
		WorkerProcess::start(&url, &dir, "b", "cpu"),
	];
	let mut late = WorkerProcess::registered(&url, &dir, "late", "cpu");
	let requester = {
		let url = url.clone();
		std::thread::spawn(move || infer_paris(&url, "3"))
	};
	for worker in &serving {
		worker.wait_for("committed to", 1, Duration::from_secs(120));
	}

	// Votes locked on a parameters referendum, and a root referendum authorising the upgrade,
	// in one transaction: no sudo, the way a launched network upgrades.
	let alice = keypair("//Alice");
	let code = commons_runtime::WASM_BINARY.expect("the runtime's wasm is built").to_vec();
	let code_hash = sp_crypto_hashing::blake2_256(&code).into();
	let authorize = RuntimeCall::System(frame_system::Call::authorize_upgrade { code_hash });
	let mut calls = Vec::new();
	for (index, (origin, proposal)) in [
		(OriginCaller::Origins(origins::Origin::ParameterAdmin), min_worker_stake(150 * UNIT)),
		(OriginCaller::system(frame_system::RawOrigin::Root), authorize),
	]
	.into_iter()
	.enumerate()
	{
		let encoded = codec::Encode::encode(&proposal);
		let hash = sp_crypto_hashing::blake2_256(&encoded).into();
		calls.extend([
			RuntimeCall::Preimage(pallet_preimage::Call::note_preimage { bytes: encoded.clone() }),
			RuntimeCall::Referenda(pallet_referenda::Call::submit {
				proposal_origin: Box::new(origin),
				proposal: frame_support::traits::Bounded::Lookup {
					hash,
					len: encoded.len() as u32,
				},
				enactment_moment: frame_support::traits::schedule::DispatchTime::After(1),
			}),
			RuntimeCall::Referenda(pallet_referenda::Call::place_decision_deposit {
				index: index as u32,
			}),
			vote(index as u32),
		]);
	}
	let before = runtime.block_on(node.finalized_head()).unwrap().1;
	runtime.block_on(check_invariants(&node, before, "before the upgrade"));
	let proposals = RuntimeCall::Utility(pallet_utility::Call::batch_all { calls });
	let included = runtime.block_on(node.sign_and_submit(proposals, &alice, TIMEOUT)).unwrap();
	assert!(included.outcome.is_ok(), "{:?}", included.outcome);
	// The root track asks for the aye votes of half the issuance at first, falling over its
	// decision period: twelve more development accounts vote, each from its own account and so
	// side by side (13 × 900,000 CMN of the 24 × 1,000,000 CMN), which passes it in a few blocks.
	runtime.block_on(async {
		let mut votes = tokio::task::JoinSet::new();
		for (uri, scheme) in UPGRADE_VOTERS {
			let url = url.clone();
			votes.spawn(async move {
				let voter = Keypair::from_uri(uri, scheme).unwrap();
				let node = Node::connect(&url).await.unwrap();
				(uri, node.sign_and_submit(vote(1), &voter, TIMEOUT).await.unwrap())
			});
		}
		while let Some(voted) = votes.join_next().await {
			let (uri, included) = voted.unwrap();
			assert!(included.outcome.is_ok(), "{uri}: {:?}", included.outcome);
		}
	});
	// Once the referendum enacts, anyone sends the authorised code.
	runtime.block_on(async {
		let key = [
			sp_crypto_hashing::twox_128(b"System"),
			sp_crypto_hashing::twox_128(b"AuthorizedUpgrade"),
		]
		.concat();
		let deadline = std::time::Instant::now() + Duration::from_secs(180);
		while node.storage(key.clone(), None).await.unwrap().is_none() {
			assert!(
				std::time::Instant::now() < deadline,
				"the upgrade referendum did not enact\n{}",
				process.output()
			);
			tokio::time::sleep(Duration::from_secs(1)).await;
		}
		let apply = RuntimeCall::System(frame_system::Call::apply_authorized_upgrade { code });
		let included = node.sign_and_submit(apply, &keypair("//Bob"), TIMEOUT).await.unwrap();
		assert!(included.outcome.is_ok(), "{:?}", included.outcome);
	});

	// The workers sign for the new runtime without a restart; a client connected now does too.
	let node = runtime.block_on(async {
		let node = Node::connect(&url).await.unwrap();
		assert_eq!(node.spec_version().await.unwrap(), ours);
		node
	});
	for worker in &serving {
		worker.wait_for(
			&format!("the runtime is now spec version {ours}"),
			1,
			Duration::from_secs(60),
		);
	}
	for voter in ["//Bob", "//Charlie"] {
		let included =
			runtime.block_on(node.sign_and_submit(vote(0), &keypair(voter), TIMEOUT)).unwrap();
		assert!(included.outcome.is_ok(), "{voter}: {:?}", included.outcome);
	}

	// The late worker commits on the new runtime; every seat reveals on it.
	late.serve();
	let all = [&serving[0], &serving[1], &late];
	let output = requester.join().unwrap();
	assert!(output.status.success(), "{}\n{}", common::market::text(&output), logs(&all));
	let receipt = json(&output);
	assert_eq!(receipt["outcome"], "accepted", "{receipt}\n{}", logs(&all));
	assert_eq!(receipt["slashes"], serde_json::json!([]), "{receipt}");

	// A job posted after the upgrade is served by the same processes.
	let after = json(&infer_paris(&url, "3"));
	assert_eq!(after["outcome"], "accepted", "{after}\n{}", logs(&all));
	assert_eq!(after["slashes"], serde_json::json!([]), "{after}");

	// The referendum decided across the upgrade and its change is in force.
	runtime.block_on(async {
		let deadline = std::time::Instant::now() + Duration::from_secs(180);
		loop {
			let parameters =
				json(&common::market::run("commons", &url, &["--json", "gov", "params"]));
			let stake = parameters
				.as_array()
				.unwrap()
				.iter()
				.find(|parameter| parameter["name"] == "MinWorkerStake")
				.map(|parameter| parameter["current"].clone())
				.unwrap();
			if stake == serde_json::json!((150 * UNIT).to_string()) {
				break;
			}
			assert!(
				std::time::Instant::now() < deadline,
				"MinWorkerStake is still {stake}: the referendum did not enact\n{}",
				process.output()
			);
			tokio::time::sleep(Duration::from_secs(2)).await;
		}
	});

	let entries = worker_entries(&url);
	for worker in all {
		let entry = &entries[&worker.address];
		assert_eq!(entry["no_show"], 0, "{entry}");
		assert_eq!(entry["wrong"], 0, "{entry}");
		assert_eq!(amount(&entry["bonded"]), BONDED, "{entry}");
	}
	for worker in &serving {
		assert_eq!(worker.output().matches("starting;").count(), 1, "{}", worker.output());
	}
	let head = runtime.block_on(node.finalized_head()).unwrap().1;
	runtime.block_on(check_invariants(&node, head, "after the upgrade"));
	runtime.block_on(check_added_pallets(&node, head));
}

/// The pallets this release adds to the previous one start at the storage version their code
/// declares (FRAME writes it during the upgrade for a pallet that has no storage yet;
/// `pallet-whitelist` declares none), and with no committee.
async fn check_added_pallets(node: &Node, at: commons_runtime::Hash) {
	native_state(node, at).await.execute_with(|| {
		let when = "after the upgrade";
		same_storage_version::<pallet_collective::Pallet<Runtime, pallet_collective::Instance1>>(
			"TechnicalCommittee",
			when,
		);
		assert_eq!(
			pallet_collective::Members::<Runtime, pallet_collective::Instance1>::get(),
			Vec::<commons_runtime::AccountId>::new(),
			"a committee is appointed by a root referendum after the upgrade"
		);
	});
}
