//! The marketplace pallets together in the real runtime, from the development preset: a job's
//! whole life in each verdict, with every figure reconciled against balances and issuance.

#![allow(
	clippy::unwrap_used,
	clippy::expect_used,
	clippy::panic,
	clippy::arithmetic_side_effects,
	clippy::indexing_slicing
)]

mod common;

use common::{development, genesis_from_preset, next_block, signed};
use commons_primitives::{commitment, output_hash, JobId, ModelStatus, OutputHash, Salt};
use commons_runtime::{
	configs::TreasuryAccount, currency::UNIT, genesis_config_presets::smollm2, AccountId, Balance,
	Balances, Jobs, Models, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin, System, Workers,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Inspect, Get},
};
use pallet_jobs::{JobStatus, Sampling, Verdict};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::Perbill;

const MODEL: u32 = 0;
const PRICE: Balance = UNIT;
const STAKE: Balance = 1_000 * UNIT;

fn requester() -> AccountId {
	Sr25519Keyring::Bob.to_account_id()
}

/// Workers use ed25519 keys, as `commons-worker` does.
fn workers() -> Vec<AccountId> {
	[
		Ed25519Keyring::Charlie,
		Ed25519Keyring::Dave,
		Ed25519Keyring::Eve,
		Ed25519Keyring::Ferdie,
		Ed25519Keyring::Alice,
	]
	.into_iter()
	.map(|key| key.to_account_id())
	.collect()
}

fn register_workers(count: usize) {
	for worker in workers().iter().take(count) {
		assert_ok!(Workers::register(
			signed(worker),
			STAKE,
			vec![MODEL].try_into().unwrap(),
			PRICE,
			commons_primitives::Capacity { slots: 4, tokens_per_block: 10_000 },
		));
	}
}

/// Price and fee of every seat a job of `replicas` may have with escalation.
fn escrow(replicas: u32) -> Balance {
	Balance::from(pallet_jobs::Pallet::<Runtime>::max_seats(replicas)) * (PRICE + fee())
}

/// Moves past the commit window of the job's current round.
fn past_commit_window(job: JobId) {
	let JobStatus::Assigned { commit_end, .. } = status(job) else { panic!("not assigned") };
	while System::block_number() <= commit_end {
		next_block();
	}
}

fn post(replicas: u32) -> JobId {
	let job = pallet_jobs::JobCounters::<Runtime>::get().next_job;
	assert_ok!(Jobs::post_job(
		signed(&requester()),
		MODEL,
		b"What is the capital of France?".to_vec(),
		16,
		Sampling::Greedy,
		replicas,
		PRICE,
		System::block_number() + 10,
	));
	job
}

fn seats(job: JobId) -> Vec<AccountId> {
	pallet_jobs::Jobs::<Runtime>::get(job)
		.unwrap()
		.seats
		.iter()
		.map(|seat| seat.worker.clone())
		.collect()
}

fn status(job: JobId) -> JobStatus<u32> {
	pallet_jobs::Jobs::<Runtime>::get(job).unwrap().status
}

fn salt_of(worker: &AccountId) -> Salt {
	sp_io::hashing::blake2_256(worker.as_ref())
}

fn hash_of(tokens: &[u32]) -> OutputHash {
	output_hash(smollm2::ENGINE_VERSION, MODEL, tokens)
}

fn commit(worker: &AccountId, job: JobId, tokens: &[u32]) {
	let commitment = commitment(&hash_of(tokens), &salt_of(worker), worker);
	assert_ok!(Jobs::commit_result(signed(worker), job, commitment));
}

fn reveal(worker: &AccountId, job: JobId, tokens: &[u32]) {
	assert_ok!(Jobs::reveal_result(
		signed(worker),
		job,
		tokens.to_vec().try_into().unwrap(),
		salt_of(worker)
	));
}

fn free(who: &AccountId) -> Balance {
	Balances::balance(who)
}

fn fee() -> Balance {
	<Runtime as pallet_rewards::Config>::ProtocolFee::get() * PRICE
}

fn stake(who: &AccountId) -> Balance {
	pallet_workers::Workers::<Runtime>::get(who).unwrap().total_stake()
}

fn check_invariants() {
	pallet_models::Pallet::<Runtime>::do_try_state().unwrap();
	pallet_workers::Pallet::<Runtime>::do_try_state().unwrap();
	pallet_jobs::Pallet::<Runtime>::do_try_state().unwrap();
	pallet_rewards::Pallet::<Runtime>::do_try_state().unwrap();
}

fn market_events() -> Vec<RuntimeEvent> {
	System::events().into_iter().map(|record| record.event).collect()
}

#[test]
fn every_preset_and_a_launched_network_register_smollm2() {
	for preset in ["development", "local_testnet", "a launched network"] {
		let mut genesis = match preset {
			"a launched network" => common::example_network(),
			preset => genesis_from_preset(preset),
		};
		genesis.execute_with(|| {
			let model = pallet_models::Models::<Runtime>::get(MODEL).unwrap();
			assert_eq!(&model.spec.name[..], b"SmolLM2-135M-Instruct", "{preset}");
			assert_eq!(model.spec.weights_size, 98_362_432);
			assert_eq!(
				hex::encode(model.spec.weights_sha256),
				"b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
			);
			assert_eq!(&model.spec.quantisation[..], b"Q4_1");
			assert_eq!(model.status, ModelStatus::Active);
			assert_eq!(
				free(&TreasuryAccount::get()),
				commons_runtime::currency::EXISTENTIAL_DEPOSIT
			);
		});
	}
}

#[test]
fn three_honest_workers_are_accepted_and_every_figure_reconciles() {
	development().execute_with(|| {
		register_workers(3);
		let issuance = Balances::total_issuance();
		let requester_before = free(&requester());
		let treasury_before = free(&TreasuryAccount::get());
		let job = post(3);
		let deposit = pallet_jobs::Jobs::<Runtime>::get(job).unwrap().deposit;
		next_block();
		let seated = seats(job);
		assert_eq!(seated.len(), 3);
		let before: Vec<_> = seated.iter().map(free).collect();
		let tokens = [504, 3575, 314, 4649, 30];
		for worker in &seated {
			commit(worker, job, &tokens);
		}
		for worker in &seated {
			reveal(worker, job, &tokens);
		}
		assert!(matches!(
			status(job),
			JobStatus::Settled { verdict: Verdict::Accepted { output_hash }, .. } if output_hash == hash_of(&tokens)
		));
		for (worker, before) in seated.iter().zip(before) {
			assert_eq!(free(worker), before + PRICE);
		}
		assert_eq!(requester_before - free(&requester()), 3 * (PRICE + fee()) + deposit);
		assert_eq!(free(&TreasuryAccount::get()), treasury_before + 3 * fee());
		assert_eq!(Balances::total_issuance(), issuance);
		assert!(market_events().contains(&RuntimeEvent::Jobs(pallet_jobs::Event::JobAccepted {
			job,
			output_hash: hash_of(&tokens),
			agreeing_workers: seated.clone().try_into().unwrap(),
			paid: 3 * PRICE,
			fee: 3 * fee(),
		})));
		assert_eq!(Jobs::accepted_output(job).unwrap().to_vec(), tokens.to_vec());
		check_invariants();
	});
}

/// Two of four agreeing is not a majority of the four replicas asked for: the job escalates,
/// a fifth seat agrees with the honest two, the honest side is paid and both the wrong and the
/// absent seats are slashed, to the treasury.
#[test]
fn two_of_four_agreeing_escalates_and_the_honest_side_wins() {
	development().execute_with(|| {
		register_workers(5);
		let issuance = Balances::total_issuance();
		let requester_before = free(&requester());
		let treasury_before = free(&TreasuryAccount::get());
		let job = post(4);
		let deposit = pallet_jobs::Jobs::<Runtime>::get(job).unwrap().deposit;
		next_block();
		let seated = seats(job);
		let (honest, cheat, absent) = (&seated[..2], &seated[2], &seated[3]);
		for worker in honest {
			commit(worker, job, &[1, 2, 3]);
		}
		commit(cheat, job, &[6, 6, 6]);
		// Past the commit window: the absent worker can no longer commit.
		past_commit_window(job);
		for worker in honest {
			reveal(worker, job, &[1, 2, 3]);
		}
		reveal(cheat, job, &[6, 6, 6]);
		assert_eq!(status(job), JobStatus::Escalating { needed: 1 });
		next_block();
		let fifth = seats(job)[4].clone();
		assert!(!seated.contains(&fifth));
		commit(&fifth, job, &[1, 2, 3]);
		reveal(&fifth, job, &[1, 2, 3]);
		assert!(matches!(
			status(job),
			JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. }
		));
		let no_show = <Runtime as pallet_jobs::Config>::NoShowSlash::get() * STAKE;
		let wrong = <Runtime as pallet_jobs::Config>::WrongResultSlash::get() * STAKE;
		assert_eq!(stake(absent), STAKE - no_show);
		assert_eq!(stake(cheat), STAKE - wrong);
		// The requester paid three agreeing seats and nothing else; the treasury got their
		// fees and both slashes.
		assert_eq!(requester_before - free(&requester()), 3 * (PRICE + fee()) + deposit);
		assert_eq!(free(&TreasuryAccount::get()), treasury_before + 3 * fee() + no_show + wrong);
		assert_eq!(Balances::total_issuance(), issuance);
		check_invariants();
	});
}

#[test]
fn two_honest_one_wrong_is_accepted_and_the_slash_goes_to_the_treasury() {
	development().execute_with(|| {
		register_workers(3);
		let issuance = Balances::total_issuance();
		let job = post(3);
		next_block();
		let seated = seats(job);
		commit(&seated[0], job, &[7, 8]);
		commit(&seated[1], job, &[7, 8]);
		commit(&seated[2], job, &[9]);
		let requester_before = free(&requester());
		let treasury_before = free(&TreasuryAccount::get());
		reveal(&seated[0], job, &[7, 8]);
		reveal(&seated[1], job, &[7, 8]);
		reveal(&seated[2], job, &[9]);
		assert!(matches!(
			status(job),
			JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. }
		));
		let wrong = <Runtime as pallet_jobs::Config>::WrongResultSlash::get() * STAKE;
		assert_eq!(wrong, Perbill::from_percent(10) * STAKE);
		assert_eq!(stake(&seated[2]), STAKE - wrong);
		// The escrow of every seat but the two paid comes back; the slash goes to the treasury.
		assert_eq!(free(&requester()), requester_before + escrow(3) - 2 * (PRICE + fee()));
		assert_eq!(free(&TreasuryAccount::get()), treasury_before + 2 * fee() + wrong);
		assert_eq!(Balances::total_issuance(), issuance);
		let reputation = pallet_workers::Workers::<Runtime>::get(&seated[2]).unwrap().reputation;
		assert_eq!((reputation.accepted, reputation.wrong, reputation.no_show), (0, 1, 0));
		check_invariants();
	});
}

#[test]
fn a_job_nobody_serves_expires_and_is_refunded_with_its_deposit() {
	development().execute_with(|| {
		let before = free(&requester());
		let job = post(3);
		for _ in 0..11 {
			next_block();
		}
		assert!(pallet_jobs::Jobs::<Runtime>::get(job).is_none());
		assert_eq!(free(&requester()), before);
		check_invariants();
	});
}

#[test]
fn bad_posts_are_refused_by_name_and_hold_nothing() {
	development().execute_with(|| {
		let before = free(&requester());
		let post = |model: u32, prompt: Vec<u8>, replicas: u32, price: Balance| {
			Jobs::post_job(
				signed(&requester()),
				model,
				prompt,
				16,
				Sampling::Greedy,
				replicas,
				price,
				20,
			)
		};
		assert_noop!(
			post(9, b"hi".to_vec(), 3, PRICE),
			pallet_jobs::Error::<Runtime>::UnknownModel
		);
		assert_noop!(
			post(MODEL, vec![b'a'; 8193], 3, PRICE),
			pallet_jobs::Error::<Runtime>::PromptTooLong
		);
		assert_noop!(
			post(MODEL, b"hi".to_vec(), 6, PRICE),
			pallet_jobs::Error::<Runtime>::ReplicasOutOfRange
		);
		assert_noop!(
			post(MODEL, b"hi".to_vec(), 3, smollm2::MIN_PRICE - 1),
			pallet_jobs::Error::<Runtime>::PriceBelowModelFloor
		);
		assert_noop!(
			post(MODEL, b"hi".to_vec(), 3, 1_000_000 * UNIT),
			pallet_jobs::Error::<Runtime>::InsufficientBalance
		);
		assert_ok!(Models::set_model_status(RuntimeOrigin::root(), MODEL, ModelStatus::Banned));
		assert_noop!(
			post(MODEL, b"hi".to_vec(), 3, PRICE),
			pallet_jobs::Error::<Runtime>::ModelNotActive
		);
		assert_eq!(free(&requester()), before);
	});
}

#[test]
fn emission_pays_workers_their_capped_share_at_the_end_of_the_era() {
	development().execute_with(|| {
		register_workers(3);
		let job = post(3);
		next_block();
		let seated = seats(job);
		for worker in &seated {
			commit(worker, job, &[1]);
		}
		for worker in &seated {
			reveal(worker, job, &[1]);
		}
		let before: Vec<_> = seated.iter().map(free).collect();
		let issuance = Balances::total_issuance();
		let era_length: u32 = <Runtime as pallet_rewards::Config>::EraLength::get();
		while System::block_number() < era_length + 2 {
			next_block();
		}
		// Each worker's share of the emission is a third, far above its cap: half the fees its
		// work paid.
		let cap = Perbill::from_percent(50) * fee();
		for (worker, before) in seated.iter().zip(before) {
			assert_eq!(free(worker), before + cap);
		}
		assert_eq!(Balances::total_issuance(), issuance + 3 * cap);
		check_invariants();
	});
}

#[test]
fn the_marketplace_calls_are_in_the_runtime() {
	// Indices are part of every encoded call: they must not move.
	let call = RuntimeCall::Jobs(pallet_jobs::Call::cancel_job { job: 0 });
	assert_eq!(codec::Encode::encode(&call)[0], 12);
	let call = RuntimeCall::Workers(pallet_workers::Call::go_offline {});
	assert_eq!(codec::Encode::encode(&call)[0], 11);
	let call = RuntimeCall::Models(pallet_models::Call::deregister_model { model: 0 });
	assert_eq!(codec::Encode::encode(&call)[0], 10);
}

#[test]
fn a_no_show_is_slashed_and_the_job_is_still_accepted() {
	development().execute_with(|| {
		register_workers(3);
		let job = post(3);
		next_block();
		let seated = seats(job);
		commit(&seated[0], job, &[5]);
		commit(&seated[1], job, &[5]);
		past_commit_window(job);
		let requester_before = free(&requester());
		reveal(&seated[0], job, &[5]);
		reveal(&seated[1], job, &[5]);
		assert!(matches!(
			status(job),
			JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. }
		));
		let no_show = <Runtime as pallet_jobs::Config>::NoShowSlash::get() * STAKE;
		assert_eq!(stake(&seated[2]), STAKE - no_show);
		// Everything held but the two paid seats comes back, and nothing more.
		assert_eq!(free(&requester()), requester_before + escrow(3) - 2 * (PRICE + fee()));
		assert!(market_events().contains(&RuntimeEvent::Jobs(pallet_jobs::Event::WorkerSlashed {
			worker: seated[2].clone(),
			job,
			amount: no_show,
			reason: pallet_jobs::SlashReason::NoShow,
		})));
		check_invariants();
	});
}

/// Three different outputs escalate by two seats; both agree with one of the first outputs,
/// which wins three to two.
#[test]
fn three_different_outputs_escalate_until_a_majority_exists() {
	development().execute_with(|| {
		register_workers(5);
		let requester_before = free(&requester());
		let job = post(3);
		let deposit = pallet_jobs::Jobs::<Runtime>::get(job).unwrap().deposit;
		next_block();
		let seated = seats(job);
		for (i, worker) in seated.iter().enumerate() {
			commit(worker, job, &[i as u32]);
		}
		for (i, worker) in seated.iter().enumerate() {
			reveal(worker, job, &[i as u32]);
		}
		assert_eq!(status(job), JobStatus::Escalating { needed: 2 });
		next_block();
		let added = seats(job)[3..].to_vec();
		assert_eq!(added.len(), 2);
		for worker in &added {
			commit(worker, job, &[0]);
		}
		for worker in &added {
			reveal(worker, job, &[0]);
		}
		assert!(matches!(
			status(job),
			JobStatus::Settled { verdict: Verdict::Accepted { output_hash }, .. } if output_hash == hash_of(&[0])
		));
		let wrong = <Runtime as pallet_jobs::Config>::WrongResultSlash::get() * STAKE;
		assert_eq!(stake(&seated[0]), STAKE);
		for worker in &seated[1..] {
			assert_eq!(stake(worker), STAKE - wrong);
		}
		assert_eq!(requester_before - free(&requester()), 3 * (PRICE + fee()) + deposit);
		check_invariants();
	});
}
