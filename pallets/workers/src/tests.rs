//! Tests of every call of the worker registry, success and failure, and of the registry trait.

#![allow(clippy::arithmetic_side_effects)]

use crate::{mock::*, Candidates, Error, Event, HoldReason, Reputation, Unbonding, WorkerCount};
use commons_primitives::{Capacity, Outcome, WorkerRegistry};
use frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold, BoundedVec};
use sp_runtime::{DispatchError, Perbill};

/// Two slots (the mock's most) of 10 tokens a block.
const CAPACITY: Capacity = Capacity { slots: 2, tokens_per_block: 10 };

fn models(ids: &[u32]) -> BoundedVec<u32, frame_support::traits::ConstU32<3>> {
	ids.to_vec().try_into().unwrap()
}

fn stake_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Workers(HoldReason::Stake), &who)
}

fn info(who: AccountId) -> crate::WorkerInfo<Test> {
	crate::Workers::<Test>::get(who).unwrap()
}

fn listed(model: u32) -> Vec<(AccountId, Balance, Balance)> {
	Candidates::<Test>::get(model).into_iter().map(|c| (c.worker, c.stake, c.price)).collect()
}

fn register(who: AccountId, stake: Balance, ids: &[u32], price: Balance) {
	assert_ok!(Workers::register(RuntimeOrigin::signed(who), stake, models(ids), price, CAPACITY));
}

#[test]
fn register_holds_stake_and_indexes_the_worker() {
	build_and_execute(|| {
		register(ALICE, 500, &[0, 2], 7);
		assert_eq!(stake_held(ALICE), 500);
		assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - 500);
		let worker = info(ALICE);
		assert_eq!((worker.bonded, worker.price, worker.online), (500, 7, true));
		assert_eq!(listed(0), vec![(ALICE, 500, 7)]);
		assert_eq!(listed(1), vec![]);
		assert_eq!(listed(2), vec![(ALICE, 500, 7)]);
		assert_eq!(WorkerCount::<Test>::get(), 1);
		System::assert_last_event(
			Event::WorkerRegistered {
				worker: ALICE,
				stake: 500,
				models: models(&[0, 2]),
				price: 7,
				capacity: CAPACITY,
			}
			.into(),
		);
	});
}

#[test]
fn register_failures_hold_nothing() {
	build_and_execute(|| {
		let signed = RuntimeOrigin::signed;
		assert_noop!(
			Workers::register(signed(ALICE), 99, models(&[0]), 1, CAPACITY),
			Error::<Test>::StakeBelowMinimum
		);
		assert_noop!(
			Workers::register(signed(ALICE), 100, models(&[]), 1, CAPACITY),
			Error::<Test>::NoModels
		);
		assert_noop!(
			Workers::register(signed(ALICE), 100, models(&[1, 1]), 1, CAPACITY),
			Error::<Test>::DuplicateModel
		);
		assert_noop!(
			Workers::register(signed(ALICE), 100, models(&[0, 3]), 1, CAPACITY),
			Error::<Test>::UnknownModel
		);
		assert_noop!(
			Workers::register(signed(ALICE), 100, models(&[0]), 0, CAPACITY),
			Error::<Test>::ZeroPrice
		);
		assert_noop!(
			Workers::register(signed(ALICE), INITIAL_BALANCE + 1, models(&[0]), 1, CAPACITY),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Workers::register(RuntimeOrigin::none(), 100, models(&[0]), 1, CAPACITY),
			DispatchError::BadOrigin
		);
		register(ALICE, 100, &[0], 1);
		assert_noop!(
			Workers::register(signed(ALICE), 100, models(&[0]), 1, CAPACITY),
			Error::<Test>::AlreadyRegistered
		);
		assert_eq!(stake_held(ALICE), 100);
	});
}

#[test]
fn register_is_bounded_by_workers_and_by_each_models_index() {
	build_and_execute(|| {
		register(ALICE, 100, &[0], 1);
		register(BOB, 100, &[0], 1);
		register(CHARLIE, 100, &[0], 1);
		// Model 0's index holds three workers.
		assert_noop!(
			Workers::register(RuntimeOrigin::signed(DAVE), 100, models(&[1, 0]), 1, CAPACITY),
			Error::<Test>::TooManyWorkersForModel
		);
		assert_eq!(stake_held(DAVE), 0);
		assert_eq!(listed(1), vec![]);
		register(DAVE, 100, &[1], 1);
		register(EVE, 100, &[1], 1);
		// Five workers are the most.
		assert_noop!(
			Workers::register(RuntimeOrigin::signed(FERDIE), 100, models(&[2]), 1, CAPACITY),
			Error::<Test>::TooManyWorkers
		);
	});
}

#[test]
fn bond_extra_adds_stake_and_updates_the_index() {
	build_and_execute(|| {
		register(ALICE, 100, &[0], 1);
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(ALICE), 50));
		assert_eq!(stake_held(ALICE), 150);
		assert_eq!(listed(0), vec![(ALICE, 150, 1)]);
		System::assert_last_event(Event::StakeBonded { worker: ALICE, amount: 50 }.into());
		assert_noop!(
			Workers::bond_extra(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Workers::bond_extra(RuntimeOrigin::signed(BOB), 10),
			Error::<Test>::NotRegistered
		);
		assert_noop!(
			Workers::bond_extra(RuntimeOrigin::signed(ALICE), INITIAL_BALANCE),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn unbond_then_withdraw_after_the_period() {
	build_and_execute(|| {
		register(ALICE, 300, &[0], 1);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 100));
		System::assert_last_event(
			Event::StakeUnbonding { worker: ALICE, amount: 100, unlock_at: 11 }.into(),
		);
		assert_eq!(info(ALICE).bonded, 200);
		assert_eq!(info(ALICE).unbonding.to_vec(), vec![Unbonding { amount: 100, unlock_at: 11 }]);
		// Still held, still slashable, no longer an assignment weight.
		assert_eq!(stake_held(ALICE), 300);
		assert_eq!(listed(0), vec![(ALICE, 200, 1)]);
		assert_noop!(
			Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NothingToWithdraw
		);
		System::set_block_number(11);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		System::assert_last_event(Event::StakeWithdrawn { worker: ALICE, amount: 100 }.into());
		assert_eq!(stake_held(ALICE), 200);
		assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - 200);
	});
}

#[test]
fn unbond_failures() {
	build_and_execute(|| {
		register(ALICE, 300, &[0], 1);
		let signed = RuntimeOrigin::signed;
		assert_noop!(Workers::unbond(signed(ALICE), 0), Error::<Test>::ZeroAmount);
		assert_noop!(Workers::unbond(signed(ALICE), 301), Error::<Test>::UnbondExceedsBonded);
		assert_noop!(Workers::unbond(signed(BOB), 1), Error::<Test>::NotRegistered);
		assert_ok!(Workers::unbond(signed(ALICE), 1));
		assert_ok!(Workers::unbond(signed(ALICE), 1));
		assert_noop!(Workers::unbond(signed(ALICE), 1), Error::<Test>::TooManyUnbondingChunks);
		assert_noop!(Workers::withdraw_unbonded(signed(BOB)), Error::<Test>::NotRegistered);
	});
}

/// The squatting attack: before, a worker unbonded down to 1 planck stayed in the model's
/// index, so that accounts bonded at 1 planck could fill it and lock newcomers out for ever.
#[test]
fn unbonding_below_the_minimum_takes_the_worker_out_of_every_index() {
	build_and_execute(|| {
		register(ALICE, 150, &[0, 1], 1);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 149));
		System::assert_last_event(Event::WorkerDelisted { worker: ALICE, bonded: 1 }.into());
		assert_eq!(listed(0), vec![]);
		assert_eq!(listed(1), vec![]);
		assert!(!info(ALICE).online);
		assert_noop!(
			Workers::go_online(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::StakeBelowMinimum
		);
		// Topping up and going online lists it again.
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(ALICE), 99));
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(ALICE)));
		assert_eq!(listed(0), vec![(ALICE, 100, 1)]);
	});
}

#[test]
fn a_raised_minimum_applies_to_candidates_at_once_and_anyone_may_evict() {
	build_and_execute(|| {
		register(ALICE, 150, &[0], 1);
		register(BOB, 300, &[0], 2);
		assert_noop!(
			Workers::evict(RuntimeOrigin::signed(CHARLIE), ALICE),
			Error::<Test>::NotEvictable
		);
		MinWorkerStake::set(200);
		let candidates = Workers::candidates(0);
		assert_eq!(candidates.iter().map(|c| c.worker).collect::<Vec<_>>(), vec![BOB]);
		assert_noop!(
			Workers::evict(RuntimeOrigin::signed(CHARLIE), BOB),
			Error::<Test>::NotEvictable
		);
		assert_noop!(
			Workers::evict(RuntimeOrigin::signed(CHARLIE), DAVE),
			Error::<Test>::NotRegistered
		);
		assert_ok!(Workers::evict(RuntimeOrigin::signed(CHARLIE), ALICE));
		System::assert_last_event(Event::WorkerDelisted { worker: ALICE, bonded: 150 }.into());
		assert_eq!(listed(0), vec![(BOB, 300, 2)]);
		assert_eq!(stake_held(ALICE), 150);
		assert_noop!(
			Workers::evict(RuntimeOrigin::signed(CHARLIE), ALICE),
			Error::<Test>::NotEvictable
		);
		MinWorkerStake::set(100);
	});
}

/// The squatting attack on a full index: before, a full index refused every newcomer, so
/// that the first `MaxWorkersPerModel` accounts held a model for ever. Now a newcomer with
/// more stake takes the weakest entry's place.
#[test]
fn a_full_index_takes_a_newcomer_with_more_stake_in_place_of_the_weakest() {
	build_and_execute(|| {
		register(ALICE, 100, &[0, 1], 1);
		register(BOB, 200, &[0], 1);
		register(CHARLIE, 300, &[0], 1);
		// Not more than the weakest: refused, nothing held.
		assert_noop!(
			Workers::register(RuntimeOrigin::signed(DAVE), 100, models(&[0]), 1, CAPACITY),
			Error::<Test>::TooManyWorkersForModel
		);
		register(DAVE, 101, &[0], 1);
		assert_eq!(listed(0), vec![(DAVE, 101, 1), (BOB, 200, 1), (CHARLIE, 300, 1)]);
		assert!(System::events().iter().any(|record| record.event
			== Event::WorkerDisplaced { worker: ALICE, model: 0, by: DAVE }.into()));
		// Alice no longer serves model 0 and keeps model 1.
		assert_eq!(info(ALICE).models.to_vec(), vec![1]);
		assert_eq!(listed(1), vec![(ALICE, 100, 1)]);
		// Bonding more than the weakest brings her back in place of Dave.
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(ALICE), 50));
		assert_ok!(Workers::set_models(RuntimeOrigin::signed(ALICE), models(&[0, 1])));
		assert_eq!(listed(0), vec![(ALICE, 150, 1), (BOB, 200, 1), (CHARLIE, 300, 1)]);
		assert!(info(DAVE).models.is_empty());
	});
}

#[test]
fn set_capacity_updates_the_index_and_keeps_busy_slots() {
	build_and_execute(|| {
		register(ALICE, 100, &[0], 1);
		let faster = Capacity { slots: 1, tokens_per_block: 40 };
		assert_ok!(Workers::set_capacity(RuntimeOrigin::signed(ALICE), faster));
		System::assert_last_event(
			Event::CapacityChanged { worker: ALICE, capacity: faster }.into(),
		);
		assert_eq!(Workers::candidates(0).into_inner()[0].tokens_per_block, 40);
		let signed = RuntimeOrigin::signed;
		for wrong in [
			Capacity { slots: 0, tokens_per_block: 1 },
			Capacity { slots: 3, tokens_per_block: 1 },
			Capacity { slots: 1, tokens_per_block: 0 },
		] {
			assert_noop!(
				Workers::set_capacity(signed(ALICE), wrong),
				Error::<Test>::InvalidCapacity
			);
		}
		assert_noop!(Workers::set_capacity(signed(BOB), CAPACITY), Error::<Test>::NotRegistered);
		assert_noop!(
			Workers::register(
				signed(BOB),
				100,
				models(&[0]),
				1,
				Capacity { slots: 0, tokens_per_block: 1 }
			),
			Error::<Test>::InvalidCapacity
		);
		// Two slots computing until block 10: one slot is refused, once they are done it is not.
		assert_ok!(Workers::set_capacity(signed(ALICE), CAPACITY));
		assert_ok!(Workers::note_assigned(&ALICE, 1, 1, 10));
		assert_ok!(Workers::note_assigned(&ALICE, 2, 1, 10));
		assert_noop!(Workers::set_capacity(signed(ALICE), faster), Error::<Test>::SlotsInUse);
		System::set_block_number(10);
		assert_ok!(Workers::set_capacity(signed(ALICE), faster));
	});
}

/// The overload attack, at the registry: a worker is never given more jobs to compute at once
/// than its declared slots.
#[test]
fn a_worker_is_never_seated_beyond_its_slots() {
	build_and_execute(|| {
		register(ALICE, 100, &[0], 1);
		assert_ok!(Workers::set_capacity(
			RuntimeOrigin::signed(ALICE),
			Capacity { slots: 1, tokens_per_block: 10 }
		));
		assert!(Workers::has_free_slot(&ALICE, 1));
		assert_ok!(Workers::note_assigned(&ALICE, 1, 1, 5));
		assert!(!Workers::has_free_slot(&ALICE, 4));
		assert_noop!(Workers::note_assigned(&ALICE, 2, 4, 9), Error::<Test>::NoFreeSlot);
		// At block 5 the first job's time is over: the slot is free again.
		assert!(Workers::has_free_slot(&ALICE, 5));
		assert_ok!(Workers::note_assigned(&ALICE, 2, 5, 9));
		assert_eq!(info(ALICE).computing.to_vec(), vec![(2, 9)]);
		// Committing frees the slot before its time is over (the first job, settled, no longer
		// takes a place in the list of live jobs either).
		Workers::note_settled(&ALICE, 1, None);
		Workers::note_committed(&ALICE, 2);
		assert!(Workers::has_free_slot(&ALICE, 6));
		assert!(info(ALICE).computing.is_empty());
	});
}

#[test]
fn withdraw_is_refused_while_assigned() {
	build_and_execute(|| {
		register(ALICE, 300, &[0], 1);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 100));
		assert_ok!(Workers::note_assigned(&ALICE, 7, 1, 2));
		System::set_block_number(20);
		assert_noop!(
			Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::WorkerHasLiveJobs
		);
		Workers::note_settled(&ALICE, 7, None);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
	});
}

#[test]
fn set_models_moves_the_worker_between_indexes() {
	build_and_execute(|| {
		register(ALICE, 100, &[0, 1], 1);
		assert_ok!(Workers::set_models(RuntimeOrigin::signed(ALICE), models(&[1, 2])));
		assert_eq!(listed(0), vec![]);
		assert_eq!(listed(1), vec![(ALICE, 100, 1)]);
		assert_eq!(listed(2), vec![(ALICE, 100, 1)]);
		System::assert_last_event(
			Event::ModelsChanged { worker: ALICE, models: models(&[1, 2]) }.into(),
		);
		let signed = RuntimeOrigin::signed;
		assert_noop!(Workers::set_models(signed(ALICE), models(&[])), Error::<Test>::NoModels);
		assert_noop!(
			Workers::set_models(signed(ALICE), models(&[2, 2])),
			Error::<Test>::DuplicateModel
		);
		assert_noop!(Workers::set_models(signed(ALICE), models(&[5])), Error::<Test>::UnknownModel);
		assert_noop!(Workers::set_models(signed(BOB), models(&[0])), Error::<Test>::NotRegistered);
		register(BOB, 100, &[0], 1);
		register(CHARLIE, 100, &[0], 1);
		register(DAVE, 100, &[0], 1);
		assert_noop!(
			Workers::set_models(signed(ALICE), models(&[0])),
			Error::<Test>::TooManyWorkersForModel
		);
		assert_eq!(listed(1), vec![(ALICE, 100, 1)]);
	});
}

#[test]
fn set_price_updates_the_index() {
	build_and_execute(|| {
		register(ALICE, 100, &[0], 1);
		assert_ok!(Workers::set_price(RuntimeOrigin::signed(ALICE), 9));
		assert_eq!(listed(0), vec![(ALICE, 100, 9)]);
		System::assert_last_event(Event::PriceChanged { worker: ALICE, price: 9 }.into());
		assert_noop!(Workers::set_price(RuntimeOrigin::signed(ALICE), 0), Error::<Test>::ZeroPrice);
		assert_noop!(
			Workers::set_price(RuntimeOrigin::signed(BOB), 2),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn going_offline_and_online() {
	build_and_execute(|| {
		register(ALICE, 100, &[0], 1);
		assert_ok!(Workers::go_offline(RuntimeOrigin::signed(ALICE)));
		System::assert_last_event(Event::WentOffline { worker: ALICE }.into());
		assert_eq!(listed(0), vec![]);
		assert_noop!(
			Workers::go_offline(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::AlreadyOffline
		);
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(ALICE)));
		System::assert_last_event(Event::WentOnline { worker: ALICE }.into());
		assert_eq!(listed(0), vec![(ALICE, 100, 1)]);
		assert_noop!(
			Workers::go_online(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::AlreadyOnline
		);
		assert_noop!(Workers::go_online(RuntimeOrigin::signed(BOB)), Error::<Test>::NotRegistered);
		assert_noop!(Workers::go_offline(RuntimeOrigin::signed(BOB)), Error::<Test>::NotRegistered);
		// Below the minimum a worker cannot come back online.
		assert_ok!(Workers::go_offline(RuntimeOrigin::signed(ALICE)));
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 1));
		assert_noop!(
			Workers::go_online(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::StakeBelowMinimum
		);
	});
}

#[test]
fn deregister_unbonds_everything_and_the_record_goes_with_the_last_withdrawal() {
	build_and_execute(|| {
		register(ALICE, 300, &[0], 1);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 100));
		System::set_block_number(5);
		assert_ok!(Workers::deregister(RuntimeOrigin::signed(ALICE)));
		System::assert_last_event(
			Event::WorkerDeregistered { worker: ALICE, unlock_at: 15 }.into(),
		);
		assert_eq!(listed(0), vec![]);
		assert_eq!(info(ALICE).bonded, 0);
		assert_eq!(stake_held(ALICE), 300);
		System::set_block_number(11);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		assert_eq!(stake_held(ALICE), 200);
		assert!(Workers::is_registered(&ALICE));
		System::set_block_number(15);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(ALICE)));
		System::assert_last_event(Event::WorkerRemoved { worker: ALICE }.into());
		assert!(!Workers::is_registered(&ALICE));
		assert_eq!(WorkerCount::<Test>::get(), 0);
		assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE);
	});
}

#[test]
fn deregister_failures() {
	build_and_execute(|| {
		assert_noop!(
			Workers::deregister(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotRegistered
		);
		register(ALICE, 300, &[0], 1);
		assert_ok!(Workers::note_assigned(&ALICE, 7, 1, 2));
		assert_noop!(
			Workers::deregister(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::WorkerHasLiveJobs
		);
		Workers::note_settled(&ALICE, 7, None);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 1));
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 1));
		assert_noop!(
			Workers::deregister(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::TooManyUnbondingChunks
		);
	});
}

#[test]
fn slash_takes_bonded_stake_and_pays_the_treasury_alone() {
	build_and_execute(|| {
		register(ALICE, 1_000, &[0], 1);
		let requester_before = Balances::free_balance(REQUESTER);
		let treasury_before = Balances::free_balance(Treasury::get());
		let slashed = Workers::slash(&ALICE, Perbill::from_percent(10));
		assert_eq!(slashed, 100);
		assert_eq!(Balances::free_balance(REQUESTER), requester_before);
		assert_eq!(Balances::free_balance(Treasury::get()), treasury_before + 100);
		assert_eq!(info(ALICE).bonded, 900);
		assert_eq!(stake_held(ALICE), 900);
		assert_eq!(listed(0), vec![(ALICE, 900, 1)]);
		System::assert_last_event(Event::StakeSlashed { worker: ALICE, amount: 100 }.into());
	});
}

#[test]
fn slash_reaches_unbonding_stake() {
	build_and_execute(|| {
		register(ALICE, 1_000, &[0], 1);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 600));
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(ALICE), 300));
		// 50 % of 1,000 = 500: 100 bonded, then 300 from the newest chunk, then 100 from the oldest.
		let slashed = Workers::slash(&ALICE, Perbill::from_percent(50));
		assert_eq!(slashed, 500);
		let worker = info(ALICE);
		assert_eq!(worker.bonded, 0);
		assert_eq!(worker.unbonding.to_vec(), vec![Unbonding { amount: 500, unlock_at: 11 }]);
		assert_eq!(stake_held(ALICE), 500);
		assert_eq!(listed(0), vec![]);
	});
}

#[test]
fn slash_of_an_unknown_account_takes_nothing() {
	build_and_execute(|| {
		let slashed = Workers::slash(&BOB, Perbill::from_percent(50));
		assert_eq!(slashed, 0);
		assert_eq!(Balances::free_balance(BOB), INITIAL_BALANCE);
	});
}

#[test]
fn outcomes_and_assignments_are_counted() {
	build_and_execute(|| {
		register(ALICE, 100, &[0], 1);
		assert!(Workers::has_free_slot(&ALICE, 1));
		// Jobs whose computing time is over: their slots are free, their seats still live.
		assert_ok!(Workers::note_assigned(&ALICE, 1, 1, 1));
		assert_ok!(Workers::note_assigned(&ALICE, 2, 1, 1));
		assert_eq!(Workers::live_jobs(&ALICE).into_inner(), vec![1, 2]);
		// The mock allows two live jobs.
		assert!(!Workers::has_free_slot(&ALICE, 1));
		assert_noop!(Workers::note_assigned(&ALICE, 3, 1, 1), Error::<Test>::TooManyLiveJobs);
		Workers::note_settled(&ALICE, 1, Some(Outcome::Accepted));
		Workers::note_settled(&ALICE, 2, Some(Outcome::WrongResult));
		assert_ok!(Workers::note_assigned(&ALICE, 3, 1, 1));
		assert_ok!(Workers::note_assigned(&ALICE, 4, 1, 1));
		Workers::note_settled(&ALICE, 4, Some(Outcome::NoShow));
		Workers::note_settled(&ALICE, 3, None);
		assert_eq!(info(ALICE).reputation, Reputation { accepted: 1, wrong: 1, no_show: 1 });
		assert!(info(ALICE).live_jobs.is_empty());
		// Settling a job the worker does not hold changes nothing but the count.
		Workers::note_settled(&ALICE, 9, Some(Outcome::Accepted));
		assert_eq!(info(ALICE).reputation.accepted, 2);
		assert_noop!(Workers::note_assigned(&BOB, 1, 1, 1), Error::<Test>::NotRegistered);
		assert!(!Workers::has_free_slot(&BOB, 1));
		assert!(Workers::live_jobs(&BOB).is_empty());
	});
}
