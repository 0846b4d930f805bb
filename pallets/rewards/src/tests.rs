//! Tests for the rewards pallet. Every test checks the pallet's invariants when it ends
//! (`build_and_execute`), and `run_to_block` checks them after every block.

use crate::{mock::*, *};
use frame_support::{traits::Hooks, weights::Weight, BoundedVec};

/// What the jobs pallet does when it pays `worker`.
fn note(worker: AccountId, payment: Balance, fee: Balance) {
	<Rewards as WorkRewards<AccountId, Balance>>::note_paid_work(&worker, payment, fee);
}

fn issuance() -> Balance {
	<Balances as Inspect<AccountId>>::total_issuance()
}

fn free(who: AccountId) -> Balance {
	<Balances as Inspect<AccountId>>::balance(&who)
}

/// The `RewardPaid` events so far as `(era, worker, amount)`, sorted (payout order follows the
/// storage hash of the worker's account).
fn rewards_paid() -> Vec<(EraIndex, AccountId, Balance)> {
	let mut paid: Vec<_> = rewards_events()
		.into_iter()
		.filter_map(|event| match event {
			Event::RewardPaid { era, worker, amount } => Some((era, worker, amount)),
			_ => None,
		})
		.collect();
	paid.sort();
	paid
}

/// The `EraPaid` events so far as `(era, minted)`, in the order they happened.
fn eras_paid() -> Vec<(EraIndex, Balance)> {
	rewards_events()
		.into_iter()
		.filter_map(|event| match event {
			Event::EraPaid { era, minted } => Some((era, minted)),
			_ => None,
		})
		.collect()
}

/// How many `RewardPaid` events the last block emitted (events are cleared before it runs).
fn run_one_block_and_count_payouts() -> usize {
	System::reset_events();
	run_to_block(System::block_number().saturating_add(1));
	rewards_events().iter().filter(|event| matches!(event, Event::RewardPaid { .. })).count()
}

// Protocol fee.

#[test]
fn protocol_fee_is_a_fraction_of_the_payment() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(Rewards::protocol_fee(1_000), 50);
		assert_eq!(Rewards::protocol_fee(0), 0);
		// `Perbill * payment` rounds to the nearest unit: 5% of 11 is 0.55.
		assert_eq!(Rewards::protocol_fee(11), 1);
		assert_eq!(Rewards::protocol_fee(9), 0);
		// No overflow at the top of the range.
		assert_eq!(Rewards::protocol_fee(u64::MAX), Perbill::from_percent(5) * u64::MAX);

		// Read through `Get` every time: a governance change applies at once.
		ProtocolFee::set(Perbill::from_percent(10));
		assert_eq!(Rewards::protocol_fee(1_000), 100);
		ProtocolFee::set(Perbill::zero());
		assert_eq!(Rewards::protocol_fee(1_000), 0);
	});
}

#[test]
fn fees_go_to_the_treasury() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(Rewards::fee_destination(), TREASURY);
	});
}

// Recording work.

#[test]
fn paid_work_is_recorded_per_worker_and_in_the_era_totals() {
	ExtBuilder::default().build_and_execute(|| {
		let before = issuance();
		note(1, 100, 5);
		note(1, 200, 10);
		note(2, 50, 3);

		assert_eq!(EraWork::<Test>::get(0, 1), Some(WorkRecord { paid: 300, fees: 15 }));
		assert_eq!(EraWork::<Test>::get(0, 2), Some(WorkRecord { paid: 50, fees: 3 }));
		assert_eq!(Rewards::era_totals(0), Some(EraTotal { work: 350, fees: 18, workers: 2 }));
		// Recording moves no money and says nothing.
		assert_eq!(issuance(), before);
		assert!(rewards_events().is_empty());
	});
}

#[test]
fn work_worth_nothing_is_not_recorded() {
	ExtBuilder::default().build_and_execute(|| {
		note(1, 0, 0);
		assert_eq!(EraWork::<Test>::get(0, 1), None);
		assert_eq!(Rewards::era_totals(0), None);

		// Work with no fee, or a fee with no work, still counts.
		note(1, 10, 0);
		note(2, 0, 10);
		assert_eq!(Rewards::era_totals(0), Some(EraTotal { work: 10, fees: 10, workers: 2 }));
	});
}

#[test]
fn recording_saturates_instead_of_overflowing() {
	ExtBuilder::default().build_and_execute(|| {
		note(1, u64::MAX, u64::MAX);
		note(1, 1, 1);
		note(2, u64::MAX, 7);
		assert_eq!(EraWork::<Test>::get(0, 1), Some(WorkRecord { paid: u64::MAX, fees: u64::MAX }));
		assert_eq!(
			Rewards::era_totals(0),
			Some(EraTotal { work: u64::MAX, fees: u64::MAX, workers: 2 })
		);
	});
}

#[test]
fn an_era_records_at_most_max_workers_per_era() {
	ExtBuilder::default().max_workers(3).build_and_execute(|| {
		note(1, 10, 1);
		note(2, 10, 1);
		note(3, 10, 1);
		note(4, 10, 1);

		assert_eq!(EraWork::<Test>::get(0, 4), None);
		assert_eq!(rewards_events(), vec![Event::WorkNotRecorded { era: 0, worker: 4 }]);
		assert_eq!(Rewards::era_totals(0), Some(EraTotal { work: 30, fees: 3, workers: 3 }));

		// A worker already in the era keeps adding to its record.
		note(1, 10, 1);
		assert_eq!(EraWork::<Test>::get(0, 1), Some(WorkRecord { paid: 20, fees: 2 }));
		assert_eq!(Rewards::era_totals(0), Some(EraTotal { work: 40, fees: 4, workers: 3 }));

		// The next era has room again.
		run_to_block(10);
		note(4, 10, 1);
		assert_eq!(EraWork::<Test>::get(1, 4), Some(WorkRecord { paid: 10, fees: 1 }));
	});
}

// Closing eras.

#[test]
fn an_era_closes_every_era_length_blocks() {
	ExtBuilder::default().era_length(10).build_and_execute(|| {
		note(1, 100, 10);
		run_to_block(9);
		assert_eq!(CurrentEra::<Test>::get(), 0);
		assert!(rewards_events().is_empty());

		run_to_block(10);
		assert_eq!(CurrentEra::<Test>::get(), 1);
		assert_eq!(PendingEras::<Test>::get().into_inner(), vec![0]);
		assert_eq!(
			rewards_events(),
			vec![Event::EraClosed { era: 0, total_work: 100, workers: 1 }]
		);

		// Work done from the boundary block on belongs to the next era.
		note(2, 40, 4);
		assert_eq!(EraWork::<Test>::get(1, 2), Some(WorkRecord { paid: 40, fees: 4 }));

		run_to_block(19);
		assert_eq!(CurrentEra::<Test>::get(), 1);
		run_to_block(20);
		assert_eq!(CurrentEra::<Test>::get(), 2);
		System::assert_has_event(
			Event::<Test>::EraClosed { era: 1, total_work: 40, workers: 1 }.into(),
		);
	});
}

#[test]
fn an_era_without_work_closes_and_is_paid_at_once() {
	ExtBuilder::default().build_and_execute(|| {
		let before = issuance();
		run_to_block(10);
		assert_eq!(CurrentEra::<Test>::get(), 1);
		assert!(PendingEras::<Test>::get().is_empty());
		assert_eq!(
			rewards_events(),
			vec![
				Event::EraClosed { era: 0, total_work: 0, workers: 0 },
				Event::EraPaid { era: 0, minted: 0 },
			]
		);
		assert_eq!(issuance(), before);
	});
}

#[test]
fn era_length_zero_never_closes_an_era() {
	ExtBuilder::default().era_length(0).build_and_execute(|| {
		note(1, 100, 10);
		run_to_block(100);
		assert_eq!(CurrentEra::<Test>::get(), 0);
		assert!(rewards_events().is_empty());
		assert_eq!(Rewards::era_totals(0), Some(EraTotal { work: 100, fees: 10, workers: 1 }));

		// Governance turns emission on: the next multiple of the new length closes the era.
		EraLength::set(50);
		run_to_block(149);
		assert_eq!(CurrentEra::<Test>::get(), 0);
		run_to_block(150);
		assert_eq!(CurrentEra::<Test>::get(), 1);
	});
}

// Paying eras.

#[test]
fn workers_are_paid_in_exact_proportion_to_their_work() {
	ExtBuilder::default()
		.emission(1_000)
		.rebate_cap(Perbill::one())
		.max_payouts(10)
		.build_and_execute(|| {
			note(1, 100, 1_000);
			note(2, 200, 1_000);
			note(3, 400, 1_000);
			let before = issuance();

			run_to_block(10);
			assert_eq!(issuance(), before, "closing an era mints nothing");
			run_to_block(11);

			// 1000 × 100 / 700 = 142.86, 1000 × 200 / 700 = 285.71, 1000 × 400 / 700 = 571.43,
			// each rounded down.
			assert_eq!(rewards_paid(), vec![(0, 1, 142), (0, 2, 285), (0, 3, 571)]);
			assert_eq!((free(1), free(2), free(3)), (142, 285, 571));
			assert_eq!(eras_paid(), vec![(0, 998)]);
			// Only the emission moved the issuance; the rounding dust is not minted.
			assert_eq!(issuance(), before + 998);

			// The era is gone from storage.
			assert!(PendingEras::<Test>::get().is_empty());
			assert_eq!(Rewards::era_totals(0), None);
			assert_eq!(EraWork::<Test>::iter_prefix(0).count(), 0);
			assert_eq!(CurrentPayout::<Test>::get(), PayoutProgress::default());
		});
}

#[test]
fn the_rebate_cap_binds_and_the_rest_is_not_minted() {
	ExtBuilder::default().emission(1_000).rebate_cap(Perbill::from_percent(50)).build_and_execute(
		|| {
			// Worker 1: share 1000 × 600 / 1000 = 600, cap 50% of 31 = 15 (rounded down).
			note(1, 600, 31);
			// Worker 2: share 400, cap 50% of 1000 = 500: the share binds.
			note(2, 400, 1_000);
			let before = issuance();

			run_to_block(11);
			assert_eq!(rewards_paid(), vec![(0, 1, 15), (0, 2, 400)]);
			assert_eq!(eras_paid(), vec![(0, 415)]);
			// 1000 − 415 = 585 of the era's emission is simply not minted.
			assert_eq!(issuance(), before + 415);
		},
	);
}

#[test]
fn work_without_fees_earns_nothing() {
	ExtBuilder::default().rebate_cap(Perbill::one()).build_and_execute(|| {
		note(1, 500, 0);
		note(2, 500, 100);
		let before = issuance();
		run_to_block(11);
		// Worker 1's share is 500 but its cap is 0; worker 2's share 500 is capped at 100.
		assert_eq!(rewards_paid(), vec![(0, 2, 100)]);
		assert_eq!(free(1), 0);
		assert_eq!(eras_paid(), vec![(0, 100)]);
		assert_eq!(issuance(), before + 100);
	});
}

#[test]
fn an_era_never_mints_more_than_its_emission() {
	ExtBuilder::default().emission(1_000).rebate_cap(Perbill::one()).build_and_execute(|| {
		// The totals saturate, so the shares alone would add up to 2 × 1000.
		note(1, u64::MAX, u64::MAX);
		note(2, u64::MAX, u64::MAX);
		let before = issuance();
		run_to_block(11);
		assert_eq!(issuance(), before + 1_000);
		assert_eq!(eras_paid(), vec![(0, 1_000)]);
	});
}

#[test]
fn payouts_are_spread_over_blocks_of_at_most_max_payouts_per_block() {
	ExtBuilder::default().max_payouts(2).build_and_execute(|| {
		// Five workers, each share 200, each capped at 50% of 100 = 50.
		for worker in 1..=5 {
			note(worker, 100, 100);
		}
		let before = issuance();
		run_to_block(10);

		assert_eq!(run_one_block_and_count_payouts(), 2);
		assert_eq!(
			CurrentPayout::<Test>::get(),
			PayoutProgress { workers: 2, work: 200, fees: 200, minted: 100 }
		);
		assert_eq!(EraWork::<Test>::iter_prefix(0).count(), 3);
		assert!(eras_paid().is_empty());

		assert_eq!(run_one_block_and_count_payouts(), 2);
		assert!(eras_paid().is_empty());

		assert_eq!(run_one_block_and_count_payouts(), 1);
		assert_eq!(eras_paid(), vec![(0, 250)]);
		assert!(PendingEras::<Test>::get().is_empty());

		assert_eq!(run_one_block_and_count_payouts(), 0);
		assert_eq!(issuance(), before + 250);
		for worker in 1..=5 {
			assert_eq!(free(worker), 50);
		}
	});
}

#[test]
fn an_era_that_fills_whole_chunks_finishes_with_its_last_chunk() {
	ExtBuilder::default().max_payouts(2).build_and_execute(|| {
		for worker in 1..=4 {
			note(worker, 100, 100);
		}
		run_to_block(10);
		assert_eq!(run_one_block_and_count_payouts(), 2);
		assert!(eras_paid().is_empty());
		assert_eq!(run_one_block_and_count_payouts(), 2);
		assert_eq!(eras_paid(), vec![(0, 200)]);
		assert!(PendingEras::<Test>::get().is_empty());
	});
}

#[test]
fn queued_eras_are_paid_oldest_first() {
	ExtBuilder::default().era_length(2).max_payouts(1).build_and_execute(|| {
		note(1, 100, 100);
		note(2, 100, 100);
		note(3, 100, 100);
		run_to_block(2);
		assert_eq!(PendingEras::<Test>::get().into_inner(), vec![0]);

		run_to_block(3);
		note(4, 100, 100);
		run_to_block(4);
		// Era 0 is half paid when era 1 closes: both wait, oldest first.
		assert_eq!(PendingEras::<Test>::get().into_inner(), vec![0, 1]);

		run_to_block(6);
		assert!(PendingEras::<Test>::get().is_empty());
		let paid_eras: Vec<EraIndex> = rewards_events()
			.into_iter()
			.filter_map(|event| match event {
				Event::RewardPaid { era, .. } => Some(era),
				_ => None,
			})
			.collect();
		assert_eq!(paid_eras, vec![0, 0, 0, 1]);
		// Era 2 was empty: closed and paid at once in block 6, after era 1's payout.
		assert_eq!(eras_paid(), vec![(0, 150), (1, 50), (2, 0)]);
	});
}

#[test]
fn a_full_payout_queue_defers_closing_the_era() {
	ExtBuilder::default().era_length(2).max_payouts(1).max_pending(1).build_and_execute(|| {
		note(1, 100, 100);
		note(2, 100, 100);
		note(3, 100, 100);
		run_to_block(3);
		note(4, 100, 100);

		run_to_block(4);
		// Era 0 still has a worker to pay: era 1 stays open.
		assert_eq!(CurrentEra::<Test>::get(), 1);
		System::assert_has_event(Event::<Test>::EraCloseDeferred { era: 1 }.into());
		assert_eq!(PendingEras::<Test>::get().into_inner(), vec![0]);

		// Work in the longer era still counts.
		run_to_block(5);
		assert_eq!(eras_paid(), vec![(0, 150)]);
		note(5, 100, 100);

		run_to_block(6);
		assert_eq!(CurrentEra::<Test>::get(), 2);
		System::assert_has_event(
			Event::<Test>::EraClosed { era: 1, total_work: 200, workers: 2 }.into(),
		);
		run_to_block(8);
		// Era 2 had no work: closed and paid at once in block 8.
		assert_eq!(eras_paid(), vec![(0, 150), (1, 100), (2, 0)]);
		assert_eq!((free(4), free(5)), (50, 50));
	});
}

#[test]
fn a_reward_that_cannot_be_minted_is_skipped() {
	ExtBuilder::default().existential_deposit(10).rebate_cap(Perbill::one()).build_and_execute(
		|| {
			// Worker 1's reward (1) is below the existential deposit of an account that does
			// not exist.
			note(1, 1, 1_000);
			note(2, 999, 1_000);
			let before = issuance();
			run_to_block(11);
			System::assert_has_event(
				Event::<Test>::RewardNotMinted { era: 0, worker: 1, amount: 1 }.into(),
			);
			assert_eq!(rewards_paid(), vec![(0, 2, 999)]);
			assert_eq!(eras_paid(), vec![(0, 999)]);
			assert_eq!(issuance(), before + 999);
			assert_eq!(free(1), 0);
		},
	);
}

// Hook weights.

#[test]
fn on_initialize_returns_the_weight_it_used() {
	ExtBuilder::default().max_payouts(2).build_and_execute(|| {
		let idle = <() as WeightInfo>::on_initialize_idle();
		let close = <() as WeightInfo>::on_initialize_close_era();
		let pay = <() as WeightInfo>::on_initialize_pay;
		// Every block: the current era, its totals and the fee destination's account, which
		// the block's paid jobs share.
		let shared = <Test as frame_system::Config>::DbWeight::get().reads_writes(3, 2);
		assert!(shared.ref_time() > 0);
		for worker in 1..=3 {
			note(worker, 100, 100);
		}

		assert_eq!(Rewards::on_initialize(5), shared + idle);
		assert_eq!(Rewards::on_initialize(10), shared + idle + close);
		assert_eq!(Rewards::on_initialize(11), shared + pay(2));
		assert_eq!(Rewards::on_initialize(12), shared + pay(1));
		assert_eq!(Rewards::on_initialize(13), shared + idle);
		assert!(pay(2).all_gt(pay(1)) && pay(1).all_gt(Weight::zero()));
	});
}

// Invariants.

#[test]
fn try_state_catches_broken_invariants() {
	ExtBuilder::default().build_and_execute(|| {
		note(1, 100, 10);
		assert_eq!(Rewards::do_try_state(), Ok(()));

		// Totals that do not match the records.
		CurrentEraTotals::<Test>::put(EraTotal { work: 101, fees: 10, workers: 1 });
		assert!(Rewards::do_try_state().is_err());
		CurrentEraTotals::<Test>::put(EraTotal { work: 100, fees: 10, workers: 2 });
		assert!(Rewards::do_try_state().is_err());
		CurrentEraTotals::<Test>::put(EraTotal { work: 100, fees: 10, workers: 1 });
		assert_eq!(Rewards::do_try_state(), Ok(()));

		// A queued era that has not closed.
		PendingEras::<Test>::put(BoundedVec::<EraIndex, MaxPendingEras>::truncate_from(vec![0]));
		assert!(Rewards::do_try_state().is_err());
		PendingEras::<Test>::kill();

		// Work in an era with no totals.
		EraWork::<Test>::insert(7, 1, WorkRecord { paid: 1, fees: 1 });
		assert!(Rewards::do_try_state().is_err());
		EraWork::<Test>::remove(7, 1);

		// A payout in progress with nothing queued.
		CurrentPayout::<Test>::put(PayoutProgress { workers: 1, work: 0, fees: 0, minted: 0 });
		assert!(Rewards::do_try_state().is_err());
		CurrentPayout::<Test>::kill();
	});
}

// What a worker sees of its earnings.

#[test]
fn earnings_show_each_unpaid_era_with_the_emission_its_payout_mints() {
	ExtBuilder::default().max_payouts(1).build_and_execute(|| {
		// Era 0: workers 1 and 2 (3 : 1 of the work); the cap binds nobody.
		note(1, 300, 2_000);
		note(2, 100, 2_000);
		let open = Rewards::earnings(1);
		assert_eq!(
			open,
			vec![EraEarnings { era: 0, closed: false, paid: 300, fees: 2_000, emission: 750 }]
		);
		assert!(Rewards::earnings(3).is_empty());

		// Era 0 closes at block 10 and pays one worker a block; worker 1 works in era 1 too.
		run_to_block(10);
		note(1, 50, 10);
		let unpaid: Vec<_> = [1, 2].map(Rewards::earnings).into_iter().flatten().collect();
		assert!(unpaid.iter().any(|earnings| earnings.era == 0 && earnings.closed), "{unpaid:?}");
		let era_one = Rewards::earnings(1).into_iter().find(|earnings| earnings.era == 1);
		// The open era: all of its work so far is worker 1's, but the cap is half its fees.
		assert_eq!(
			era_one,
			Some(EraEarnings { era: 1, closed: false, paid: 50, fees: 10, emission: 5 })
		);

		// What the view showed for era 0 is what its payout mints.
		run_to_block(12);
		assert_eq!(rewards_paid(), vec![(0, 1, 750), (0, 2, 250)]);
		assert!(Rewards::earnings(2).is_empty());
		assert_eq!(Rewards::earnings(1).len(), 1);
	});
}
