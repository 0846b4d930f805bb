//! Prints the weight of every marketplace call from the runtime's generated weights, the weight
//! of one whole job at k = 3 (post, assignment, three commits, three reveals with settlement,
//! the settlement hook passing the job in its assignment batch, removal), and how many whole
//! jobs fit in a block's normal-class budget: this runtime's two-second block and a six-second
//! block with two seconds of execution. In a full block the hooks read what the block's jobs
//! share once, so a job there costs what one more job adds (the slopes of `assign_jobs`,
//! `skip_settled` and `remove_jobs`); the rest is charged once per block. The workers' commits
//! and reveals are counted each as its own transaction and in `Utility.force_batch` batches.
//!
//!     cargo run --release -p commons-runtime --example job_weight

// An off-chain report: the runtime's no-panic lints do not apply.
#![allow(clippy::arithmetic_side_effects)]

use commons_primitives::WorkerRegistry;
use commons_runtime::{configs::RuntimeBlockWeights, Runtime};
use frame_support::{
	dispatch::DispatchClass,
	weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
};
use frame_system::limits::BlockWeights;
use pallet_jobs::WeightInfo as _;
use pallet_models::WeightInfo as _;
use pallet_rewards::WeightInfo as _;
use pallet_utility::WeightInfo as _;
use pallet_workers::WeightInfo as _;
use sp_runtime::Perbill;

type Jobs = <Runtime as pallet_jobs::Config>::WeightInfo;
type Workers = <Runtime as pallet_workers::Config>::WeightInfo;
type Models = <Runtime as pallet_models::Config>::WeightInfo;
type Rewards = <Runtime as pallet_rewards::Config>::WeightInfo;
type Utility = <Runtime as pallet_utility::Config>::WeightInfo;

/// The prompt of "What is the capital of France?" in the ChatML template, in bytes.
const PROMPT_BYTES: u32 = 140;
/// Tokens generated.
const OUTPUT_TOKENS: u32 = 16;
/// Seats of the whole job.
const SEATS: u32 = 3;

fn micros(weight: Weight) -> f64 {
	weight.ref_time() as f64 / 1_000_000.0
}

fn main() {
	let block = RuntimeBlockWeights::get();
	let base_extrinsic = block.get(DispatchClass::Normal).base_extrinsic;
	let db = <Runtime as frame_system::Config>::DbWeight::get();
	// A job settled by its last reveal stays in its assignment batch; the settlement hook reads
	// its record when it passes it. The batch is read and removed once.
	let settled_early_skip = Jobs::skip_settled(2).saturating_sub(Jobs::skip_settled(1));
	let batch_read_and_removal = db.reads_writes(1, 1);
	// What one more job adds to a block's assignment and removal.
	// `assign_jobs` measures jobs of one seat, `assign_job`'s slope each further seat.
	let next_seat = Jobs::assign_job(2).saturating_sub(Jobs::assign_job(1));
	let next_assignment = Jobs::assign_jobs(2)
		.saturating_sub(Jobs::assign_jobs(1))
		.saturating_add(next_seat.saturating_mul(u64::from(SEATS - 1)));
	let next_removal = Jobs::remove_jobs(2).saturating_sub(Jobs::remove_jobs(1));
	// The post benchmark extends the model's reservation; a post within the reservation (all
	// but one an hour for a busy model) is refunded that write.
	let post = Jobs::post_job(PROMPT_BYTES).saturating_sub(db.writes(1));
	// The job counters: read and written once per block, whatever the number of jobs.
	let counters = db.reads_writes(1, 1);
	// The current era, its totals and the treasury's account: every paid job reads and writes
	// them; the rewards hook charges them once per block.
	let era_and_treasury = db.reads_writes(3, 2);

	println!("| call | ref time (µs) | proof size (bytes) |");
	println!("|---|---:|---:|");
	let rows: Vec<(&str, Weight)> = vec![
		("models.register_model", Models::register_model()),
		("models.set_model_status", Models::set_model_status()),
		("models.deregister_model", Models::deregister_model()),
		("workers.register (1 model)", Workers::register(1)),
		("workers.bond_extra", Workers::bond_extra()),
		("workers.unbond", Workers::unbond()),
		("workers.withdraw_unbonded", Workers::withdraw_unbonded()),
		("workers.set_models (1 model)", Workers::set_models(1)),
		("workers.set_price", Workers::set_price()),
		("workers.go_offline", Workers::go_offline()),
		("workers.go_online", Workers::go_online()),
		("workers.deregister", Workers::deregister()),
		("workers: one slash", Workers::slash()),
		("jobs.post_job (140-byte prompt)", Jobs::post_job(PROMPT_BYTES)),
		("jobs.post_job within the model's reservation", post),
		("jobs.cancel_job", Jobs::cancel_job()),
		("jobs.commit_result", Jobs::commit_result()),
		("jobs.reveal_result (16 tokens)", Jobs::reveal_result(OUTPUT_TOKENS)),
		(
			"jobs.reveal_result of an output already stored",
			Jobs::reveal_result(OUTPUT_TOKENS).saturating_sub(db.writes(1)),
		),
		(
			"jobs.reveal_result, settling (16 tokens, 3 seats paid)",
			Jobs::reveal_and_settle(OUTPUT_TOKENS, SEATS),
		),
		(
			"jobs: each slashed seat of a settlement",
			<Runtime as pallet_jobs::Config>::Workers::slash_weight(),
		),
		("jobs hook: idle", Jobs::on_initialize_idle()),
		("jobs hook: assign one job (3 seats)", Jobs::assign_job(SEATS)),
		("jobs hook: each further job of the block (3 seats)", next_assignment),
		("jobs hook: each further seat", next_seat),
		("jobs hook: expire one job", Jobs::expire_job()),
		("jobs hook: settle one job (3 seats, 1 slashed)", Jobs::settle_job(SEATS)),
		("jobs hook: remove one record", Jobs::remove_job()),
		("jobs hook: each further record of the block", next_removal),
		("jobs hook: pass a job its last reveal settled", settled_early_skip),
		("rewards: note paid work", Rewards::note_paid_work()),
		("utility.force_batch (16 calls, without them)", Utility::force_batch(16)),
	];
	for (name, weight) in &rows {
		println!("| {name} | {:.1} | {} |", micros(*weight), weight.proof_size());
	}

	// The second of three agreeing reveals finds the output stored and is refunded its write.
	let reveals = Jobs::reveal_result(OUTPUT_TOKENS)
		.saturating_mul(2)
		.saturating_sub(db.writes(1))
		.saturating_add(Jobs::reveal_and_settle(OUTPUT_TOKENS, SEATS));
	let dispatched =
		post.saturating_add(Jobs::commit_result().saturating_mul(3)).saturating_add(reveals);
	// Alone in its blocks, the job pays in full what the block's jobs would share: assignment and
	// removal with everything they read, its assignment batch, the counters in each of the four
	// blocks that write them (post, assignment, the settlement hook's pass, removal), and the era
	// and the treasury in the block that settles it.
	let alone = dispatched
		.saturating_add(base_extrinsic.saturating_mul(1 + 3 + 3))
		.saturating_add(Jobs::assign_job(SEATS))
		.saturating_add(settled_early_skip)
		.saturating_add(batch_read_and_removal)
		.saturating_add(Jobs::remove_job())
		.saturating_add(counters.saturating_mul(4))
		.saturating_add(era_and_treasury);
	let hooks_in_a_full_block =
		next_assignment.saturating_add(settled_early_skip).saturating_add(next_removal);
	// Charged once per block however many jobs it holds: the idle hook, the counters, the era
	// and the treasury, the first assignment and removal beyond what a further one adds, and the
	// assignment batch the settlement hook reads and removes.
	let per_block = Jobs::on_initialize_idle()
		.saturating_add(counters)
		.saturating_add(era_and_treasury)
		.saturating_add(Jobs::assign_job(SEATS).saturating_sub(next_assignment))
		.saturating_add(Jobs::remove_job().saturating_sub(next_removal))
		.saturating_add(batch_read_and_removal);
	println!();
	println!(
		"whole job, k = 3 (7 extrinsics with their base weight, assignment and removal), alone in \
		 its blocks: {:.1} µs",
		micros(alone)
	);
	println!("once per block: {:.1} µs", micros(per_block));

	let six_second = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		Perbill::from_percent(75),
	);
	let budget = |weights: &BlockWeights| {
		let normal = weights.get(DispatchClass::Normal);
		normal
			.max_total
			.unwrap_or(weights.max_block)
			.ref_time()
			.saturating_sub(weights.base_block.ref_time())
			.saturating_sub(per_block.ref_time())
	};
	// The workers' six commits and reveals, each its own transaction or sent `calls` to a
	// `Utility.force_batch`: a call in a batch pays the batch's per-call weight and its share of
	// one transaction's base weight and of the batch's fixed part.
	println!();
	println!(
		"| workers' commits and reveals | whole job, k = 3, in a full block (µs) | whole jobs per \
		 2 s block | whole jobs per 6 s block |"
	);
	println!("|---|---:|---:|---:|");
	for calls in [1u64, 4, 16] {
		let worker_call = if calls == 1 {
			base_extrinsic
		} else {
			let batch = Utility::force_batch(calls as u32).saturating_add(base_extrinsic);
			Weight::from_parts(batch.ref_time() / calls, batch.proof_size() / calls)
		};
		let job = dispatched
			.saturating_add(base_extrinsic)
			.saturating_add(worker_call.saturating_mul(6))
			.saturating_add(hooks_in_a_full_block);
		let per_block = |weights: &BlockWeights| budget(weights) / job.ref_time().max(1);
		let sending = if calls == 1 {
			"one transaction each".to_string()
		} else {
			format!("batches of {calls}")
		};
		println!(
			"| {sending} | {:.1} | {} | {} |",
			micros(job),
			per_block(&block),
			per_block(&six_second)
		);
	}
}
