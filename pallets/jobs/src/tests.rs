//! Tests of the job life: every call's success and failure paths, settlement in each verdict,
//! slashing, retention and the bounded hooks.

#![allow(clippy::arithmetic_side_effects)]

use crate::{
	mock::*, Duty, Error, Event, HoldReason, JobCounters, JobStatus, Jobs as JobRecords, Outputs,
	Sampling, SlashReason, Verdict,
};
use commons_primitives::{commitment, output_hash, JobId, ModelStatus, Salt, WorkerRegistry};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::InspectHold, Get, Hooks},
	weights::Weight,
};
use sp_runtime::DispatchError;

const PRICE: Balance = 100;
/// 10 % of the price.
const FEE: Balance = 10;

fn worker(i: u64) -> AccountId {
	FIRST_WORKER + i
}

fn post(replicas: u32) -> JobId {
	post_with(replicas, PRICE)
}

fn post_with(replicas: u32, price: Balance) -> JobId {
	let job = JobCounters::<Test>::get().next_job;
	assert_ok!(Jobs::post_job(
		RuntimeOrigin::signed(REQUESTER),
		MODEL,
		b"What is the capital of France?".to_vec(),
		8,
		Sampling::Greedy,
		replicas,
		price,
		System::block_number() + 5,
	));
	job
}

fn record(job: JobId) -> crate::Job<Test> {
	JobRecords::<Test>::get(job).unwrap()
}

fn seated(job: JobId) -> Vec<AccountId> {
	record(job).seats.iter().map(|seat| seat.worker).collect()
}

fn salt(worker: AccountId) -> Salt {
	[worker as u8; 32]
}

fn commit(worker: AccountId, job: JobId, tokens: &[u32]) {
	let hash = output_hash(1, MODEL, tokens);
	assert_ok!(Jobs::commit_result(
		RuntimeOrigin::signed(worker),
		job,
		commitment(&hash, &salt(worker), &worker)
	));
}

fn reveal(worker: AccountId, job: JobId, tokens: &[u32]) {
	assert_ok!(Jobs::reveal_result(
		RuntimeOrigin::signed(worker),
		job,
		tokens.to_vec().try_into().unwrap(),
		salt(worker)
	));
}

fn escrow_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Jobs(HoldReason::Escrow), &who)
}

fn deposit_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Jobs(HoldReason::JobDeposit), &who)
}

fn stake(who: AccountId) -> Balance {
	pallet_workers::Workers::<Test>::get(who).unwrap().total_stake()
}

fn events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Jobs(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The deposit of the standard job: 10 + 30 prompt bytes + 4 × 8 output bytes.
const DEPOSIT: Balance = 10 + 30 + 32;

/// Posts a job with `replicas` seats and moves to its assignment block.
fn posted_and_assigned(replicas: u32) -> JobId {
	let job = post(replicas);
	run_to_block(System::block_number() + 1);
	assert!(matches!(record(job).status, JobStatus::Assigned { .. }));
	job
}

#[test]
fn post_job_holds_escrow_and_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let job = post(3);
		assert_eq!(escrow_held(REQUESTER), 3 * (PRICE + FEE));
		assert_eq!(deposit_held(REQUESTER), DEPOSIT);
		assert_eq!(Balances::free_balance(REQUESTER), INITIAL_BALANCE - 330 - DEPOSIT);
		let job_record = record(job);
		assert_eq!(job_record.status, JobStatus::Pending);
		assert_eq!(job_record.engine_version, 1);
		// The model is reserved past the deadline (block 6), to the end of its step.
		assert_eq!(pallet_models::Models::<Test>::get(MODEL).unwrap().reserved_until, 100);
		System::assert_last_event(
			Event::JobPosted {
				job,
				requester: REQUESTER,
				model: MODEL,
				replicas: 3,
				price_per_replica: PRICE,
				escrow: 330,
				deposit: DEPOSIT,
			}
			.into(),
		);
	});
}

#[test]
fn post_job_refuses_bad_input_and_holds_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let post = |who: AccountId,
		            model: u32,
		            prompt: Vec<u8>,
		            max_tokens: u32,
		            sampling: Sampling,
		            replicas: u32,
		            price: Balance,
		            deadline: u64| {
			Jobs::post_job(
				RuntimeOrigin::signed(who),
				model,
				prompt,
				max_tokens,
				sampling,
				replicas,
				price,
				deadline,
			)
		};
		let prompt = || b"hi".to_vec();
		let greedy = Sampling::Greedy;
		assert_noop!(
			post(REQUESTER, 7, prompt(), 8, greedy, 3, PRICE, 5),
			Error::<Test>::UnknownModel
		);
		assert_noop!(
			post(REQUESTER, MODEL, vec![], 8, greedy, 3, PRICE, 5),
			Error::<Test>::EmptyPrompt
		);
		assert_noop!(
			post(REQUESTER, MODEL, vec![b'a'; 65], 8, greedy, 3, PRICE, 5),
			Error::<Test>::PromptTooLong
		);
		assert_noop!(
			post(REQUESTER, MODEL, prompt(), 0, greedy, 3, PRICE, 5),
			Error::<Test>::MaxTokensOutOfRange
		);
		assert_noop!(
			post(REQUESTER, MODEL, prompt(), 17, greedy, 3, PRICE, 5),
			Error::<Test>::MaxTokensOutOfRange
		);
		assert_noop!(
			post(REQUESTER, MODEL, prompt(), 8, greedy, 0, PRICE, 5),
			Error::<Test>::ReplicasOutOfRange
		);
		assert_noop!(
			post(REQUESTER, MODEL, prompt(), 8, greedy, 6, PRICE, 5),
			Error::<Test>::ReplicasOutOfRange
		);
		assert_noop!(
			post(REQUESTER, MODEL, prompt(), 8, greedy, 3, MIN_PRICE - 1, 5),
			Error::<Test>::PriceBelowModelFloor
		);
		let hot = Sampling::TopK { temperature: 5_000, top_k: 40, seed: 1 };
		assert_noop!(
			post(REQUESTER, MODEL, prompt(), 8, hot, 3, PRICE, 5),
			Error::<Test>::InvalidSampling
		);
		let no_k = Sampling::TopK { temperature: 700, top_k: 0, seed: 1 };
		assert_noop!(
			post(REQUESTER, MODEL, prompt(), 8, no_k, 3, PRICE, 5),
			Error::<Test>::InvalidSampling
		);
		assert_noop!(
			post(REQUESTER, MODEL, prompt(), 8, greedy, 3, PRICE, 1),
			Error::<Test>::InvalidDeadline
		);
		assert_noop!(
			post(REQUESTER, MODEL, prompt(), 8, greedy, 3, PRICE, 22),
			Error::<Test>::InvalidDeadline
		);
		assert_noop!(
			post(POOR, MODEL, prompt(), 8, greedy, 3, PRICE, 5),
			Error::<Test>::InsufficientBalance
		);
		assert_noop!(
			Jobs::post_job(RuntimeOrigin::none(), MODEL, prompt(), 8, greedy, 3, PRICE, 5),
			DispatchError::BadOrigin
		);
		assert_ok!(Models::set_model_status(RuntimeOrigin::root(), MODEL, ModelStatus::Banned));
		assert_noop!(
			post(REQUESTER, MODEL, prompt(), 8, greedy, 3, PRICE, 5),
			Error::<Test>::ModelNotActive
		);
		assert_eq!(escrow_held(REQUESTER) + deposit_held(REQUESTER), 0);
		assert_eq!(escrow_held(POOR) + deposit_held(POOR), 0);
		assert_eq!(Balances::free_balance(POOR), 200);
		assert_eq!(JobCounters::<Test>::get().stored, 0);
	});
}

#[test]
fn post_job_is_bounded_by_the_job_store() {
	ExtBuilder::default().build_and_execute(|| {
		for _ in 0..32 {
			post_with(1, MIN_PRICE);
		}
		assert_noop!(
			Jobs::post_job(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				b"x".to_vec(),
				1,
				Sampling::Greedy,
				1,
				PRICE,
				5
			),
			Error::<Test>::TooManyJobs
		);
	});
}

#[test]
fn cancel_job_while_pending_refunds_everything() {
	ExtBuilder::default().build_and_execute(|| {
		let job = post(3);
		assert_noop!(
			Jobs::cancel_job(RuntimeOrigin::signed(POOR), job),
			Error::<Test>::NotRequester
		);
		assert_noop!(
			Jobs::cancel_job(RuntimeOrigin::signed(REQUESTER), 9),
			Error::<Test>::JobNotFound
		);
		assert_ok!(Jobs::cancel_job(RuntimeOrigin::signed(REQUESTER), job));
		System::assert_last_event(Event::JobCancelled { job, refunded: 330 + DEPOSIT }.into());
		assert_eq!(Balances::free_balance(REQUESTER), INITIAL_BALANCE);
		assert!(JobRecords::<Test>::get(job).is_none());
		// Assignment and removal skip the cancelled id.
		run_to_block(3);
		let assigned = post(3);
		run_to_block(4);
		assert!(matches!(record(assigned).status, JobStatus::Assigned { .. }));
		assert_noop!(
			Jobs::cancel_job(RuntimeOrigin::signed(REQUESTER), assigned),
			Error::<Test>::JobNotPending
		);
	});
}

#[test]
fn assignment_happens_in_a_later_block_with_distinct_workers() {
	ExtBuilder::default().workers(5).build_and_execute(|| {
		let job = post(3);
		Jobs::on_initialize(1);
		// Not in the posting block: its own on_initialize ran before the post.
		run_to_block(2);
		let workers = seated(job);
		assert_eq!(workers.len(), 3);
		let mut distinct = workers.clone();
		distinct.sort();
		distinct.dedup();
		assert_eq!(distinct.len(), 3);
		assert_eq!(record(job).status, JobStatus::Assigned { at: 2, commit_end: 5, reveal_end: 8 });
		for worker in &workers {
			assert_eq!(
				pallet_workers::Workers::<Test>::get(worker).unwrap().live_jobs.to_vec(),
				vec![job]
			);
		}
		assert!(events().iter().any(|event| matches!(
			event,
			Event::JobAssigned { job: j, commit_end: 5, reveal_end: 8, .. } if *j == job
		)));
	});
}

#[test]
fn assignment_is_weighted_by_stake() {
	ExtBuilder::default().workers(2).build_and_execute(|| {
		// Worker 0 bonds nine times worker 1's stake.
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(worker(0)), 8 * WORKER_STAKE));
		let mut first = 0;
		for round in 0..30 {
			let job = post(1);
			run_to_block(System::block_number() + 1);
			if seated(job) == vec![worker(0)] {
				first += 1;
			}
			// Free the seat for the next round.
			commit(seated(job)[0], job, &[round]);
			reveal(seated(job)[0], job, &[round]);
		}
		// Expected 27 of 30; uniform draws would give 15.
		assert!(first >= 22, "the heavier worker was drawn {first} times of 30");
	});
}

#[test]
fn workers_asking_more_than_the_offer_are_not_drawn() {
	ExtBuilder::default().workers(3).build_and_execute(|| {
		assert_ok!(Workers::set_price(RuntimeOrigin::signed(worker(2)), 500));
		let job = post(2);
		run_to_block(2);
		assert!(!seated(job).contains(&worker(2)));
		let too_many = post(3);
		run_to_block(3);
		assert_eq!(record(too_many).status, JobStatus::Pending);
	});
}

#[test]
fn three_honest_workers_are_accepted_and_paid() {
	ExtBuilder::default().build_and_execute(|| {
		let before = Balances::free_balance(REQUESTER);
		let treasury_before = Balances::free_balance(Treasury::get());
		let job = posted_and_assigned(3);
		let workers = seated(job);
		let tokens = [5, 6, 7];
		for worker in &workers {
			commit(*worker, job, &tokens);
		}
		for worker in &workers {
			reveal(*worker, job, &tokens);
		}
		let hash = output_hash(1, MODEL, &tokens);
		// Settled by the last reveal, before the window ended.
		assert_eq!(
			record(job).status,
			JobStatus::Settled { at: 2, verdict: Verdict::Accepted { output_hash: hash } }
		);
		for worker in &workers {
			assert_eq!(Balances::free_balance(*worker), INITIAL_BALANCE - WORKER_STAKE + PRICE);
			assert_eq!(
				pallet_workers::Workers::<Test>::get(worker).unwrap().reputation.accepted,
				1
			);
			assert!(pallet_workers::Workers::<Test>::get(worker).unwrap().live_jobs.is_empty());
		}
		// Charged exactly k × price + fee; the deposit is still held.
		assert_eq!(before - Balances::free_balance(REQUESTER), 3 * (PRICE + FEE) + DEPOSIT);
		assert_eq!(escrow_held(REQUESTER), 0);
		assert_eq!(Balances::free_balance(Treasury::get()), treasury_before + 3 * FEE);
		assert!(events().contains(&Event::JobAccepted {
			job,
			output_hash: hash,
			agreeing_workers: workers.clone().try_into().unwrap(),
			paid: 3 * PRICE,
			fee: 3 * FEE,
		}));
		PAID_WORK.with(|log| assert_eq!(log.borrow().len(), 3));
		assert_eq!(Jobs::accepted_output(job).unwrap().to_vec(), tokens.to_vec());
		// Settlement writes nothing to the model: its reservation simply runs out.
		assert_eq!(pallet_models::Models::<Test>::get(MODEL).unwrap().reserved_until, 100);
	});
}

#[test]
fn assignment_extends_the_model_reservation_to_the_reveal_window() {
	ExtBuilder::default().build_and_execute(|| {
		let job = post(3);
		assert_eq!(pallet_models::Models::<Test>::get(MODEL).unwrap().reserved_until, 100);
		// Governance lengthens the commit window after the post: the job, assigned in block 2,
		// can be live until block 2 + 200 + 3, past the reservation the post made.
		CommitWindow::set(200);
		run_to_block(2);
		assert!(matches!(record(job).status, JobStatus::Assigned { reveal_end: 205, .. }));
		assert_eq!(pallet_models::Models::<Test>::get(MODEL).unwrap().reserved_until, 300);
		run_to_block(250);
		let owner = pallet_models::Models::<Test>::get(MODEL).unwrap().owner;
		assert_noop!(
			Models::deregister_model(RuntimeOrigin::signed(owner), MODEL),
			pallet_models::Error::<Test>::ModelInUse
		);
	});
}

#[test]
fn a_wrong_result_is_slashed_and_compensates_the_requester() {
	ExtBuilder::default().build_and_execute(|| {
		let job = posted_and_assigned(3);
		let workers = seated(job);
		let (honest, cheat) = (&workers[..2], workers[2]);
		for worker in honest {
			commit(*worker, job, &[1, 2]);
		}
		commit(cheat, job, &[9, 9]);
		for worker in honest {
			reveal(*worker, job, &[1, 2]);
		}
		let before = Balances::free_balance(REQUESTER);
		let treasury_before = Balances::free_balance(Treasury::get());
		reveal(cheat, job, &[9, 9]);
		assert!(matches!(
			record(job).status,
			JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. }
		));
		// 10 % of 10,000 slashed: 100 (the seat's price) to the requester, 900 to the treasury.
		assert_eq!(stake(cheat), WORKER_STAKE - 1_000);
		let reputation = pallet_workers::Workers::<Test>::get(cheat).unwrap().reputation;
		assert_eq!((reputation.accepted, reputation.wrong), (0, 1));
		assert_eq!(Balances::free_balance(cheat), INITIAL_BALANCE - WORKER_STAKE);
		// The requester gets the unpaid seat's escrow back and the compensation.
		assert_eq!(Balances::free_balance(REQUESTER), before + (PRICE + FEE) + 100);
		assert_eq!(Balances::free_balance(Treasury::get()), treasury_before + 2 * FEE + 900);
		let all = events();
		assert!(all.contains(&Event::WorkerSlashed {
			worker: cheat,
			job,
			amount: 1_000,
			reason: SlashReason::WrongResult
		}));
		assert!(all.contains(&Event::RequesterCompensated {
			job,
			requester: REQUESTER,
			amount: 100
		}));
		// Only the agreed output is kept.
		assert_eq!(Outputs::<Test>::iter_prefix(job).count(), 1);
	});
}

/// The settling reveal of a `k`-seat job: its weight with `k` seats, and one slash per
/// slashed seat on top, never the worst case declared before dispatch.
#[test]
fn a_settling_reveal_is_charged_for_its_seats_and_its_slashes() {
	ExtBuilder::default().build_and_execute(|| {
		let settle = |cheats: usize| {
			let job = posted_and_assigned(3);
			let workers = seated(job);
			for (i, worker) in workers.iter().enumerate() {
				commit(*worker, job, if i < 3 - cheats { &[1, 2] } else { &[9, 9] });
			}
			for worker in &workers[..2] {
				reveal(*worker, job, &[1, 2]);
			}
			let last = workers[2];
			let tokens = if cheats == 0 { vec![1, 2] } else { vec![9, 9] };
			let info = Jobs::reveal_result(
				RuntimeOrigin::signed(last),
				job,
				tokens.try_into().unwrap(),
				salt(last),
			)
			.unwrap();
			assert!(matches!(record(job).status, JobStatus::Settled { .. }));
			info.actual_weight.expect("a settling reveal reports its weight")
		};
		let max_seats = <Test as crate::Config>::MaxSeats::get();
		let declared = Jobs::settling_weight(2, max_seats, max_seats - 1);
		let honest = settle(0);
		assert_eq!(honest, Jobs::settling_weight(2, 3, 0));
		let one_slashed = settle(1);
		assert_eq!(one_slashed, Jobs::settling_weight(2, 3, 1));
		let slash = <Test as crate::Config>::Workers::slash_weight();
		assert_eq!(one_slashed, honest + slash);
		assert!(one_slashed.all_lt(declared), "{one_slashed:?} is not below {declared:?}");
	});
}

/// A reveal stores its output only when no other seat revealed it; one that finds it stored is
/// refunded the write its benchmark counts.
#[test]
fn a_reveal_of_an_output_already_stored_is_refunded_its_write() {
	ExtBuilder::default().build_and_execute(|| {
		let job = posted_and_assigned(3);
		let workers = seated(job);
		for worker in &workers {
			commit(*worker, job, &[1, 2]);
		}
		let charged = |worker: AccountId| {
			Jobs::reveal_result(
				RuntimeOrigin::signed(worker),
				job,
				vec![1, 2].try_into().unwrap(),
				salt(worker),
			)
			.unwrap()
			.actual_weight
			.expect("a reveal reports its weight")
		};
		let full = <() as crate::WeightInfo>::reveal_result(2);
		let write = <Test as frame_system::Config>::DbWeight::get().writes(1);
		assert!(write.ref_time() > 0);
		assert_eq!(charged(workers[0]), full);
		assert_eq!(charged(workers[1]), full - write);
		assert_eq!(Outputs::<Test>::iter_prefix(job).count(), 1);
	});
}

/// The assignment hook charges each job by its seats: two jobs of three seats cost four seats
/// more than two jobs of one (two more in each job), a seat being the slope of `assign_job`.
#[test]
fn assignment_is_charged_by_the_seats_it_fills() {
	let charged = |seats: u32| {
		let mut weight = Weight::zero();
		ExtBuilder::default().workers(6).build_and_execute(|| {
			let jobs = [post(seats), post(seats)];
			let now = System::block_number() + 1;
			System::set_block_number(now);
			weight = Jobs::assign_pending(now);
			for job in jobs {
				assert_eq!(record(job).seats.len(), seats as usize);
			}
		});
		weight
	};
	let seat = <() as crate::WeightInfo>::assign_job(2) - <() as crate::WeightInfo>::assign_job(1);
	assert!(seat.ref_time() > 0);
	assert_eq!(charged(3), charged(1) + seat.saturating_mul(4));
}

#[test]
fn a_no_show_is_slashed_and_the_job_is_still_accepted() {
	ExtBuilder::default().build_and_execute(|| {
		let job = posted_and_assigned(3);
		let workers = seated(job);
		for worker in &workers[..2] {
			commit(*worker, job, &[4]);
		}
		// The reveal window opens only after the commit window, as not every seat committed.
		assert_noop!(
			Jobs::reveal_result(
				RuntimeOrigin::signed(workers[0]),
				job,
				vec![4].try_into().unwrap(),
				salt(workers[0])
			),
			Error::<Test>::RevealWindowNotOpen
		);
		run_to_block(6);
		reveal(workers[0], job, &[4]);
		// The last committed seat's reveal settles the job.
		reveal(workers[1], job, &[4]);
		assert!(matches!(
			record(job).status,
			JobStatus::Settled { at: 6, verdict: Verdict::Accepted { .. } }
		));
		assert_eq!(stake(workers[2]), WORKER_STAKE - 500);
		assert_eq!(pallet_workers::Workers::<Test>::get(workers[2]).unwrap().reputation.no_show, 1);
		assert!(events().contains(&Event::WorkerSlashed {
			worker: workers[2],
			job,
			amount: 500,
			reason: SlashReason::NoShow
		}));
	});
}

#[test]
fn three_different_outputs_are_no_quorum_with_a_full_refund() {
	ExtBuilder::default().workers(4).build_and_execute(|| {
		let before = Balances::free_balance(REQUESTER);
		let job = post(4);
		run_to_block(2);
		let workers = seated(job);
		for (i, worker) in workers[..3].iter().enumerate() {
			commit(*worker, job, &[i as u32]);
		}
		run_to_block(6);
		for (i, worker) in workers[..3].iter().enumerate() {
			reveal(*worker, job, &[i as u32]);
		}
		assert!(matches!(
			record(job).status,
			JobStatus::Settled { verdict: Verdict::NoQuorum, .. }
		));
		// Disagreeing workers keep their stake; the no-show does not.
		for worker in &workers[..3] {
			assert_eq!(stake(*worker), WORKER_STAKE);
		}
		assert_eq!(stake(workers[3]), WORKER_STAKE - 500);
		// Full refund of the escrow, plus the no-show's compensation; the deposit waits.
		assert_eq!(Balances::free_balance(REQUESTER), before - DEPOSIT + 100);
		let hashes: Vec<_> = (0..3u32).map(|i| output_hash(1, MODEL, &[i])).collect();
		assert!(events()
			.contains(&Event::JobNoQuorum { job, output_hashes: hashes.try_into().unwrap() }));
		assert_eq!(Jobs::accepted_output(job), None);
	});
}

#[test]
fn a_job_nobody_can_serve_expires_with_a_full_refund() {
	ExtBuilder::default().workers(0).build_and_execute(|| {
		let before = Balances::free_balance(REQUESTER);
		let job = post(3);
		// Deadline is block 6: the job waits, then expires.
		run_to_block(6);
		assert_eq!(record(job).status, JobStatus::Pending);
		run_to_block(7);
		assert_eq!(record(job).status, JobStatus::Settled { at: 7, verdict: Verdict::Expired });
		assert!(events().contains(&Event::JobExpired { job }));
		assert_eq!(escrow_held(REQUESTER), 0);
		assert_eq!(Balances::free_balance(REQUESTER), before - DEPOSIT);
		// The record, and the deposit, go after the retention period.
		run_to_block(17);
		assert!(JobRecords::<Test>::get(job).is_none());
		assert_eq!(Balances::free_balance(REQUESTER), before);
		assert!(events().contains(&Event::JobRemoved { job, deposit: DEPOSIT }));
	});
}

#[test]
fn the_reveal_window_end_settles_through_the_hook() {
	ExtBuilder::default().build_and_execute(|| {
		let job = posted_and_assigned(3);
		let workers = seated(job);
		for worker in &workers {
			commit(*worker, job, &[3]);
		}
		reveal(workers[0], job, &[3]);
		reveal(workers[1], job, &[3]);
		// reveal_end is 8; the hook settles at block 9.
		run_to_block(8);
		assert!(matches!(record(job).status, JobStatus::Assigned { .. }));
		run_to_block(9);
		assert!(matches!(
			record(job).status,
			JobStatus::Settled { at: 9, verdict: Verdict::Accepted { .. } }
		));
		assert_eq!(stake(workers[2]), WORKER_STAKE - 500);
	});
}

/// The settlement hook stops at its weight budget: with room for one worst-case settlement,
/// three jobs whose windows end together settle one a block, in order, and nothing is lost.
#[test]
fn settlement_stops_at_its_weight_budget_and_the_rest_wait() {
	ExtBuilder::default().workers(6).build_and_execute(|| {
		let seats = <Test as crate::Config>::MaxSeats::get();
		let worst = <() as crate::WeightInfo>::settle_job(seats)
			+ <Test as crate::Config>::Workers::slash_weight() * u64::from(seats - 1);
		MaxSettlementWeight::set(worst);
		let jobs = [post(2), post(2), post(2)];
		run_to_block(2);
		let reveal_end = match record(jobs[0]).status {
			JobStatus::Assigned { reveal_end, .. } => reveal_end,
			other => panic!("not assigned: {other:?}"),
		};
		// Nobody commits: every seat is a no-show and slashed.
		let settled = |job: JobId| matches!(record(job).status, JobStatus::Settled { .. });
		run_to_block(reveal_end + 1);
		assert_eq!(jobs.map(settled), [true, false, false]);
		run_to_block(reveal_end + 2);
		assert_eq!(jobs.map(settled), [true, true, false]);
		run_to_block(reveal_end + 3);
		assert_eq!(jobs.map(settled), [true, true, true]);
	});
}

#[test]
fn retained_outputs_are_removed_with_their_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		let job = posted_and_assigned(3);
		for worker in seated(job) {
			commit(worker, job, &[8]);
		}
		for worker in seated(job) {
			reveal(worker, job, &[8]);
		}
		run_to_block(11);
		assert!(JobRecords::<Test>::get(job).is_some());
		assert_eq!(deposit_held(REQUESTER), DEPOSIT);
		run_to_block(12);
		assert!(JobRecords::<Test>::get(job).is_none());
		assert_eq!(Outputs::<Test>::iter_prefix(job).count(), 0);
		assert_eq!(deposit_held(REQUESTER), 0);
		assert_eq!(JobCounters::<Test>::get().stored, 0);
	});
}

#[test]
fn commit_failures_change_nothing() {
	ExtBuilder::default().workers(4).build_and_execute(|| {
		let job = post(3);
		let some = [0u8; 32];
		assert_noop!(
			Jobs::commit_result(RuntimeOrigin::signed(worker(0)), job, some),
			Error::<Test>::JobNotAssigned
		);
		assert_noop!(
			Jobs::commit_result(RuntimeOrigin::signed(worker(0)), 42, some),
			Error::<Test>::JobNotFound
		);
		run_to_block(2);
		let workers = seated(job);
		let outsider = (0..4).map(worker).find(|w| !workers.contains(w)).unwrap();
		assert_noop!(
			Jobs::commit_result(RuntimeOrigin::signed(outsider), job, some),
			Error::<Test>::NotAssignedToJob
		);
		commit(workers[0], job, &[1]);
		assert_noop!(
			Jobs::commit_result(RuntimeOrigin::signed(workers[0]), job, some),
			Error::<Test>::AlreadyCommitted
		);
		run_to_block(6);
		assert_noop!(
			Jobs::commit_result(RuntimeOrigin::signed(workers[1]), job, some),
			Error::<Test>::CommitWindowClosed
		);
	});
}

#[test]
fn reveal_failures_change_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		let job = posted_and_assigned(3);
		let workers = seated(job);
		commit(workers[0], job, &[1, 2]);
		commit(workers[1], job, &[1, 2]);
		run_to_block(6);
		let reveal_as = |who: AccountId, tokens: Vec<u32>, salt: Salt| {
			Jobs::reveal_result(RuntimeOrigin::signed(who), job, tokens.try_into().unwrap(), salt)
		};
		assert_noop!(
			reveal_as(workers[0], vec![1, 3], salt(workers[0])),
			Error::<Test>::CommitmentMismatch
		);
		assert_noop!(reveal_as(workers[0], vec![1, 2], [0; 32]), Error::<Test>::CommitmentMismatch);
		// Another worker's output and salt do not open this worker's commitment.
		assert_noop!(
			reveal_as(workers[1], vec![1, 2], salt(workers[0])),
			Error::<Test>::CommitmentMismatch
		);
		assert_noop!(
			reveal_as(workers[2], vec![1, 2], salt(workers[2])),
			Error::<Test>::NotCommitted
		);
		assert_noop!(
			reveal_as(REQUESTER, vec![1, 2], salt(REQUESTER)),
			Error::<Test>::NotAssignedToJob
		);
		assert_noop!(
			reveal_as(workers[0], vec![0; 9], salt(workers[0])),
			Error::<Test>::OutputTooLong
		);
		reveal(workers[0], job, &[1, 2]);
		assert_noop!(
			reveal_as(workers[0], vec![1, 2], salt(workers[0])),
			Error::<Test>::AlreadyRevealed
		);
		run_to_block(9);
		// Settled by the hook: the job is no longer taking reveals.
		assert_noop!(
			reveal_as(workers[1], vec![1, 2], salt(workers[1])),
			Error::<Test>::JobNotAssigned
		);
	});
}

#[test]
fn reveal_after_the_window_is_refused() {
	ExtBuilder::default().build_and_execute(|| {
		let job = posted_and_assigned(3);
		let workers = seated(job);
		commit(workers[0], job, &[1]);
		commit(workers[1], job, &[1]);
		// Block 9 settles it in on_initialize; check the window itself on block 8 + 1 without hooks.
		System::set_block_number(9);
		assert_noop!(
			Jobs::reveal_result(
				RuntimeOrigin::signed(workers[0]),
				job,
				vec![1].try_into().unwrap(),
				salt(workers[0])
			),
			Error::<Test>::RevealWindowClosed
		);
	});
}

#[test]
fn unbonding_while_assigned_stays_slashable() {
	ExtBuilder::default().build_and_execute(|| {
		let job = posted_and_assigned(3);
		let workers = seated(job);
		let leaver = workers[2];
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(leaver), WORKER_STAKE));
		assert_noop!(
			Workers::deregister(RuntimeOrigin::signed(leaver)),
			pallet_workers::Error::<Test>::WorkerHasLiveJobs
		);
		for worker in &workers[..2] {
			commit(*worker, job, &[1]);
		}
		run_to_block(9);
		// The no-show slash reached the unbonding chunk.
		let info = pallet_workers::Workers::<Test>::get(leaver).unwrap();
		assert_eq!(info.bonded, 0);
		assert_eq!(info.total_stake(), WORKER_STAKE - 500);
		assert_eq!(info.unbonding[0].amount, WORKER_STAKE - 500);
	});
}

#[test]
fn duties_tell_a_worker_what_to_do() {
	ExtBuilder::default().build_and_execute(|| {
		let job = posted_and_assigned(3);
		let workers = seated(job);
		assert_eq!(Jobs::duties(workers[0]), vec![(job, Duty::Commit { until: 5 })]);
		commit(workers[0], job, &[1]);
		assert_eq!(Jobs::duties(workers[0]), vec![(job, Duty::Wait)]);
		commit(workers[1], job, &[1]);
		commit(workers[2], job, &[1]);
		// Every seat committed: the reveal window is open at once.
		assert_eq!(Jobs::duties(workers[0]), vec![(job, Duty::Reveal { from: 2, until: 8 })]);
		assert_eq!(Jobs::duties(REQUESTER), vec![]);
	});
}

#[test]
fn price_quote_matches_what_posting_holds() {
	ExtBuilder::default().build_and_execute(|| {
		let quote = Jobs::price_quote(MODEL, 3, PRICE, 30, 8).unwrap();
		assert_eq!(quote.min_price, MIN_PRICE);
		assert_eq!((quote.payment, quote.fee, quote.deposit), (300, 30, DEPOSIT));
		let before = Balances::free_balance(REQUESTER);
		post(3);
		assert_eq!(before - Balances::free_balance(REQUESTER), quote.total);
		assert_eq!(Jobs::price_quote(9, 3, PRICE, 30, 8), None);
	});
}

#[test]
fn assignment_work_per_block_is_bounded() {
	ExtBuilder::default().workers(8).build_and_execute(|| {
		let jobs: Vec<_> = (0..6).map(|_| post(1)).collect();
		run_to_block(2);
		let assigned = |jobs: &[JobId]| {
			jobs.iter()
				.filter(|job| matches!(record(**job).status, JobStatus::Assigned { .. }))
				.count()
		};
		assert_eq!(assigned(&jobs), 4);
		run_to_block(3);
		assert_eq!(assigned(&jobs), 6);
	});
}

#[test]
fn a_job_with_too_few_candidates_is_retried_in_turn_with_new_jobs() {
	ExtBuilder::default().workers(3).build_and_execute(|| {
		assert_ok!(Workers::go_offline(RuntimeOrigin::signed(worker(2))));
		let waiting = post(3);
		run_to_block(2);
		assert_eq!(record(waiting).status, JobStatus::Pending);
		assert_ok!(Workers::go_online(RuntimeOrigin::signed(worker(2))));
		let new: Vec<_> = (0..4).map(|_| post(1)).collect();
		// Four tries a block: the retry first, then three of the new jobs in id order.
		run_to_block(3);
		assert!(matches!(record(waiting).status, JobStatus::Assigned { at: 3, .. }));
		for job in &new[..3] {
			assert!(matches!(record(*job).status, JobStatus::Assigned { at: 3, .. }));
		}
		assert_eq!(record(new[3]).status, JobStatus::Pending);
		run_to_block(4);
		assert!(matches!(record(new[3]).status, JobStatus::Assigned { at: 4, .. }));
	});
}

#[test]
fn records_are_removed_in_id_order_once_due() {
	ExtBuilder::default().workers(2).build_and_execute(|| {
		// Too many seats for two workers: it waits, then expires at block 7.
		let waiting = post(3);
		let quick = posted_and_assigned(1);
		let worker = seated(quick)[0];
		commit(worker, quick, &[1]);
		reveal(worker, quick, &[1]);
		assert!(matches!(record(quick).status, JobStatus::Settled { at: 2, .. }));
		run_to_block(7);
		assert_eq!(record(waiting).status, JobStatus::Settled { at: 7, verdict: Verdict::Expired });
		// Its retention ended at block 12, but the earlier job is kept until block 17.
		run_to_block(16);
		assert!(JobRecords::<Test>::get(quick).is_some());
		assert_eq!(deposit_held(REQUESTER), 2 * DEPOSIT);
		run_to_block(17);
		assert!(JobRecords::<Test>::get(waiting).is_none());
		assert!(JobRecords::<Test>::get(quick).is_none());
		assert_eq!(deposit_held(REQUESTER), 0);
		let removed: Vec<_> = events()
			.into_iter()
			.filter_map(|event| match event {
				Event::JobRemoved { job, .. } => Some(job),
				_ => None,
			})
			.collect();
		assert_eq!(removed, vec![waiting, quick]);
		assert_eq!(JobCounters::<Test>::get().stored, 0);
	});
}

#[test]
fn a_worker_with_a_full_job_list_is_passed_over() {
	ExtBuilder::default().workers(1).build_and_execute(|| {
		let jobs: Vec<_> = (0..5).map(|_| post(1)).collect();
		run_to_block(3);
		assert_eq!(pallet_workers::Workers::<Test>::get(worker(0)).unwrap().live_jobs.len(), 4);
		assert_eq!(record(jobs[4]).status, JobStatus::Pending);
	});
}

/// A small deterministic generator (splitmix64), so every sequence below can be replayed
/// from its seed.
struct Sequence(u64);

impl Sequence {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
		z ^ (z >> 31)
	}

	fn below(&mut self, bound: u64) -> u64 {
		self.next() % bound.max(1)
	}
}

/// Random sequences of calls from several requesters and workers — posts, cancels, commits,
/// honest, wrong and missing reveals, stake changes, blocks passing — with every invariant
/// checked after each step: holds equal what jobs and stakes owe, seats name registered
/// workers, and no call creates or destroys money.
#[test]
fn random_call_sequences_keep_every_invariant() {
	let (mut accepted, mut slashed, mut cancelled) = (0, 0, 0);
	for seed in 0..120u64 {
		ExtBuilder::default().workers(5).build().execute_with(|| {
			let mut rng = Sequence(seed);
			let issuance = Balances::total_issuance();
			let requesters = [REQUESTER, MODEL_OWNER];
			let mut committed: Vec<(JobId, AccountId, Vec<u32>)> = Vec::new();
			for step in 0..120 {
				let next_job = JobCounters::<Test>::get().next_job;
				let job = if next_job == 0 { 0 } else { rng.below(next_job) };
				let who = worker(rng.below(6));
				match rng.below(10) {
					0 | 1 => {
						let _ = Jobs::post_job(
							RuntimeOrigin::signed(requesters[rng.below(2) as usize]),
							MODEL,
							vec![b'p'; 1 + rng.below(60) as usize],
							1 + rng.below(16) as u32,
							Sampling::Greedy,
							1 + rng.below(5) as u32,
							MIN_PRICE + rng.below(100),
							System::block_number() + 1 + rng.below(8),
						);
					},
					2 => {
						let _ = Jobs::cancel_job(
							RuntimeOrigin::signed(requesters[rng.below(2) as usize]),
							job,
						);
					},
					3..=5 => {
						// Mostly the honest output [1, 2], sometimes a wrong one.
						let tokens = if rng.below(4) == 0 { vec![9] } else { vec![1, 2] };
						// Usually a worker seated in the job, sometimes anyone.
						let seated: Vec<AccountId> = JobRecords::<Test>::get(job)
							.map(|record| record.seats.iter().map(|seat| seat.worker).collect())
							.unwrap_or_default();
						let who = if seated.is_empty() || rng.below(5) == 0 {
							who
						} else {
							seated[rng.below(seated.len() as u64) as usize]
						};
						let hash = output_hash(1, MODEL, &tokens);
						if Jobs::commit_result(
							RuntimeOrigin::signed(who),
							job,
							commitment(&hash, &salt(who), &who),
						)
						.is_ok()
						{
							committed.push((job, who, tokens));
						}
					},
					6 | 7 if !committed.is_empty() => {
						let (job, who, tokens) =
							committed.swap_remove(rng.below(committed.len() as u64) as usize);
						let _ = Jobs::reveal_result(
							RuntimeOrigin::signed(who),
							job,
							tokens.try_into().unwrap(),
							salt(who),
						);
					},
					8 if rng.below(2) == 0 => {
						let _ = Workers::unbond(
							RuntimeOrigin::signed(who),
							1 + rng.below(WORKER_STAKE),
						);
					},
					8 => {
						let _ =
							Workers::bond_extra(RuntimeOrigin::signed(who), 1 + rng.below(1_000));
					},
					_ => run_to_block(System::block_number() + 1 + rng.below(4)),
				}
				check_invariants();
				assert_eq!(Balances::total_issuance(), issuance, "seed {seed}, step {step}");
			}
			// Every job ends: settled, then removed with its deposit returned.
			run_to_block(System::block_number() + 60);
			check_invariants();
			assert_eq!(JobCounters::<Test>::get().stored, 0, "seed {seed}");
			for requester in requesters {
				assert_eq!(escrow_held(requester) + deposit_held(requester), 0, "seed {seed}");
			}
			for event in events() {
				match event {
					Event::JobAccepted { .. } => accepted += 1,
					Event::WorkerSlashed { .. } => slashed += 1,
					Event::JobCancelled { .. } => cancelled += 1,
					_ => {},
				}
			}
		});
	}
	// The sequences reach every part of the life, not only the failure paths.
	assert!(accepted > 50 && slashed > 50 && cancelled > 10, "{accepted} {slashed} {cancelled}");
}
