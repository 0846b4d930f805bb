//! Governance in the real runtime, from the development preset (fast periods): referenda on the
//! parameters and root tracks, conviction votes, enactment through the scheduler, and what each
//! track may and may not do.

#![allow(
	clippy::unwrap_used,
	clippy::expect_used,
	clippy::panic,
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing
)]

mod common;

use codec::Encode;
use common::{development, next_block, signed};
use commons_primitives::{commitment, output_hash, ModelStatus};
use commons_runtime::{
	currency::UNIT,
	genesis_config_presets::smollm2,
	governance::{
		origins,
		parameters::{governance, market, RuntimeParameters},
		tracks,
	},
	AccountId, Balance, Balances, ConvictionVoting, Jobs, OriginCaller, Preimage, Referenda,
	Runtime, RuntimeCall, RuntimeEvent, System, Workers,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::{
		fungible::{Inspect, InspectHold},
		schedule::DispatchTime,
		Bounded, Get,
	},
};
use pallet_conviction_voting::{AccountVote, Conviction, Vote};
use pallet_referenda::ReferendumInfo;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::{DispatchError, Perbill};

fn alice() -> AccountId {
	Sr25519Keyring::Alice.to_account_id()
}
fn bob() -> AccountId {
	Sr25519Keyring::Bob.to_account_id()
}
fn charlie() -> AccountId {
	Sr25519Keyring::Charlie.to_account_id()
}
fn dave() -> AccountId {
	Sr25519Keyring::Dave.to_account_id()
}

fn parameters_track() -> Box<OriginCaller> {
	Box::new(OriginCaller::Origins(origins::Origin::ParameterAdmin))
}

fn set(value: RuntimeParameters) -> RuntimeCall {
	RuntimeCall::ProtocolParameters(commons_runtime::governance::parameters::Call::set_parameter {
		key_value: value,
	})
}

fn min_worker_stake(value: Balance) -> RuntimeCall {
	set(RuntimeParameters::Market(market::Parameters::MinWorkerStake(
		market::MinWorkerStake,
		Some(value),
	)))
}

/// Notes the call's preimage, submits it on the track `origin` implies and places the decision
/// deposit, all from `proposer`; returns the referendum's index.
fn propose(proposer: &AccountId, origin: Box<OriginCaller>, call: RuntimeCall) -> u32 {
	let encoded = call.encode();
	assert_ok!(Preimage::note_preimage(signed(proposer), encoded.clone()));
	let hash = sp_io::hashing::blake2_256(&encoded).into();
	let index = pallet_referenda::ReferendumCount::<Runtime>::get();
	assert_ok!(Referenda::submit(
		signed(proposer),
		origin,
		Bounded::Lookup { hash, len: encoded.len() as u32 },
		DispatchTime::After(1),
	));
	assert_ok!(Referenda::place_decision_deposit(signed(proposer), index));
	index
}

fn vote(who: &AccountId, index: u32, aye: bool, conviction: Conviction, balance: Balance) {
	assert_ok!(ConvictionVoting::vote(
		signed(who),
		index,
		AccountVote::Standard { vote: Vote { aye, conviction }, balance },
	));
}

/// Three accounts vote aye with different convictions, one nay.
fn carry(index: u32) {
	vote(&alice(), index, true, Conviction::Locked3x, 600_000 * UNIT);
	vote(&bob(), index, true, Conviction::Locked1x, 300_000 * UNIT);
	vote(&charlie(), index, true, Conviction::None, 200_000 * UNIT);
	vote(&dave(), index, false, Conviction::Locked2x, 100_000 * UNIT);
}

fn is_over(index: u32) -> bool {
	!matches!(
		pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
		Some(ReferendumInfo::Ongoing(_))
	)
}

/// Advances blocks until every referendum in `indices` is over, then `after` more blocks (for
/// enactment); panics after `limit` blocks.
fn run_until_over(indices: &[u32], after: u32) {
	let mut blocks = 0;
	while !indices.iter().all(|i| is_over(*i)) {
		next_block();
		blocks += 1;
		assert!(blocks < 200, "referenda {indices:?} still ongoing after {blocks} blocks");
	}
	for _ in 0..after {
		next_block();
	}
}

fn approved(index: u32) -> bool {
	matches!(
		pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
		Some(ReferendumInfo::Approved(..))
	)
}

/// The errors of the scheduler's dispatches since genesis (its own alarms for the referenda
/// succeed; an enacted proposal that fails shows here).
fn dispatch_errors() -> Vec<DispatchError> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Scheduler(pallet_scheduler::Event::Dispatched {
				result: Err(error),
				..
			}) => Some(error),
			_ => None,
		})
		.collect()
}

fn parameter_updates() -> usize {
	System::events()
		.iter()
		.filter(|r| {
			matches!(r.event, RuntimeEvent::Parameters(pallet_parameters::Event::Updated { .. }))
		})
		.count()
}

#[test]
fn a_referendum_raises_the_minimum_stake_and_the_market_enforces_it() {
	development().execute_with(|| {
		let old = market::MinWorkerStake::get();
		assert_eq!(old, 100 * UNIT);
		let index = propose(&alice(), parameters_track(), min_worker_stake(5_000 * UNIT));
		let info = pallet_referenda::ReferendumInfoFor::<Runtime>::get(index).unwrap();
		let ReferendumInfo::Ongoing(status) = info else { panic!("ongoing") };
		assert_eq!(status.track, tracks::PARAMETERS);
		carry(index);
		assert_eq!(market::MinWorkerStake::get(), old, "nothing changes before enactment");
		run_until_over(&[index], 3);
		assert!(approved(index));
		assert_eq!(market::MinWorkerStake::get(), 5_000 * UNIT);
		assert_eq!(parameter_updates(), 1);
		assert!(dispatch_errors().is_empty());
		// A worker registering between the old and the new minimum is refused by name.
		let worker = Ed25519Keyring::Eve.to_account_id();
		assert_noop!(
			Workers::register(
				signed(&worker),
				1_000 * UNIT,
				vec![0].try_into().unwrap(),
				UNIT,
				commons_primitives::Capacity { slots: 4, tokens_per_block: 10_000 }
			),
			pallet_workers::Error::<Runtime>::StakeBelowMinimum
		);
		assert_ok!(Workers::register(
			signed(&worker),
			5_000 * UNIT,
			vec![0].try_into().unwrap(),
			UNIT,
			commons_primitives::Capacity { slots: 4, tokens_per_block: 10_000 }
		));
		// The proposer gets both deposits back once it is approved.
		let reserved = Balances::reserved_balance(alice());
		assert_ok!(Referenda::refund_submission_deposit(signed(&alice()), index));
		assert_ok!(Referenda::refund_decision_deposit(signed(&alice()), index));
		assert!(Balances::reserved_balance(alice()) < reserved);
	});
}

#[test]
fn a_failed_referendum_changes_nothing_and_returns_votes_and_deposits_as_frame_says() {
	development().execute_with(|| {
		let before = Balances::free_balance(bob());
		let index = propose(&bob(), parameters_track(), min_worker_stake(5_000 * UNIT));
		let preimage_hold =
			commons_runtime::RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
		let held_for_preimage = Balances::balance_on_hold(&preimage_hold, &bob());
		assert!(held_for_preimage > 0);
		let decision_deposit = governance::ParametersDecisionDeposit::get();
		vote(&alice(), index, false, Conviction::Locked1x, 800_000 * UNIT);
		vote(&charlie(), index, true, Conviction::None, 100_000 * UNIT);
		run_until_over(&[index], 1);
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(index),
			Some(ReferendumInfo::Rejected(..))
		));
		assert_eq!(market::MinWorkerStake::get(), 100 * UNIT);
		assert_eq!(parameter_updates(), 0, "nothing was enacted");
		assert!(dispatch_errors().is_empty());
		// The decision deposit comes back; a rejected referendum's submission deposit does not.
		assert_ok!(Referenda::refund_decision_deposit(signed(&bob()), index));
		assert_noop!(
			Referenda::refund_submission_deposit(signed(&bob()), index),
			pallet_referenda::Error::<Runtime>::BadStatus
		);
		let submission = <Runtime as pallet_referenda::Config>::SubmissionDeposit::get();
		// Holds (the preimage's) and reserves (the referendum's) share the reserved balance.
		assert_eq!(Balances::reserved_balance(bob()), submission + held_for_preimage);
		assert_eq!(
			Balances::free_balance(bob()),
			before - submission - held_for_preimage,
			"the decision deposit of {decision_deposit} came back"
		);
		// The losing aye vote unlocks at once; the winning nay stays locked for its conviction.
		let class = tracks::PARAMETERS;
		assert_ok!(ConvictionVoting::remove_vote(signed(&charlie()), Some(class), index));
		assert_ok!(ConvictionVoting::unlock(signed(&charlie()), class, charlie().into()));
		assert_eq!(pallet_balances::Locks::<Runtime>::get(charlie()).len(), 0);
		assert_ok!(ConvictionVoting::remove_vote(signed(&alice()), Some(class), index));
		assert_ok!(ConvictionVoting::unlock(signed(&alice()), class, alice().into()));
		assert_eq!(pallet_balances::Locks::<Runtime>::get(alice())[0].amount, 800_000 * UNIT);
		for _ in 0..governance::VoteLockingPeriod::get() {
			next_block();
		}
		assert_ok!(ConvictionVoting::unlock(signed(&alice()), class, alice().into()));
		assert_eq!(pallet_balances::Locks::<Runtime>::get(alice()).len(), 0);
		// The preimage deposit comes back when the preimage is removed.
		let hash = sp_io::hashing::blake2_256(&min_worker_stake(5_000 * UNIT).encode()).into();
		assert_ok!(Preimage::unnote_preimage(signed(&bob()), hash));
		assert_eq!(Balances::balance_on_hold(&preimage_hold, &bob()), 0);
	});
}

#[test]
fn the_parameters_track_cannot_do_root_things() {
	development().execute_with(|| {
		let upgrade = RuntimeCall::System(frame_system::Call::set_code { code: vec![0; 64] });
		let mint = RuntimeCall::Balances(pallet_balances::Call::force_set_balance {
			who: dave().into(),
			new_free: 1_000_000_000 * UNIT,
		});
		let own_periods = set(RuntimeParameters::Governance(
			governance::Parameters::VoteLockingPeriod(governance::VoteLockingPeriod, Some(1)),
		));
		let code_before = sp_io::storage::get(sp_core::storage::well_known_keys::CODE);
		let dave_before = Balances::total_balance(&dave());
		let locking_before = governance::VoteLockingPeriod::get();
		let indices = [
			propose(&alice(), parameters_track(), upgrade),
			propose(&alice(), parameters_track(), mint),
			propose(&alice(), parameters_track(), own_periods),
		];
		for index in indices {
			carry(index);
		}
		run_until_over(&indices, 3);
		assert!(indices.iter().all(|i| approved(*i)));
		assert_eq!(dispatch_errors(), vec![DispatchError::BadOrigin; 3]);
		assert_eq!(parameter_updates(), 0);
		assert_eq!(sp_io::storage::get(sp_core::storage::well_known_keys::CODE), code_before);
		assert_eq!(Balances::total_balance(&dave()), dave_before);
		assert_eq!(governance::VoteLockingPeriod::get(), locking_before);
	});
}

#[test]
fn an_out_of_range_value_fails_at_enactment_and_leaves_the_old_value() {
	development().execute_with(|| {
		let zero_window = set(RuntimeParameters::Market(market::Parameters::RevealWindow(
			market::RevealWindow,
			Some(0),
		)));
		let index = propose(&alice(), parameters_track(), zero_window);
		carry(index);
		run_until_over(&[index], 3);
		assert!(approved(index), "the vote passed; the value is what fails");
		assert_eq!(market::RevealWindow::get(), 15);
		// Index 26 is ProtocolParameters; its first error is OutOfRange.
		let errors = dispatch_errors();
		assert!(
			matches!(errors.as_slice(), [DispatchError::Module(e)] if e.index == 26 && e.error[0] == 0),
			"{errors:?}"
		);
		assert_eq!(parameter_updates(), 0);
	});
}

#[test]
fn out_of_range_values_are_refused_by_name_and_change_nothing() {
	development().execute_with(|| {
		let root = commons_runtime::RuntimeOrigin::root();
		let guard = |value| commons_runtime::ProtocolParameters::set_parameter(root.clone(), value);
		use commons_runtime::governance::parameters::Error;
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::RevealWindow(
				market::RevealWindow,
				Some(0)
			))),
			Error::<Runtime>::OutOfRange
		);
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::EraLength(
				market::EraLength,
				Some(0)
			))),
			Error::<Runtime>::OutOfRange
		);
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::ProtocolFee(
				market::ProtocolFee,
				Some(Perbill::from_percent(60))
			))),
			Error::<Runtime>::OutOfRange
		);
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::MinReplicas(
				market::MinReplicas,
				Some(6)
			))),
			Error::<Runtime>::ReplicasInverted
		);
		// A signed account is not governance.
		assert_noop!(
			commons_runtime::ProtocolParameters::set_parameter(
				signed(&alice()),
				RuntimeParameters::Market(market::Parameters::RevealWindow(
					market::RevealWindow,
					Some(20)
				))
			),
			DispatchError::BadOrigin
		);
		assert_ok!(guard(RuntimeParameters::Market(market::Parameters::RevealWindow(
			market::RevealWindow,
			Some(20)
		))));
		assert_eq!(market::RevealWindow::get(), 20);
		assert_eq!(<Runtime as pallet_jobs::Config>::RevealWindow::get(), 20);
	});
}

/// Governance values that would break the protocol are refused by name, each by the rule that
/// ties it to the other values, and change nothing; the defaults keep every rule.
#[test]
fn values_that_break_the_protocol_are_refused_by_the_cross_parameter_rules() {
	development().execute_with(|| {
		use commons_runtime::governance::parameters::{Error, MarketValues};
		assert_eq!(MarketValues::current().check(), Ok(()));
		let root = commons_runtime::RuntimeOrigin::root();
		let guard = |value| commons_runtime::ProtocolParameters::set_parameter(root.clone(), value);
		let minute = 30;
		// A commit margin of five minutes leaves the ten-minute window room to compute; one
		// that leaves less than a minute is refused.
		assert_ok!(guard(RuntimeParameters::Market(market::Parameters::CommitMargin(
			market::CommitMargin,
			Some(5 * minute)
		))));
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::MaxCommitWindow(
				market::MaxCommitWindow,
				Some(5 * minute + minute - 1)
			))),
			Error::<Runtime>::WindowsTooShort
		);
		// Restoring a default is checked against the values in force too.
		assert_ok!(guard(RuntimeParameters::Market(market::Parameters::MaxCommitWindow(
			market::MaxCommitWindow,
			Some(7 * minute)
		))));
		assert_ok!(guard(RuntimeParameters::Market(market::Parameters::MaxCommitWindow(
			market::MaxCommitWindow,
			None
		))));
		// A margin below the finality lag is out of range, whatever the window.
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::CommitMargin(
				market::CommitMargin,
				Some(2)
			))),
			Error::<Runtime>::OutOfRange
		);
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::NoShowSlash(
				market::NoShowSlash,
				Some(Perbill::from_percent(15))
			))),
			Error::<Runtime>::SlashesInverted
		);
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::WrongResultSlash(
				market::WrongResultSlash,
				Some(Perbill::from_percent(4))
			))),
			Error::<Runtime>::SlashesInverted
		);
		// Slash caps: a 100 % slash is out of range.
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::WrongResultSlash(
				market::WrongResultSlash,
				Some(Perbill::from_percent(100))
			))),
			Error::<Runtime>::OutOfRange
		);
		// A retention of four hours is in range, but with the default windows the store would
		// not hold four hours of jobs at the full assignment rate.
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::RetentionPeriod(
				market::RetentionPeriod,
				Some(4 * 60 * minute)
			))),
			Error::<Runtime>::RetentionExceedsStore
		);
		assert_ok!(guard(RuntimeParameters::Market(market::Parameters::RetentionPeriod(
			market::RetentionPeriod,
			Some(2 * 60 * minute)
		))));
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::MaxAssignmentDelay(
				market::MaxAssignmentDelay,
				Some(30 * minute)
			))),
			Error::<Runtime>::RetentionExceedsStore
		);
		// Zero job deposits are out of range.
		assert_noop!(
			guard(RuntimeParameters::Market(market::Parameters::JobDepositBase(
				market::JobDepositBase,
				Some(0)
			))),
			Error::<Runtime>::OutOfRange
		);
		assert_eq!(MarketValues::current().check(), Ok(()));
	});
}

#[test]
fn a_model_ban_stops_new_jobs_and_running_jobs_finish() {
	development().execute_with(|| {
		let model = 0;
		let workers: Vec<AccountId> =
			[Ed25519Keyring::Charlie, Ed25519Keyring::Dave, Ed25519Keyring::Eve]
				.into_iter()
				.map(|k| k.to_account_id())
				.collect();
		for worker in &workers {
			assert_ok!(Workers::register(
				signed(worker),
				1_000 * UNIT,
				vec![model].try_into().unwrap(),
				UNIT,
				commons_primitives::Capacity { slots: 4, tokens_per_block: 10_000 }
			));
		}
		let ban = RuntimeCall::Models(pallet_models::Call::set_model_status {
			model,
			status: ModelStatus::Banned,
		});
		let index = propose(&alice(), parameters_track(), ban);
		carry(index);
		run_until_over(&[index], 0);
		assert!(approved(index));
		// Approved; the ban is enacted within the next blocks. A job posted now is running
		// when it lands.
		let requester = Sr25519Keyring::Ferdie.to_account_id();
		let post = |requester: &AccountId| {
			Jobs::post_job(
				signed(requester),
				model,
				b"What is the capital of France?".to_vec(),
				16,
				pallet_jobs::Sampling::Greedy,
				3,
				UNIT,
				System::block_number() + 10,
			)
		};
		let job = pallet_jobs::JobCounters::<Runtime>::get().next_job;
		assert_ok!(post(&requester));
		for _ in 0..3 {
			next_block();
		}
		assert_eq!(
			pallet_models::Models::<Runtime>::get(model).unwrap().status,
			ModelStatus::Banned
		);
		assert_noop!(post(&requester), pallet_jobs::Error::<Runtime>::ModelNotActive);
		let tokens = [1u32, 2, 3];
		let hash = output_hash(smollm2::ENGINE_VERSION, model, &tokens);
		for worker in &workers {
			let salt = sp_io::hashing::blake2_256(worker.as_ref());
			assert_ok!(Jobs::commit_result(signed(worker), job, commitment(&hash, &salt, worker)));
		}
		// Every seat committed: the reveal window is open at once.
		next_block();
		for worker in &workers {
			let salt = sp_io::hashing::blake2_256(worker.as_ref());
			assert_ok!(Jobs::reveal_result(
				signed(worker),
				job,
				tokens.to_vec().try_into().unwrap(),
				salt
			));
		}
		next_block();
		assert!(System::events().iter().any(|r| matches!(
			r.event,
			RuntimeEvent::Jobs(pallet_jobs::Event::JobAccepted { job: j, .. }) if j == job
		)));
	});
}

#[test]
fn a_launched_network_governs_in_days_and_has_no_sudo() {
	common::example_network().execute_with(|| {
		assert_eq!(governance::ParametersDecisionPeriod::get(), 5 * commons_runtime::time::DAYS);
		assert_eq!(governance::RootConfirmPeriod::get(), 3 * commons_runtime::time::DAYS);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
	});
	development().execute_with(|| {
		assert!(governance::ParametersDecisionPeriod::get() <= 30);
	});
}

/// The old testnet preset's root track could never start deciding while its decision deposit
/// (100,000 CMN) exceeded its whole genesis supply (40,000 CMN, as in this example network): no
/// runtime upgrade was reachable. A deposit is now held to a tenth of the issuance, and four root referenda decide at once, so that one
/// nobody supports cannot hold upgrades up for its whole decision period.
#[test]
fn a_launched_networks_decision_deposits_fit_its_supply_and_root_referenda_decide_side_by_side() {
	use commons_runtime::governance::{
		parameters::{Error, MAX_DEPOSIT_SHARE},
		tracks,
	};
	use pallet_referenda::TracksInfo;
	common::example_network().execute_with(|| {
		let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
		let most = MAX_DEPOSIT_SHARE.mul_floor(issuance);
		// The four validators' 40,000 CMN and the treasury's existential deposit.
		assert!((4_000 * UNIT..4_001 * UNIT).contains(&most), "{most}: a tenth of the issuance");
		assert!(governance::RootDecisionDeposit::get() <= most);
		assert!(governance::ParametersDecisionDeposit::get() <= most);
		let root_track = tracks::TracksInfo::tracks()
			.find(|track| track.id == tracks::ROOT)
			.expect("a root track");
		assert_eq!(root_track.info.max_deciding, 4);
		assert_eq!(root_track.info.decision_deposit, governance::RootDecisionDeposit::get());

		let root = commons_runtime::RuntimeOrigin::root();
		let set = |deposit| {
			commons_runtime::ProtocolParameters::set_parameter(
				root.clone(),
				RuntimeParameters::Governance(governance::Parameters::RootDecisionDeposit(
					governance::RootDecisionDeposit,
					Some(deposit),
				)),
			)
		};
		assert_noop!(set(most + 1), Error::<Runtime>::DepositAboveSupply);
		assert_ok!(set(most));
		assert_eq!(governance::RootDecisionDeposit::get(), most);
	});
}

#[test]
fn the_catalogue_and_the_guard_agree_on_every_range() {
	use commons_runtime::governance::parameters::{self, Refusal};
	development().execute_with(|| {
		assert_eq!(parameters::PARAMETERS.len(), 34, "19 market and 15 governance parameters");
		for info in parameters::PARAMETERS {
			let setting = |value| parameters::compose(info.name, Some(value));
			let low = setting(info.low).unwrap();
			assert_eq!(parameters::parts(&low), (info.name, Some(info.low)));
			// The ranges are each parameter's own bounds; with the other values at their
			// defaults, some extremes break a rule that ties them together.
			let expected = match info.name {
				// 1 % is less than the no-show slash (5 %).
				"WrongResultSlash" => Err(Refusal::SlashesInverted),
				// 36 blocks leave less than a minute beyond the default margin (10 blocks).
				"MaxCommitWindow" => Err(Refusal::WindowsTooShort),
				_ => Ok(()),
			};
			assert_eq!(parameters::check(&low), expected, "{} at its least value", info.name);
			let high = setting(info.high).unwrap();
			let expected = match info.name {
				// Seven as the fewest replicas would exceed the most (five).
				"MinReplicas" => Err(Refusal::ReplicasInverted),
				// 20 % is more than the wrong-result slash (10 %).
				"NoShowSlash" => Err(Refusal::SlashesInverted),
				// Longer lives or retention than the store holds at the full rate.
				"RetentionPeriod" | "MaxAssignmentDelay" | "MaxCommitWindow" | "RevealWindow" => {
					Err(Refusal::RetentionExceedsStore)
				},
				_ => Ok(()),
			};
			assert_eq!(parameters::check(&high), expected, "{} at its most value", info.name);
			// One above the most is refused, or cannot even be written (a share above 100 %).
			if let Some(above) = setting(info.high + 1) {
				assert_eq!(parameters::check(&above), Err(Refusal::OutOfRange), "{}", info.name);
			}
			if info.low > 0 {
				let below = setting(info.low - 1).unwrap();
				assert_eq!(parameters::check(&below), Err(Refusal::OutOfRange), "{}", info.name);
			}
			// Restoring the default is always allowed, and the default is in range.
			let restore = parameters::compose(info.name, None).unwrap();
			assert_eq!(parameters::check(&restore), Ok(()));
			let current = parameters::current(info.name).unwrap();
			assert!(current >= info.low && current <= info.high, "{} = {current}", info.name);
		}
		assert_eq!(parameters::compose("NoSuchParameter", Some(1)), None);
		assert_eq!(parameters::current("MinWorkerStake"), Some(100 * UNIT));
		assert_eq!(parameters::current("ParametersDecisionPeriod"), Some(30), "fast timing");
	});
}

/// What clients read instead of a compiled-in catalogue: the `ProtocolParameters` view
/// functions describe every parameter, build a proposal exactly as a referendum needs it, and
/// refuse what the guard would refuse.
#[test]
fn the_view_functions_describe_parameters_and_build_proposals_the_guard_accepts() {
	use commons_runtime::governance::parameters::{self, ProposalRefusal, Refusal};
	development().execute_with(|| {
		let states = parameters::states();
		assert_eq!(states.len(), parameters::PARAMETERS.len());
		let stake = states.iter().find(|state| state.name == b"MinWorkerStake").unwrap();
		assert_eq!((stake.default, stake.current), (100 * UNIT, 100 * UNIT));
		assert_eq!(stake.track, tracks::PARAMETERS);
		// The development preset sets fast governance periods: the default is what applies
		// without them, the current value what applies now.
		let locking = states.iter().find(|state| state.name == b"VoteLockingPeriod").unwrap();
		assert_eq!(locking.track, tracks::ROOT);
		assert_eq!(locking.current, 10);
		assert_eq!(locking.default, u128::from(7 * commons_runtime::time::DAYS));
		assert_eq!(governance::VoteLockingPeriod::get(), 10, "reading the default changed nothing");

		assert_eq!(
			parameters::proposal(b"NoSuchThing", Some(1)),
			Err(ProposalRefusal::UnknownParameter)
		);
		assert_eq!(
			parameters::proposal(b"MinReplicas", Some(6)),
			Err(ProposalRefusal::Refused(Refusal::ReplicasInverted))
		);
		assert_eq!(
			parameters::proposal(b"ProtocolFee", Some(600_000_000)),
			Err(ProposalRefusal::Refused(Refusal::OutOfRange))
		);
		// More than a whole is no share at all.
		assert_eq!(
			parameters::proposal(b"ProtocolFee", Some(2_000_000_000)),
			Err(ProposalRefusal::DoesNotFit)
		);

		let built = parameters::proposal(b"MinWorkerStake", Some(5_000 * UNIT)).unwrap();
		assert_eq!(built.call, min_worker_stake(5_000 * UNIT).encode());
		assert_eq!(*parameters_track(), built.origin);
		assert_eq!(built.track, tracks::PARAMETERS);
		assert_eq!(
			parameters::change(&built.call),
			Some((b"MinWorkerStake".to_vec(), Some(5_000 * UNIT)))
		);
		assert_eq!(
			parameters::change(
				&RuntimeCall::System(frame_system::Call::remark { remark: vec![1] }).encode()
			),
			None
		);

		// The deposits are what the three steps hold: the proposal goes through as built.
		let free = Balances::free_balance(alice());
		let index =
			propose(&alice(), Box::new(built.origin.clone()), min_worker_stake(5_000 * UNIT));
		let held = free - Balances::free_balance(alice());
		assert_eq!(
			held,
			built.preimage_deposit + built.submission_deposit + built.decision_deposit,
			"referendum #{index}"
		);
		// Noted now: a second proposal of the same call holds no preimage deposit.
		let again = parameters::proposal(b"MinWorkerStake", Some(5_000 * UNIT)).unwrap();
		assert_eq!(again.preimage_deposit, 0);
	});
}

fn whitelisted_caller_track() -> Box<OriginCaller> {
	Box::new(OriginCaller::Origins(origins::Origin::WhitelistedCaller))
}

fn canceller_track() -> Box<OriginCaller> {
	Box::new(OriginCaller::Origins(origins::Origin::ReferendumCanceller))
}

/// A root-only change: the vote-locking period, one of governance's own parameters.
fn vote_locking(blocks: u32) -> RuntimeCall {
	set(RuntimeParameters::Governance(governance::Parameters::VoteLockingPeriod(
		governance::VoteLockingPeriod,
		Some(blocks),
	)))
}

fn dispatch_whitelisted(call: RuntimeCall) -> RuntimeCall {
	RuntimeCall::Whitelist(pallet_whitelist::Call::dispatch_whitelisted_call_with_preimage {
		call: Box::new(call),
	})
}

/// `proposer` moves a committee motion for `call` needing `threshold` ayes; `ayes` vote for it;
/// then anyone closes it. Returns the result of the motion's call, if it ran.
fn committee_motion(
	proposer: &AccountId,
	threshold: u32,
	call: RuntimeCall,
	ayes: &[AccountId],
) -> Option<Result<(), DispatchError>> {
	use commons_runtime::TechnicalCommittee;
	let length = call.encoded_size() as u32;
	let hash = sp_io::hashing::blake2_256(&call.encode()).into();
	let index = pallet_collective::ProposalCount::<Runtime, pallet_collective::Instance1>::get();
	System::reset_events();
	assert_ok!(TechnicalCommittee::propose(signed(proposer), threshold, Box::new(call), length));
	for who in ayes {
		assert_ok!(TechnicalCommittee::vote(signed(who), hash, index, true));
	}
	if threshold > 1 {
		let _ = TechnicalCommittee::close(
			signed(&dave()),
			hash,
			index,
			commons_runtime::configs::governance::TechnicalMaxProposalWeight::get(),
			length,
		);
	}
	System::events().into_iter().find_map(|record| match record.event {
		RuntimeEvent::TechnicalCommittee(pallet_collective::Event::Executed { result, .. }) => {
			Some(result)
		},
		_ => None,
	})
}

fn whitelisted(call: &RuntimeCall) -> bool {
	let hash: sp_core::H256 = sp_io::hashing::blake2_256(&call.encode()).into();
	pallet_whitelist::WhitelistedCall::<Runtime>::contains_key(hash)
}

/// The fast track: two thirds of the technical committee whitelist a root call's hash, and a
/// referendum on the whitelisted-caller track dispatches exactly that call as root. Neither
/// half suffices alone: the committee's own origin and the track's origin do nothing else, a
/// call the committee did not whitelist waits (deferred), and one member cannot whitelist.
#[test]
fn an_emergency_fix_needs_the_committees_whitelist_and_a_fast_track_referendum() {
	development().execute_with(|| {
		let fix = vote_locking(5);
		let before = governance::VoteLockingPeriod::get();
		assert_ne!(before, 5);

		// One member of three is not two thirds.
		let whitelist = RuntimeCall::Whitelist(pallet_whitelist::Call::whitelist_call {
			call_hash: sp_io::hashing::blake2_256(&fix.encode()).into(),
		});
		assert_eq!(
			committee_motion(&alice(), 1, whitelist.clone(), &[]),
			Some(Err(DispatchError::BadOrigin))
		);
		assert!(!whitelisted(&fix));
		// The committee's origin cannot change anything itself, even with every member.
		let mint = RuntimeCall::Balances(pallet_balances::Call::force_set_balance {
			who: dave().into(),
			new_free: 1_000_000_000 * UNIT,
		});
		let dave_before = Balances::total_balance(&dave());
		for call in [fix.clone(), mint] {
			assert_eq!(
				committee_motion(&alice(), 3, call, &[alice(), bob(), charlie()]),
				Some(Err(DispatchError::BadOrigin))
			);
		}
		assert_eq!(governance::VoteLockingPeriod::get(), before);
		assert_eq!(Balances::total_balance(&dave()), dave_before);
		// Two of three whitelist it.
		assert_eq!(committee_motion(&alice(), 2, whitelist, &[alice(), bob()]), Some(Ok(())));
		assert!(whitelisted(&fix));

		// The track's origin cannot dispatch the call directly: only through the whitelist.
		let direct = propose(&alice(), whitelisted_caller_track(), fix.clone());
		let index = propose(&alice(), whitelisted_caller_track(), dispatch_whitelisted(fix));
		let info = pallet_referenda::ReferendumInfoFor::<Runtime>::get(index).unwrap();
		let ReferendumInfo::Ongoing(status) = info else { panic!("ongoing") };
		assert_eq!(status.track, tracks::WHITELISTED_CALLER);
		// A call nobody whitelisted is deferred, not dispatched.
		let unvetted = vote_locking(6);
		let deferred =
			propose(&alice(), whitelisted_caller_track(), dispatch_whitelisted(unvetted.clone()));
		for i in [direct, index, deferred] {
			carry(i);
		}
		run_until_over(&[direct, index, deferred], 3);
		assert!([direct, index, deferred].iter().all(|i| approved(*i)));
		assert_eq!(governance::VoteLockingPeriod::get(), 5, "the whitelisted fix is enacted");
		assert_eq!(dispatch_errors(), vec![DispatchError::BadOrigin], "the direct one fails");
		assert!(!whitelisted(&vote_locking(5)), "a whitelisted call is dispatched once");
		let unvetted_hash = sp_io::hashing::blake2_256(&unvetted.encode()).into();
		assert!(pallet_whitelist::DeferredDispatch::<Runtime>::contains_key(unvetted_hash));
		assert_eq!(governance::VoteLockingPeriod::get(), 5, "the unvetted call waits");
		// Anyone may run it once the committee whitelists it (before the deferral expires).
		let whitelist = RuntimeCall::Whitelist(pallet_whitelist::Call::whitelist_call {
			call_hash: unvetted_hash,
		});
		assert_eq!(committee_motion(&bob(), 2, whitelist, &[bob(), charlie()]), Some(Ok(())));
		assert_ok!(commons_runtime::Whitelist::dispatch_whitelisted_call_with_preimage(
			signed(&dave()),
			Box::new(unvetted)
		));
		assert_eq!(governance::VoteLockingPeriod::get(), 6);
	});
}

/// A junk root referendum holding a deciding place is killed by a referendum on the canceller
/// track, whose periods are hours rather than the root track's days: its submission and
/// decision deposits go to the treasury. The canceller's origin can do nothing else.
#[test]
fn a_junk_root_referendum_is_killed_on_the_canceller_track_and_its_deposits_slashed() {
	use commons_runtime::configs::TreasuryAccount;
	development().execute_with(|| {
		let eve = Sr25519Keyring::Eve.to_account_id();
		let junk = propose(
			&eve,
			Box::new(OriginCaller::system(frame_system::RawOrigin::Root)),
			RuntimeCall::System(frame_system::Call::remark { remark: b"junk".to_vec() }),
		);
		let deposits = <Runtime as pallet_referenda::Config>::SubmissionDeposit::get()
			+ governance::RootDecisionDeposit::get();
		let treasury_before = Balances::free_balance(TreasuryAccount::get());
		let eve_before = Balances::total_balance(&eve);

		let kill = RuntimeCall::Referenda(pallet_referenda::Call::kill { index: junk });
		let upgrade = RuntimeCall::System(frame_system::Call::set_code { code: vec![0; 64] });
		let code_before = sp_io::storage::get(sp_core::storage::well_known_keys::CODE);
		let indices = [
			propose(&alice(), canceller_track(), kill),
			propose(&alice(), canceller_track(), upgrade),
		];
		let info = pallet_referenda::ReferendumInfoFor::<Runtime>::get(indices[0]).unwrap();
		let ReferendumInfo::Ongoing(status) = info else { panic!("ongoing") };
		assert_eq!(status.track, tracks::REFERENDUM_CANCELLER);
		for index in indices {
			carry(index);
		}
		run_until_over(&indices, 3);
		assert!(indices.iter().all(|i| approved(*i)));
		assert!(matches!(
			pallet_referenda::ReferendumInfoFor::<Runtime>::get(junk),
			Some(ReferendumInfo::Killed(..))
		));
		assert_eq!(dispatch_errors(), vec![DispatchError::BadOrigin], "no upgrade from it");
		assert_eq!(sp_io::storage::get(sp_core::storage::well_known_keys::CODE), code_before);
		assert_eq!(Balances::free_balance(TreasuryAccount::get()), treasury_before + deposits);
		assert_eq!(Balances::total_balance(&eve), eve_before - deposits);
	});
}

/// A launched network's fast tracks pass in hours where the root track takes days, and their
/// deposit fits the supply as the others do.
#[test]
fn a_launched_networks_fast_tracks_take_hours_and_their_deposit_fits_the_supply() {
	use commons_runtime::{governance::parameters::MAX_DEPOSIT_SHARE, time::HOURS};
	use pallet_referenda::TracksInfo;
	common::example_network().execute_with(|| {
		let track = |id| tracks::TracksInfo::tracks().find(|track| track.id == id).unwrap();
		let soonest = |id| {
			let info = track(id).info.clone();
			info.prepare_period + info.confirm_period + info.min_enactment_period
		};
		assert!(soonest(tracks::WHITELISTED_CALLER) <= 2 * HOURS);
		assert!(soonest(tracks::REFERENDUM_CANCELLER) <= 2 * HOURS);
		assert!(soonest(tracks::ROOT) >= 5 * 24 * HOURS);
		let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
		assert!(
			governance::FastTrackDecisionDeposit::get() <= MAX_DEPOSIT_SHARE.mul_floor(issuance)
		);
		assert_eq!(
			pallet_collective::Members::<Runtime, pallet_collective::Instance1>::get().len(),
			4,
			"the network's committee"
		);
	});
}
