//! Benchmarks of the job calls and hooks, each in its worst case for its components: the
//! longest prompt and output, a full candidate index (posting reads it for the market price),
//! and the number of seats `k`, up to `MaxSeats` (a job's replicas and every seat an escalation
//! adds), as a component of assignment and settlement. A settlement by the last reveal is measured with
//! every seat paid, a settlement at the end of the window with one seat slashed; each further
//! slash is charged apart (`WorkerRegistry::slash_weight`).

use super::*;
use commons_primitives::{commitment, output_hash};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Hooks};
use frame_system::RawOrigin;
use sp_runtime::Saturating;

/// The most seats a job holds: its replicas and every seat an escalation adds. The benchmarks
/// let jobs ask for that many replicas, so that one round fills them all.
fn seats<T: Config>() -> u32 {
	T::MaxSeats::get().max(1)
}

/// The most jobs of `seats` seats one block can assign without two seats sharing a worker.
fn jobs_with_distinct_workers<T: Config>(seats: u32) -> u32 {
	let candidates =
		<T::Workers as WorkerRegistry<T::AccountId, BalanceOf<T>>>::MaxCandidates::get();
	candidates.checked_div(seats).unwrap_or(1).clamp(1, T::MaxAssignmentsPerBlock::get().max(1))
}

fn price<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance().saturating_mul(1_000u32.into()).max(1_000u32.into())
}

fn stake<T: Config>() -> BalanceOf<T> {
	price::<T>().saturating_mul(1_000_000u32.into())
}

fn requester<T: Config>() -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account("requester", 0, 0);
	let _ = T::Currency::mint_into(&who, price::<T>().saturating_mul(1_000_000_000u32.into()));
	who
}

/// A model with a full index of candidates.
fn market<T: Config>() -> ModelId {
	let model = T::BenchmarkHelper::register_model(price::<T>());
	let candidates =
		<T::Workers as WorkerRegistry<T::AccountId, BalanceOf<T>>>::MaxCandidates::get();
	for index in 0..candidates {
		let worker: T::AccountId = account("worker", index, 0);
		T::BenchmarkHelper::register_worker(&worker, model, stake::<T>(), price::<T>());
	}
	model
}

fn post<T: Config>(requester: &T::AccountId, model: ModelId, prompt_len: u32, seats: u32) -> JobId
where
	T::Currency: Mutate<T::AccountId>,
{
	let job = JobCounters::<T>::get().next_job;
	let now = frame_system::Pallet::<T>::block_number();
	T::BenchmarkHelper::allow_replicas(seats);
	let posted = Pallet::<T>::post_job(
		RawOrigin::Signed(requester.clone()).into(),
		model,
		alloc::vec![b'a'; prompt_len.max(1) as usize],
		T::MaxOutputTokens::get(),
		Sampling::Greedy,
		seats,
		price::<T>(),
		now.saturating_add(T::MaxAssignmentDelay::get()),
	);
	assert!(posted.is_ok(), "posting a benchmark job failed: {posted:?}");
	job
}

fn next_block<T: Config>() -> BlockNumberFor<T> {
	let next = frame_system::Pallet::<T>::block_number().saturating_add(1u32.into());
	frame_system::Pallet::<T>::set_block_number(next);
	next
}

/// A posted job of `seats` seats, assigned in the next block.
fn assigned<T: Config>(seats: u32) -> (JobId, Vec<T::AccountId>)
where
	T::Currency: Mutate<T::AccountId>,
{
	let model = market::<T>();
	let job = post::<T>(&requester::<T>(), model, T::MaxPromptLen::get(), seats);
	let now = next_block::<T>();
	Pallet::<T>::assign_pending(now);
	let workers = Jobs::<T>::get(job)
		.map(|record| record.seats.iter().map(|seat| seat.worker.clone()).collect())
		.unwrap_or_default();
	(job, workers)
}

fn output<T: Config>(tokens: u32, fill: u32) -> OutputOf<T> {
	BoundedVec::truncate_from(alloc::vec![fill; tokens as usize])
}

fn salt(index: usize) -> Salt {
	[index as u8; 32]
}

fn commit<T: Config>(job: JobId, worker: &T::AccountId, index: usize, output: &OutputOf<T>) {
	let engine = Jobs::<T>::get(job).map(|record| (record.engine_version, record.model));
	let (engine_version, model) = engine.unwrap_or_default();
	let hash = output_hash(engine_version, model, output);
	let committed = Pallet::<T>::commit_result(
		RawOrigin::Signed(worker.clone()).into(),
		job,
		commitment(&hash, &salt(index), worker),
	);
	assert!(committed.is_ok(), "commit failed: {committed:?}");
}

/// The output each seat reveals in the worst settlement: a bare majority agrees, the others
/// reveal something else and are slashed for it.
fn mixed_output<T: Config>(index: usize, seats: usize, tokens: u32) -> OutputOf<T> {
	let majority = (seats / 2).saturating_add(1);
	output::<T>(tokens, if index < majority { 1 } else { (index as u32).saturating_add(2) })
}

/// Commits and reveals a bare majority's output and different ones for the other seats, so
/// that the last reveal settles the job with every distinct output stored; returns the block
/// it settled in.
fn settle_with_mixed_outputs<T: Config>(job: JobId, workers: &[T::AccountId]) -> BlockNumberFor<T> {
	let count = workers.len();
	let tokens = T::MaxOutputTokens::get();
	for (index, worker) in workers.iter().enumerate() {
		commit::<T>(job, worker, index, &mixed_output::<T>(index, count, tokens));
	}
	for (index, worker) in workers.iter().enumerate() {
		let _ = Pallet::<T>::reveal_result(
			RawOrigin::Signed(worker.clone()).into(),
			job,
			mixed_output::<T>(index, count, tokens),
			salt(index),
		);
	}
	match Jobs::<T>::get(job).map(|r| r.status) {
		Some(JobStatus::Settled { at, .. }) => at,
		_ => Default::default(),
	}
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn post_job(p: Linear<1, { T::MaxPromptLen::get() }>) {
		let model = market::<T>();
		let requester = requester::<T>();
		let deadline =
			frame_system::Pallet::<T>::block_number().saturating_add(T::MaxAssignmentDelay::get());
		T::BenchmarkHelper::allow_replicas(seats::<T>());
		#[extrinsic_call]
		_(
			RawOrigin::Signed(requester),
			model,
			alloc::vec![b'a'; p as usize],
			T::MaxOutputTokens::get(),
			Sampling::Greedy,
			seats::<T>(),
			price::<T>(),
			deadline,
		);
		assert_eq!(JobCounters::<T>::get().stored, 1);
	}

	#[benchmark]
	fn cancel_job() {
		let model = market::<T>();
		let requester = requester::<T>();
		let job = post::<T>(&requester, model, T::MaxPromptLen::get(), seats::<T>());
		#[extrinsic_call]
		_(RawOrigin::Signed(requester), job);
		assert!(Jobs::<T>::get(job).is_none());
	}

	#[benchmark]
	fn commit_result() {
		let (job, workers) = assigned::<T>(seats::<T>());
		let last = workers.len().saturating_sub(1);
		let worker = workers.get(last).cloned().unwrap_or_else(|| account("none", 0, 0));
		#[extrinsic_call]
		_(RawOrigin::Signed(worker), job, [7u8; 32]);
	}

	#[benchmark]
	fn reveal_result(t: Linear<1, { T::MaxOutputTokens::get() }>) {
		let (job, workers) = assigned::<T>(seats::<T>());
		let tokens = output::<T>(t, 1);
		for (index, worker) in workers.iter().enumerate() {
			commit::<T>(job, worker, index, &tokens);
		}
		let first = workers.first().cloned().unwrap_or_else(|| account("none", 0, 0));
		#[extrinsic_call]
		reveal_result(RawOrigin::Signed(first), job, tokens, salt(0));
		assert!(matches!(Jobs::<T>::get(job).map(|r| r.status), Some(JobStatus::Assigned { .. })));
	}

	/// The last of `k` agreeing reveals: every seat paid, its work noted, its seat released.
	#[benchmark]
	fn reveal_and_settle(
		t: Linear<1, { T::MaxOutputTokens::get() }>,
		k: Linear<1, { seats::<T>() }>,
	) {
		let (job, workers) = assigned::<T>(k);
		let count = workers.len();
		assert_eq!(count, k as usize, "the draw did not fill every seat");
		for (index, worker) in workers.iter().enumerate() {
			commit::<T>(job, worker, index, &output::<T>(t, 1));
		}
		let last = count.saturating_sub(1);
		for (index, worker) in workers.iter().enumerate().take(last) {
			let revealed = Pallet::<T>::reveal_result(
				RawOrigin::Signed(worker.clone()).into(),
				job,
				output::<T>(t, 1),
				salt(index),
			);
			assert!(revealed.is_ok());
		}
		let worker = workers.get(last).cloned().unwrap_or_else(|| account("none", 0, 0));
		#[extrinsic_call]
		reveal_result(RawOrigin::Signed(worker), job, output::<T>(t, 1), salt(last));
		assert!(matches!(
			Jobs::<T>::get(job).map(|r| r.status),
			Some(JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. })
		));
	}

	#[benchmark]
	fn on_initialize_idle() {
		let now = next_block::<T>();
		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}
	}

	#[benchmark]
	fn assign_job(k: Linear<1, { seats::<T>() }>) {
		let model = market::<T>();
		let job = post::<T>(&requester::<T>(), model, T::MaxPromptLen::get(), k);
		let now = next_block::<T>();
		#[block]
		{
			Pallet::<T>::assign_pending(now);
		}
		assert!(matches!(Jobs::<T>::get(job).map(|r| r.status), Some(JobStatus::Assigned { .. })));
	}

	#[benchmark]
	fn expire_job() {
		let model = T::BenchmarkHelper::register_model(price::<T>());
		let job = post::<T>(&requester::<T>(), model, T::MaxPromptLen::get(), seats::<T>());
		let deadline = Jobs::<T>::get(job).map(|r| r.deadline).unwrap_or_default();
		let now = deadline.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::assign_pending(now);
		}
		assert!(Jobs::<T>::get(job).is_none(), "an expired job's record stays");
	}

	/// `k` seats commit and all but one reveal: the rest paid (when they are a majority), one
	/// slashed, the escrow left over refunded; with fewer than a majority revealing, the job
	/// escalates instead, which does less.
	#[benchmark]
	fn settle_job(k: Linear<1, { seats::<T>() }>) {
		let (job, workers) = assigned::<T>(k);
		let count = workers.len();
		let revealing = count.saturating_sub(1);
		for (index, worker) in workers.iter().enumerate() {
			commit::<T>(job, worker, index, &output::<T>(T::MaxOutputTokens::get(), 1));
		}
		let reveal_end = match Jobs::<T>::get(job).map(|r| r.status) {
			Some(JobStatus::Assigned { reveal_end, .. }) => reveal_end,
			_ => Default::default(),
		};
		frame_system::Pallet::<T>::set_block_number(reveal_end);
		for (index, worker) in workers.iter().enumerate().take(revealing) {
			let revealed = Pallet::<T>::reveal_result(
				RawOrigin::Signed(worker.clone()).into(),
				job,
				output::<T>(T::MaxOutputTokens::get(), 1),
				salt(index),
			);
			assert!(revealed.is_ok());
		}
		let now = reveal_end.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::settle_due(now);
		}
		assert!(matches!(
			Jobs::<T>::get(job).map(|r| r.status),
			Some(JobStatus::Settled { .. } | JobStatus::Escalating { .. })
		));
	}

	/// A block assigning `n` jobs of one model with one seat each: the first job reads what
	/// the block shares, and what each further job adds is the slope; the assignment hook adds
	/// the slope of [`assign_job`] for each further seat of a job. Every worker has room for
	/// one more job only, so that no two seats of the block share a worker record (a record
	/// written twice in a block would be counted once).
	#[benchmark]
	fn assign_jobs(n: Linear<1, { jobs_with_distinct_workers::<T>(1) }>) {
		let model = market::<T>();
		let candidates =
			<T::Workers as WorkerRegistry<T::AccountId, BalanceOf<T>>>::candidates(model);
		let room = <T::Workers as WorkerRegistry<T::AccountId, BalanceOf<T>>>::MaxLiveJobs::get();
		let now: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
		for candidate in candidates.iter() {
			// Live seats whose computing time is over: they fill the job list, not the slots.
			for filler in 1..room {
				let noted = T::Workers::note_assigned(
					&candidate.worker,
					JobId::MAX.saturating_sub(u64::from(filler)),
					now,
					now,
				);
				assert!(noted.is_ok(), "filling a worker's job list failed");
			}
		}
		let requester = requester::<T>();
		let jobs: Vec<JobId> =
			(0..n).map(|_| post::<T>(&requester, model, T::MaxPromptLen::get(), 1)).collect();
		let now = next_block::<T>();
		#[block]
		{
			Pallet::<T>::assign_pending(now);
		}
		for job in jobs {
			assert!(matches!(
				Jobs::<T>::get(job).map(|r| r.status),
				Some(JobStatus::Assigned { .. })
			));
		}
	}

	#[benchmark]
	fn remove_job() {
		let (job, workers) = assigned::<T>(seats::<T>());
		let now =
			settle_with_mixed_outputs::<T>(job, &workers).saturating_add(T::RetentionPeriod::get());
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::remove_expired_records(now);
		}
		assert!(Jobs::<T>::get(job).is_none());
	}

	/// A block removing `n` retained records of `n` requesters, each record with the most
	/// outputs: what each further record adds is the slope.
	#[benchmark]
	fn remove_jobs(n: Linear<1, { T::MaxRemovalsPerBlock::get() }>) {
		let model = market::<T>();
		let jobs: Vec<JobId> = (0..n)
			.map(|index| {
				let requester: T::AccountId = account("requester", index, 1);
				let _ = T::Currency::mint_into(
					&requester,
					price::<T>().saturating_mul(1_000_000_000u32.into()),
				);
				post::<T>(&requester, model, T::MaxPromptLen::get(), seats::<T>())
			})
			.collect();
		let mut last_settled = frame_system::Pallet::<T>::block_number();
		for job in jobs.iter().copied() {
			while matches!(Jobs::<T>::get(job).map(|r| r.status), Some(JobStatus::Pending)) {
				let now = next_block::<T>();
				Pallet::<T>::assign_pending(now);
			}
			let workers: Vec<T::AccountId> = Jobs::<T>::get(job)
				.map(|record| record.seats.iter().map(|seat| seat.worker.clone()).collect())
				.unwrap_or_default();
			last_settled = settle_with_mixed_outputs::<T>(job, &workers);
		}
		let now = last_settled.saturating_add(T::RetentionPeriod::get());
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::remove_expired_records(now);
		}
		for job in jobs {
			assert!(Jobs::<T>::get(job).is_none());
		}
	}

	/// A settlement hook walking `n` jobs of one assignment batch that their last reveals
	/// settled early, each record with the longest prompt: what each further job adds is the
	/// slope.
	#[benchmark]
	fn skip_settled(n: Linear<1, { jobs_with_distinct_workers::<T>(seats::<T>()) }>) {
		let model = market::<T>();
		let requester = requester::<T>();
		let jobs: Vec<JobId> = (0..n)
			.map(|_| post::<T>(&requester, model, T::MaxPromptLen::get(), seats::<T>()))
			.collect();
		let assigned_at = next_block::<T>();
		Pallet::<T>::assign_pending(assigned_at);
		let mut reveal_end = assigned_at;
		for job in jobs.iter().copied() {
			let record = Jobs::<T>::get(job);
			if let Some(JobStatus::Assigned { reveal_end: end, .. }) =
				record.as_ref().map(|record| record.status)
			{
				reveal_end = end;
			}
			let workers: Vec<T::AccountId> = record
				.map(|record| record.seats.iter().map(|seat| seat.worker.clone()).collect())
				.unwrap_or_default();
			assert_eq!(workers.len(), seats::<T>() as usize, "a benchmark job was not assigned");
			settle_with_mixed_outputs::<T>(job, &workers);
		}
		let now = reveal_end.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::settle_due(now);
		}
		assert_eq!(SettlementQueue::<T>::len(&JobCounters::<T>::get()), 0);
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().workers(0).build(),
		crate::mock::Test
	);
}
