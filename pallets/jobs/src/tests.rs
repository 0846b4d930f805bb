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

/// Free and held balance together.
fn total(who: AccountId) -> Balance {
	<Balances as frame_support::traits::fungible::Inspect<AccountId>>::total_balance(&who)
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

/// What a job of `replicas` replicas holds in escrow: price and fee for every seat it may have
/// with escalation (`2 × replicas + 1`, at most the mock's five).
fn escrow_of(replicas: u32) -> Balance {
	Balance::from((2 * replicas + 1).min(5)) * (PRICE + FEE)
}

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
		// Five seats' price and fee: three asked for, two more an escalation may draw.
		assert_eq!(escrow_held(REQUESTER), 5 * (PRICE + FEE));
		assert_eq!(escrow_of(3), 550);
		assert_eq!(deposit_held(REQUESTER), DEPOSIT);
		assert_eq!(Balances::free_balance(REQUESTER), INITIAL_BALANCE - 550 - DEPOSIT);
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
				escrow: 550,
				deposit: DEPOSIT,
				surcharge: 0,
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
fn conversations_are_posted_only_when_they_decode_exactly() {
	use commons_primitives::prompt::{encode_conversation, Message, Role, CONVERSATION_TAG};
	ExtBuilder::default().build_and_execute(|| {
		let post = |prompt: Vec<u8>| {
			Jobs::post_job(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				prompt,
				8,
				Sampling::Greedy,
				3,
				PRICE,
				5,
			)
		};
		let user = |text: &str| Message { role: Role::User, content: text.as_bytes().to_vec() };
		let mut trailing = encode_conversation(&[user("hi")]);
		trailing.push(0);
		let not_utf8 = encode_conversation(&[Message { role: Role::User, content: vec![0xc3] }]);
		for malformed in [
			vec![CONVERSATION_TAG],
			encode_conversation(&[]),
			encode_conversation(&vec![user("x"); 9]),
			trailing,
			not_utf8,
		] {
			assert_noop!(post(malformed), Error::<Test>::MalformedConversation);
		}
		assert_eq!(escrow_held(REQUESTER) + deposit_held(REQUESTER), 0);

		let system = Message { role: Role::System, content: b"Be brief.".to_vec() };
		let conversation = encode_conversation(&[system, user("hi")]);
		let job = JobCounters::<Test>::get().next_job;
		assert_ok!(post(conversation.clone()));
		let record = JobRecords::<Test>::get(job).expect("posted");
		assert_eq!(record.prompt.to_vec(), conversation);
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
		System::assert_last_event(
			Event::JobCancelled { job, refunded: escrow_of(3) + DEPOSIT }.into(),
		);
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
		// Governance lengthens the commit margin after the post: the job, assigned in block 2,
		// can be live until block 2 + 1 + 199 + 3, past the reservation the post made.
		MaxCommitWindow::set(300);
		CommitMargin::set(199);
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

/// A wrong result is slashed, and the slash goes to the treasury: before, it compensated the
/// requester up to the seat's price, so that a requester gained from every failed seat.
#[test]
fn a_wrong_result_is_slashed_to_the_treasury_and_the_requester_pays_the_agreeing_seats() {
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
		// 10 % of 10,000 slashed, all of it to the treasury.
		assert_eq!(stake(cheat), WORKER_STAKE - 1_000);
		let reputation = pallet_workers::Workers::<Test>::get(cheat).unwrap().reputation;
		assert_eq!((reputation.accepted, reputation.wrong), (0, 1));
		assert_eq!(Balances::free_balance(cheat), INITIAL_BALANCE - WORKER_STAKE);
		// The requester gets back all but the two agreeing seats' price and fee.
		assert_eq!(Balances::free_balance(REQUESTER), before + escrow_of(3) - 2 * (PRICE + FEE));
		assert_eq!(Balances::free_balance(Treasury::get()), treasury_before + 2 * FEE + 1_000);
		assert!(events().contains(&Event::WorkerSlashed {
			worker: cheat,
			job,
			amount: 1_000,
			reason: SlashReason::WrongResult
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
fn different_outputs_at_the_seat_bound_are_no_quorum_with_a_full_refund() {
	ExtBuilder::default().workers(5).build_and_execute(|| {
		let before = Balances::free_balance(REQUESTER);
		// Five replicas: the seat bound (five in the mock) leaves no room to escalate.
		let job = post(5);
		run_to_block(2);
		let workers = seated(job);
		for (i, worker) in workers[..4].iter().enumerate() {
			commit(*worker, job, &[i as u32 % 2]);
		}
		run_to_block(6);
		for (i, worker) in workers[..4].iter().enumerate() {
			reveal(*worker, job, &[i as u32 % 2]);
		}
		assert!(matches!(
			record(job).status,
			JobStatus::Settled { verdict: Verdict::NoQuorum, .. }
		));
		// Disagreeing workers keep their stake and are not paid; the no-show is slashed.
		for worker in &workers[..4] {
			assert_eq!(stake(*worker), WORKER_STAKE);
			assert_eq!(Balances::free_balance(*worker), INITIAL_BALANCE - WORKER_STAKE);
			assert!(pallet_workers::Workers::<Test>::get(worker).unwrap().live_jobs.is_empty());
		}
		assert_eq!(stake(workers[4]), WORKER_STAKE - 500);
		// Full refund of the escrow and nothing more; the deposit waits.
		assert_eq!(Balances::free_balance(REQUESTER), before - DEPOSIT);
		let hashes: Vec<_> = (0..2u32).map(|i| output_hash(1, MODEL, &[i])).collect();
		assert!(events()
			.contains(&Event::JobNoQuorum { job, output_hashes: hashes.try_into().unwrap() }));
		assert_eq!(Jobs::accepted_output(job), None);
		// No output of a job without a verdict is kept.
		assert_eq!(Outputs::<Test>::iter_prefix(job).count(), 0);
	});
}

/// Store filling, in part: an expired job's record no longer sits for the retention period;
/// it goes, with its deposit, when the job expires.
#[test]
fn a_job_nobody_can_serve_expires_with_a_full_refund_and_its_record_goes() {
	ExtBuilder::default().workers(0).build_and_execute(|| {
		let before = Balances::free_balance(REQUESTER);
		let job = post(3);
		// Deadline is block 6: the job waits, then expires.
		run_to_block(6);
		assert_eq!(record(job).status, JobStatus::Pending);
		run_to_block(7);
		assert!(events().contains(&Event::JobExpired { job }));
		assert!(events().contains(&Event::JobRemoved { job, deposit: DEPOSIT }));
		assert!(JobRecords::<Test>::get(job).is_none());
		assert_eq!(escrow_held(REQUESTER), 0);
		assert_eq!(deposit_held(REQUESTER), 0);
		assert_eq!(Balances::free_balance(REQUESTER), before);
		assert_eq!(JobCounters::<Test>::get().stored, 0);
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
		// Nobody commits: every seat is a no-show and slashed, and the job escalates.
		let settled = |job: JobId| record(job).round == 1;
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
		// Every worker asks the floor.
		assert_eq!(quote.market_price, MIN_PRICE);
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
		// The pending job holds back the later record's removal until it expires (block 7),
		// when its own record goes at once.
		run_to_block(7);
		assert!(JobRecords::<Test>::get(waiting).is_none());
		assert_eq!(deposit_held(REQUESTER), DEPOSIT);
		// The quick job's retention ends at block 12.
		run_to_block(11);
		assert!(JobRecords::<Test>::get(quick).is_some());
		run_to_block(12);
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
	let (mut accepted, mut slashed, mut cancelled, mut escalated, mut audits) = (0, 0, 0, 0, 0);
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
					0 => {
						// Audited jobs at rates from 10 % to every job.
						let _ = Jobs::post_audited_job(
							RuntimeOrigin::signed(requesters[rng.below(2) as usize]),
							MODEL,
							vec![b'p'; 1 + rng.below(60) as usize],
							1 + rng.below(16) as u32,
							Sampling::Greedy,
							[100_000, HALF, crate::PPM][rng.below(3) as usize],
							MIN_PRICE + rng.below(100),
							System::block_number() + 1 + rng.below(8),
						);
					},
					1 => {
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
					8 if rng.below(3) == 0 => {
						let _ = Workers::unbond(
							RuntimeOrigin::signed(who),
							1 + rng.below(WORKER_STAKE),
						);
					},
					8 if rng.below(2) == 0 => {
						let capacity = commons_primitives::Capacity {
							slots: 1 + rng.below(4) as u32,
							tokens_per_block: 10 + rng.below(200) as u32,
						};
						let _ = Workers::set_capacity(RuntimeOrigin::signed(who), capacity);
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
			// Every job ends: settled, then removed with its deposit returned. An audited job
			// whose seats never show takes the longest: four rounds of one seat, each drawn
			// within the assignment delay.
			run_to_block(System::block_number() + 100);
			check_invariants();
			assert_eq!(JobCounters::<Test>::get().stored, 0, "seed {seed}");
			for requester in requesters {
				assert_eq!(escrow_held(requester) + deposit_held(requester), 0, "seed {seed}");
				// Whatever happened to its jobs, no requester ends richer than it started.
				assert!(total(requester) <= INITIAL_BALANCE, "seed {seed}");
			}
			for event in events() {
				match event {
					Event::JobAccepted { .. } => accepted += 1,
					Event::WorkerSlashed { .. } => slashed += 1,
					Event::JobCancelled { .. } => cancelled += 1,
					Event::JobEscalated { .. } => escalated += 1,
					Event::AuditDecided { audited: true, .. } => audits += 1,
					_ => {},
				}
			}
		});
	}
	// The sequences reach every part of the life, not only the failure paths.
	assert!(
		accepted > 50 && slashed > 50 && cancelled > 10 && escalated > 10 && audits > 10,
		"{accepted} {slashed} {cancelled} {escalated} {audits}"
	);
}

/// An honest worker as the protocol expects it to run: it computes its seats one slot at a
/// time in the order it was given them, each for the blocks its declared throughput needs,
/// commits when done and reveals as soon as it may. `done` keeps, per worker, the block each
/// started job is done in.
fn serve_honestly(
	workers: &[AccountId],
	done: &mut std::collections::BTreeMap<(AccountId, JobId), u64>,
	tokens: &[u32],
) {
	let now = System::block_number();
	for worker in workers {
		let rate = pallet_workers::Workers::<Test>::get(worker).unwrap().capacity.tokens_per_block;
		for (job, duty) in Jobs::duties(*worker) {
			match duty {
				Duty::Commit { until } => {
					let free = done
						.iter()
						.filter(|((who, _), _)| who == worker)
						.map(|(_, block)| *block)
						.max()
						.unwrap_or(0);
					let finish = *done.entry((*worker, job)).or_insert_with(|| {
						free.max(now) + commons_primitives::compute_blocks(record(job).work(), rate)
					});
					assert!(finish <= until, "an honest worker cannot make its commit window");
					if finish <= now {
						commit(*worker, job, tokens);
					}
				},
				Duty::Reveal { .. } => reveal(*worker, job, tokens),
				Duty::Wait => {},
			}
		}
	}
}

/// The overload attack: before, a requester posting a burst of large jobs in one block got
/// every worker seated in up to `MaxLiveJobs` of them at once; a worker running them one after
/// another missed the commit windows, each seat was slashed `NoShowSlash` and the slash
/// compensated the requester, who ended richer. Now a worker is seated only in a free slot of
/// its declared capacity, the windows follow from the jobs' size, the burst waits, and nobody
/// is slashed.
#[test]
fn a_burst_beyond_capacity_waits_and_slashes_no_honest_worker() {
	ExtBuilder::default().workers(3).build_and_execute(|| {
		let workers: Vec<AccountId> = (0..3).map(worker).collect();
		// One slot each, 40 tokens a block: the largest job (64 prompt bytes, 64 for the
		// template, 16 tokens) takes four blocks.
		for who in &workers {
			assert_ok!(Workers::set_capacity(
				RuntimeOrigin::signed(*who),
				commons_primitives::Capacity { slots: 1, tokens_per_block: 40 }
			));
		}
		let before = total(REQUESTER);
		let stakes: Vec<Balance> = workers.iter().map(|who| stake(*who)).collect();
		let burst: Vec<JobId> = (0..4)
			.map(|_| {
				let job = JobCounters::<Test>::get().next_job;
				assert_ok!(Jobs::post_job(
					RuntimeOrigin::signed(REQUESTER),
					MODEL,
					vec![b'x'; 64],
					16,
					Sampling::Greedy,
					3,
					PRICE,
					System::block_number() + 20,
				));
				job
			})
			.collect();
		run_to_block(2);
		// One job at a time fits the three workers' slots.
		let assigned = |job: JobId| !matches!(record(job).status, JobStatus::Pending);
		assert_eq!(burst.iter().filter(|job| assigned(**job)).count(), 1);
		for who in &workers {
			assert_eq!(pallet_workers::Workers::<Test>::get(who).unwrap().slots_in_use(2), 1);
		}
		let mut done = Default::default();
		for block in 2..=40 {
			run_to_block(block);
			serve_honestly(&workers, &mut done, &[7]);
			check_invariants();
		}
		for job in &burst {
			assert!(
				matches!(
					JobRecords::<Test>::get(job).map(|record| record.status),
					Some(JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. }) | None
				),
				"job {job} neither accepted nor expired"
			);
		}
		assert!(!events().iter().any(|event| matches!(event, Event::WorkerSlashed { .. })));
		for (who, before) in workers.iter().zip(stakes) {
			assert_eq!(stake(*who), before);
		}
		// The requester paid for what it got and gained nothing.
		assert!(total(REQUESTER) < before);
	});
}

/// The windows follow from the job's size and the slowest seat's throughput, and a worker too
/// slow to compute a job within the longest commit window is not drawn for it.
#[test]
fn the_commit_window_follows_the_job_size_and_the_seats_throughput() {
	ExtBuilder::default().workers(3).build_and_execute(|| {
		let slow = commons_primitives::Capacity { slots: 1, tokens_per_block: 10 };
		assert_ok!(Workers::set_capacity(RuntimeOrigin::signed(worker(0)), slow));
		// 30 prompt bytes, 64 for the template, 8 tokens: 102 tokens, 11 blocks at 10 a
		// block, 1 at 110. The slow worker sets the job's window: 2 + 11 + margin 2.
		let job = post(3);
		run_to_block(2);
		assert_eq!(
			record(job).status,
			JobStatus::Assigned { at: 2, commit_end: 15, reveal_end: 18 }
		);
		assert_eq!(
			pallet_workers::Workers::<Test>::get(worker(0)).unwrap().computing.to_vec(),
			vec![(job, 13)]
		);
		// A worker done early frees its slot by committing.
		commit(worker(0), job, &[1]);
		assert!(pallet_workers::Workers::<Test>::get(worker(0)).unwrap().computing.is_empty());
		assert!(Workers::has_free_slot(&worker(0), 2));
		// With the longest commit window at 12 blocks, the slow worker cannot be drawn: a
		// three-seat job waits for a third worker.
		MaxCommitWindow::set(12);
		let other = post(2);
		let waiting = post(3);
		run_to_block(3);
		assert!(!seated(other).contains(&worker(0)));
		assert_eq!(record(waiting).status, JobStatus::Pending);
	});
}

/// Seats one worker of `job` as the requester's sybil: it reveals `garbage` (or nothing), the
/// others the honest output. Returns the sybil.
fn split_round(job: JobId, sybils: &[AccountId], garbage: Option<&[u32]>) {
	let honest: &[u32] = &[1, 2];
	let round = record(job).round;
	let seats: Vec<AccountId> = record(job)
		.seats
		.iter()
		.filter(|seat| seat.round == round)
		.map(|seat| seat.worker)
		.collect();
	for worker in &seats {
		match (sybils.contains(worker), garbage) {
			(false, _) => commit(*worker, job, honest),
			(true, Some(garbage)) => commit(*worker, job, garbage),
			(true, None) => {},
		}
	}
	if garbage.is_none() && seats.iter().any(|worker| sybils.contains(worker)) {
		let JobStatus::Assigned { commit_end, .. } = record(job).status else { unreachable!() };
		run_to_block(commit_end + 1);
	}
	for worker in &seats {
		match (sybils.contains(worker), garbage) {
			(false, _) => reveal(*worker, job, honest),
			(true, Some(garbage)) => reveal(*worker, job, garbage),
			(true, None) => {},
		}
	}
}

/// The free-output attack: before, a requester's second account drawn into its two-seat job
/// revealed garbage, the job ended NoQuorum with a full refund, the sybil kept its stake, and
/// the requester read the honest worker's output for free. Now the split escalates: a third
/// seat is drawn, the honest output wins, the honest workers are paid and the sybil is
/// slashed.
#[test]
fn a_sybils_disagreement_escalates_and_the_honest_output_is_paid() {
	for garbage in [Some(&[6, 6, 6][..]), None] {
		ExtBuilder::default().workers(3).build_and_execute(|| {
			let before = total(REQUESTER);
			let job = posted_and_assigned(2);
			let first = seated(job);
			let sybil = first[1];
			split_round(job, &[sybil], garbage);
			assert_eq!(record(job).status, JobStatus::Escalating { needed: 1 });
			assert!(events().contains(&Event::JobEscalated { job, round: 1, seats: 1 }));
			// The escalation seat is drawn in the next block among the workers not seated yet.
			run_to_block(System::block_number() + 1);
			let seats = seated(job);
			assert_eq!(seats.len(), 3);
			let third = seats[2];
			assert!(!first.contains(&third));
			assert_eq!(record(job).seats[2].round, 1);
			// The first round's seats cannot act again.
			assert_noop!(
				Jobs::commit_result(RuntimeOrigin::signed(sybil), job, [0; 32]),
				Error::<Test>::RoundOver
			);
			split_round(job, &[sybil], garbage);
			let hash = output_hash(1, MODEL, &[1, 2]);
			assert!(matches!(
				record(job).status,
				JobStatus::Settled { verdict: Verdict::Accepted { output_hash }, .. }
					if output_hash == hash
			));
			// Both honest workers are paid; the sybil is slashed.
			for honest in [first[0], third] {
				assert_eq!(Balances::free_balance(honest), INITIAL_BALANCE - WORKER_STAKE + PRICE);
				assert!(pallet_workers::Workers::<Test>::get(honest).unwrap().live_jobs.is_empty());
			}
			let (fraction, reason) = match garbage {
				Some(_) => (10, SlashReason::WrongResult),
				None => (5, SlashReason::NoShow),
			};
			let slash = WORKER_STAKE * fraction / 100;
			assert_eq!(stake(sybil), WORKER_STAKE - slash);
			assert!(events().contains(&Event::WorkerSlashed {
				worker: sybil,
				job,
				amount: slash,
				reason
			}));
			// The requester paid for two agreeing seats, exactly what it asked for.
			assert_eq!(before - total(REQUESTER), 2 * (PRICE + FEE));
			assert_eq!(escrow_held(REQUESTER), 0);
		});
	}
}

/// The same attack with an even number of seats and two sybils agreeing on garbage: the 2–2
/// split escalates by one seat and the honest side wins 3–2.
#[test]
fn two_sybils_in_a_four_seat_job_lose_to_the_escalation() {
	ExtBuilder::default().workers(5).build_and_execute(|| {
		let job = posted_and_assigned(4);
		let first = seated(job);
		let sybils = [first[2], first[3]];
		split_round(job, &sybils, Some(&[6]));
		assert_eq!(record(job).status, JobStatus::Escalating { needed: 1 });
		run_to_block(System::block_number() + 1);
		split_round(job, &sybils, Some(&[6]));
		assert!(matches!(
			record(job).status,
			JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. }
		));
		for sybil in sybils {
			assert_eq!(stake(sybil), WORKER_STAKE - WORKER_STAKE / 10);
		}
		let paid = events()
			.into_iter()
			.find_map(|event| match event {
				Event::JobAccepted { agreeing_workers, .. } => Some(agreeing_workers.len()),
				_ => None,
			})
			.unwrap();
		assert_eq!(paid, 3);
	});
}

/// Without a worker for the escalation seat before its deadline, the job ends without a
/// majority: the escrow returns in full, the disagreeing seats are released unpaid and
/// unslashed.
#[test]
fn an_escalation_nobody_can_serve_ends_without_a_majority() {
	ExtBuilder::default().workers(2).build_and_execute(|| {
		let before = total(REQUESTER);
		let job = posted_and_assigned(2);
		let first = seated(job);
		split_round(job, &[first[1]], Some(&[6]));
		assert_eq!(record(job).status, JobStatus::Escalating { needed: 1 });
		let deadline = record(job).deadline;
		run_to_block(deadline + 1);
		assert!(matches!(
			record(job).status,
			JobStatus::Settled { verdict: Verdict::NoQuorum, .. }
		));
		for worker in first {
			assert_eq!(stake(worker), WORKER_STAKE);
			assert!(pallet_workers::Workers::<Test>::get(worker).unwrap().live_jobs.is_empty());
		}
		// Only the deposit is still held.
		assert_eq!(before - total(REQUESTER), 0);
		assert_eq!(escrow_held(REQUESTER), 0);
	});
}

/// Store filling and queue jamming: jobs are assigned in posting order, a block's worth at a
/// time. Before, a requester could post any number of jobs nobody serves for their fees and
/// (returned) deposits, delaying every later job until its own expired. Now each post made while
/// more than two blocks' worth of jobs wait pays the treasury a surcharge that grows with the
/// square of the queue, and the queue empties as the jobs expire.
#[test]
fn jamming_the_assignment_queue_costs_a_surcharge_that_grows_with_the_jam() {
	ExtBuilder::default().workers(0).build_and_execute(|| {
		let treasury_before = Balances::free_balance(Treasury::get());
		let before = total(REQUESTER);
		// The mock assigns four jobs a block: up to eight may wait without a surcharge.
		let mut charged = Vec::new();
		for _ in 0..20 {
			let quote = Jobs::price_quote(MODEL, 1, PRICE, 30, 8).unwrap();
			let job = post(1);
			let surcharge = match events().last() {
				Some(Event::JobPosted { job: posted, surcharge, .. }) if *posted == job => {
					*surcharge
				},
				other => panic!("no JobPosted: {other:?}"),
			};
			assert_eq!(surcharge, quote.surcharge);
			charged.push(surcharge);
		}
		// JobDepositBase (10) times the square of the blocks' worth of jobs waiting.
		let mut expected = vec![0; 9];
		expected.extend([40; 3]);
		expected.extend([90; 4]);
		expected.extend([160; 4]);
		assert_eq!(charged, expected);
		let total_surcharge: Balance = expected.iter().sum();
		assert_eq!(Balances::free_balance(Treasury::get()), treasury_before + total_surcharge);
		// Nobody serves the model: the jobs expire, escrow and deposits come back, the surcharge
		// does not; the queue is free again.
		run_to_block(System::block_number() + 30);
		assert_eq!(JobCounters::<Test>::get().stored, 0);
		assert_eq!(total(REQUESTER), before - total_surcharge);
		assert_eq!(Jobs::price_quote(MODEL, 1, PRICE, 30, 8).unwrap().surcharge, 0);
	});
}

/// Attack: a cartel prices its workers at the model's floor, below the honest workers' asks.
/// When only asks at most the offer were eligible, a floor-priced job was drawn from the cartel
/// alone, which was paid for unanimous garbage. A job must offer at least the stake-weighted
/// median ask, so the cartel (two fifths of the stake here) is never the whole eligible set.
#[test]
fn a_cartel_asking_below_the_market_is_never_the_whole_eligible_set() {
	ExtBuilder::default().workers(5).build_and_execute(|| {
		for honest in 0..3 {
			assert_ok!(Workers::set_price(RuntimeOrigin::signed(worker(honest)), PRICE));
		}
		let cartel = [worker(3), worker(4)];
		assert_eq!(Jobs::price_quote(MODEL, 2, MIN_PRICE, 30, 8).unwrap().market_price, PRICE);
		// The floor-priced job that only the cartel would have served is refused.
		assert_noop!(
			Jobs::post_job(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				b"What is the capital of France?".to_vec(),
				8,
				Sampling::Greedy,
				2,
				MIN_PRICE,
				System::block_number() + 5,
			),
			Error::<Test>::PriceBelowMarket
		);
		// At the market price every listed worker is eligible, the cheap ones no more than
		// the others: a five-seat job seats all of them.
		let job = post_with(5, PRICE);
		run_to_block(2);
		let mut seats = seated(job);
		seats.sort();
		assert_eq!(seats, (0..5).map(worker).collect::<Vec<_>>());
		assert!(cartel.iter().all(|member| seats.contains(member)));
		// Raising the cartel's asks above the market only takes it out of the draw.
		for member in cartel {
			assert_ok!(Workers::set_price(RuntimeOrigin::signed(member), PRICE * 2));
		}
		assert_eq!(Jobs::market_price(MODEL), Some(PRICE));
	});
}

// Audited jobs: one worker, and an auditor drawn from a hash that did not exist when it
// committed.

const HALF: u32 = crate::PPM / 2;

fn post_audited(rate: u32) -> JobId {
	let job = JobCounters::<Test>::get().next_job;
	assert_ok!(Jobs::post_audited_job(
		RuntimeOrigin::signed(REQUESTER),
		MODEL,
		b"What is the capital of France?".to_vec(),
		8,
		Sampling::Greedy,
		rate,
		PRICE,
		System::block_number() + 5,
	));
	job
}

/// A block hash under which the audit of `job`'s round 0 at `rate` is `audited`.
fn hash_deciding(job: JobId, rate: u32, audited: bool) -> sp_core::H256 {
	(0u8..=255)
		.map(sp_core::H256::repeat_byte)
		.find(|hash| Jobs::audit_decision(job, 0, rate, hash) == audited)
		.expect("a hash of each outcome among 256")
}

/// Posts an audited job at 50 %, lets its worker commit to `tokens`, and makes the block after
/// the commitment's the one that decides `audited`; returns the job and its worker, in the
/// block the decision is taken.
fn audited_and_decided(audited: bool, tokens: &[u32]) -> (JobId, AccountId) {
	let job = post_audited(HALF);
	run_to_block(System::block_number() + 1);
	let primary = seated(job)[0];
	assert_eq!(seated(job).len(), 1);
	commit(primary, job, tokens);
	let committed_at = System::block_number();
	assert_eq!(record(job).audit, crate::Audit::Deciding { committed_at });
	// The deciding hash does not exist yet when the worker commits.
	assert_eq!(frame_system::BlockHash::<Test>::get(committed_at + 1), Default::default());
	// Its reveal waits for the decision.
	assert_noop!(
		Jobs::reveal_result(
			RuntimeOrigin::signed(primary),
			job,
			tokens.to_vec().try_into().unwrap(),
			salt(primary)
		),
		Error::<Test>::AuditPending
	);
	assert_eq!(Jobs::duties(primary), vec![(job, Duty::Wait)]);
	frame_system::BlockHash::<Test>::insert(committed_at + 1, hash_deciding(job, HALF, audited));
	// Not in the block after the commitment's: its hash is only known from the next one.
	run_to_block(committed_at + 1);
	assert!(!events().iter().any(|event| matches!(event, Event::AuditDecided { .. })));
	run_to_block(committed_at + 2);
	assert!(events().contains(&Event::AuditDecided { job, audited }));
	(job, primary)
}

#[test]
fn an_audited_job_not_audited_pays_its_one_worker_and_refunds_the_rest() {
	ExtBuilder::default().workers(3).build_and_execute(|| {
		let before = total(REQUESTER);
		let (job, primary) = audited_and_decided(false, &[1, 2]);
		assert_eq!(record(job).audit, crate::Audit::Skipped);
		assert_eq!(seated(job), vec![primary]);
		reveal(primary, job, &[1, 2]);
		assert!(matches!(
			record(job).status,
			JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. }
		));
		assert_eq!(Balances::free_balance(primary), INITIAL_BALANCE - WORKER_STAKE + PRICE);
		// One run paid: the rest of the five seats' escrow came back, to the unit.
		assert_eq!(before - total(REQUESTER), PRICE + FEE);
		assert_eq!(escrow_held(REQUESTER), 0);
	});
}

#[test]
fn an_audited_job_escrows_five_seats_and_checks_its_rate() {
	ExtBuilder::default().workers(3).build_and_execute(|| {
		let free = Balances::free_balance(REQUESTER);
		for rate in [0, crate::PPM + 1] {
			assert_noop!(
				Jobs::post_audited_job(
					RuntimeOrigin::signed(REQUESTER),
					MODEL,
					b"hi".to_vec(),
					8,
					Sampling::Greedy,
					rate,
					PRICE,
					System::block_number() + 5,
				),
				Error::<Test>::AuditRateOutOfRange
			);
		}
		MinAuditRate::set(10_000);
		assert_noop!(
			Jobs::post_audited_job(
				RuntimeOrigin::signed(REQUESTER),
				MODEL,
				b"hi".to_vec(),
				8,
				Sampling::Greedy,
				9_999,
				PRICE,
				System::block_number() + 5,
			),
			Error::<Test>::AuditRateOutOfRange
		);
		assert_eq!(Balances::free_balance(REQUESTER), free);
		let quote = |rate| Jobs::audited_price_quote(MODEL, rate, PRICE, 30, 8).unwrap();
		// One run, plus an audit at the rate (rounded up), is what the job is expected to cost.
		assert_eq!(quote(HALF).expected, (PRICE + FEE) + (PRICE + FEE) / 2);
		assert_eq!(quote(crate::PPM).expected, 2 * (PRICE + FEE));
		assert_eq!(quote(1).expected, PRICE + FEE + 1);
		assert_eq!(Jobs::price_quote(MODEL, 3, PRICE, 30, 8).unwrap().expected, 3 * (PRICE + FEE));
		post_audited(crate::PPM);
		// The worker, the auditor and three escalation seats, as quoted.
		assert_eq!(escrow_held(REQUESTER), 5 * (PRICE + FEE));
		let quoted = quote(crate::PPM);
		assert_eq!(quoted.payment + quoted.fee + quoted.escalation, 5 * (PRICE + FEE));
		assert_eq!(quoted.deposit, deposit_held(REQUESTER));
	});
}

/// Each of `paid` was paid its price and kept its stake, and the requester, which had
/// `before`, paid for exactly two runs and holds no escrow.
fn two_runs_paid(before: Balance, paid: [AccountId; 2]) {
	for worker in paid {
		assert_eq!(Balances::free_balance(worker), INITIAL_BALANCE - WORKER_STAKE + PRICE);
		assert_eq!(stake(worker), WORKER_STAKE);
	}
	assert_eq!(before - total(REQUESTER), 2 * (PRICE + FEE));
	assert_eq!(escrow_held(REQUESTER), 0);
}

/// The auditor is seated in the worker's round; the two agree and both are paid.
#[test]
fn an_audit_that_agrees_pays_both_and_the_requester_two_runs() {
	ExtBuilder::default().workers(3).build_and_execute(|| {
		let before = total(REQUESTER);
		let (job, primary) = audited_and_decided(true, &[1, 2]);
		let seats = seated(job);
		assert_eq!(seats.len(), 2);
		let auditor = seats[1];
		assert_ne!(auditor, primary);
		assert_eq!(record(job).seats[1].round, record(job).seats[0].round);
		assert_eq!(record(job).audit, crate::Audit::Audited { seated: true });
		// The auditor commits blind: the worker's reveal waits for its commitment.
		assert_eq!(Jobs::duties(primary), vec![(job, Duty::Wait)]);
		assert_noop!(
			Jobs::reveal_result(
				RuntimeOrigin::signed(primary),
				job,
				vec![1, 2].try_into().unwrap(),
				salt(primary)
			),
			Error::<Test>::RevealWindowNotOpen
		);
		commit(auditor, job, &[1, 2]);
		reveal(primary, job, &[1, 2]);
		reveal(auditor, job, &[1, 2]);
		assert!(matches!(
			record(job).status,
			JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. }
		));
		two_runs_paid(before, [primary, auditor]);
	});
}

/// A disagreement between the worker and its auditor escalates to a fresh seat; the side that
/// loses is slashed and unpaid, whichever it is.
#[test]
fn a_cheat_caught_by_the_audit_is_slashed_whether_worker_or_auditor() {
	for cheating_primary in [true, false] {
		ExtBuilder::default().workers(3).build_and_execute(|| {
			let before = total(REQUESTER);
			let (honest, garbage): (&[u32], &[u32]) = (&[1, 2], &[6, 6, 6]);
			let primary_output = if cheating_primary { garbage } else { honest };
			let (job, primary) = audited_and_decided(true, primary_output);
			let auditor = seated(job)[1];
			let auditor_output = if cheating_primary { honest } else { garbage };
			commit(auditor, job, auditor_output);
			reveal(primary, job, primary_output);
			reveal(auditor, job, auditor_output);
			assert_eq!(record(job).status, JobStatus::Escalating { needed: 1 });
			run_to_block(System::block_number() + 1);
			let third = seated(job)[2];
			assert!(third != primary && third != auditor);
			commit(third, job, honest);
			reveal(third, job, honest);
			let hash = output_hash(1, MODEL, honest);
			assert!(matches!(
				record(job).status,
				JobStatus::Settled { verdict: Verdict::Accepted { output_hash }, .. }
					if output_hash == hash
			));
			let (cheat, fair) =
				if cheating_primary { (primary, auditor) } else { (auditor, primary) };
			let slash = WORKER_STAKE / 10;
			assert_eq!(stake(cheat), WORKER_STAKE - slash);
			assert!(events().contains(&Event::WorkerSlashed {
				worker: cheat,
				job,
				amount: slash,
				reason: SlashReason::WrongResult
			}));
			assert_eq!(Balances::free_balance(cheat), INITIAL_BALANCE - WORKER_STAKE);
			// Two agreeing runs paid; the cheat's seat cost the requester nothing.
			two_runs_paid(before, [fair, third]);
		});
	}
}

/// The decision is the hash of the block after the commitment's and nothing else: the same job
/// under different hashes of every other block decides the same, and under the other hash of
/// that block decides the other way.
#[test]
fn the_audit_is_decided_only_by_the_block_after_the_commitment() {
	let decide = |other_blocks: u8, audited: bool| {
		let mut decided = None;
		ExtBuilder::default().workers(3).build_and_execute(|| {
			// Every other block hash around the job differs between runs.
			for block in 1..=8u64 {
				frame_system::BlockHash::<Test>::insert(
					block,
					sp_core::H256::repeat_byte(other_blocks.wrapping_add(block as u8)),
				);
			}
			let job = post_audited(HALF);
			run_to_block(System::block_number() + 1);
			commit(seated(job)[0], job, &[1, 2]);
			let committed_at = System::block_number();
			frame_system::BlockHash::<Test>::insert(
				committed_at + 1,
				hash_deciding(job, HALF, audited),
			);
			run_to_block(committed_at + 2);
			decided = events().into_iter().find_map(|event| match event {
				Event::AuditDecided { audited, .. } => Some(audited),
				_ => None,
			});
		});
		decided
	};
	for audited in [true, false] {
		assert_eq!(decide(40, audited), Some(audited));
		assert_eq!(decide(140, audited), Some(audited));
	}
}

/// A worker whose slash for a wrong answer is smaller than what cheating at the job's rate could
/// gain is never seated: at 5 %, cheating on a job of 100 pays unless the slash exceeds 1,900,
/// and every worker here risks 1,000 (10 % of its stake).
#[test]
fn workers_whose_slash_is_too_small_for_the_audit_rate_are_not_drawn() {
	ExtBuilder::default().workers(3).build_and_execute(|| {
		assert_eq!(Jobs::min_audited_slash(PRICE, 50_000), 1_900);
		assert_eq!(Jobs::min_audited_slash(PRICE, 100_000), 900);
		assert_eq!(Jobs::min_audited_slash(PRICE, crate::PPM), 0);
		let before = total(REQUESTER);
		let low = post_audited(50_000);
		let enough = post_audited(100_000);
		run_to_block(System::block_number() + 1);
		assert!(seated(low).is_empty());
		assert_eq!(seated(enough).len(), 1);
		run_to_block(System::block_number() + 6);
		assert!(JobRecords::<Test>::get(low).is_none(), "expired and removed");
		assert!(events().contains(&Event::JobExpired { job: low }));
		// The expired job cost nothing: what is gone is the assigned job's escrow and deposit.
		assert_eq!(before - total(REQUESTER), 0);
	});
}

/// When no auditor can be drawn in time the job ends without a verdict: the requester gets
/// everything back, the worker is released unpaid and unslashed.
#[test]
fn an_audit_nobody_can_serve_ends_without_a_majority_and_refunds_everything() {
	ExtBuilder::default().workers(1).build_and_execute(|| {
		let before = total(REQUESTER);
		let (job, primary) = audited_and_decided(true, &[1, 2]);
		assert_eq!(record(job).audit, crate::Audit::Audited { seated: false });
		// Tried in every block until the deadline, `MaxAssignmentDelay` (20) after the decision.
		run_to_block(System::block_number() + 20);
		assert_eq!(record(job).audit, crate::Audit::Audited { seated: false });
		run_to_block(System::block_number() + 1);
		assert!(matches!(
			record(job).status,
			JobStatus::Settled { verdict: Verdict::NoQuorum, .. }
		));
		assert_eq!(stake(primary), WORKER_STAKE);
		assert!(pallet_workers::Workers::<Test>::get(primary).unwrap().live_jobs.is_empty());
		assert_eq!(Balances::free_balance(primary), INITIAL_BALANCE - WORKER_STAKE);
		assert_eq!(escrow_held(REQUESTER), 0);
		assert_eq!(before - total(REQUESTER), 0, "only the deposit, still held, and refunded");
	});
}
