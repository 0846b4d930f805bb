//! Prints the weight of every marketplace call from the runtime's generated weights, the weight
//! of one whole job at k = 3 (post, assignment, three commits, three reveals with settlement,
//! the settlement hook passing the job in its assignment batch, removal), and how many whole
//! jobs fit in a block's normal-class budget: this runtime's two-second block and a six-second
//! block with two seconds of execution. In a full block the hooks read what the block's jobs
//! share once, so a job there costs what one more job adds (the slopes of `assign_jobs`,
//! `skip_settled` and `remove_jobs`); the rest is charged once per block.
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
use pallet_workers::WeightInfo as _;
use sp_runtime::Perbill;

type Jobs = <Runtime as pallet_jobs::Config>::WeightInfo;
type Workers = <Runtime as pallet_workers::Config>::WeightInfo;
type Models = <Runtime as pallet_models::Config>::WeightInfo;
type Rewards = <Runtime as pallet_rewards::Config>::WeightInfo;

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
	let next_assignment = Jobs::assign_jobs(2).saturating_sub(Jobs::assign_jobs(1));
	let next_removal = Jobs::remove_jobs(2).saturating_sub(Jobs::remove_jobs(1));
	// The post benchmark extends the model's reservation; a post within the reservation (all
	// but one an hour for a busy model) is refunded that write.
	let post = Jobs::post_job(PROMPT_BYTES).saturating_sub(db.writes(1));
	// The job counters: read and written once per block, whatever the number of jobs.
	let counters = db.reads_writes(1, 1);

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
			"jobs.reveal_result, settling (16 tokens, 3 seats paid)",
			Jobs::reveal_and_settle(OUTPUT_TOKENS, SEATS),
		),
		(
			"jobs: each slashed seat of a settlement",
			<Runtime as pallet_jobs::Config>::Workers::slash_weight(),
		),
		("jobs hook: idle", Jobs::on_initialize_idle()),
		("jobs hook: assign one job (3 seats)", Jobs::assign_job(SEATS)),
		("jobs hook: each further job of the block (5 seats)", next_assignment),
		("jobs hook: expire one job", Jobs::expire_job()),
		("jobs hook: settle one job (3 seats, 1 slashed)", Jobs::settle_job(SEATS)),
		("jobs hook: remove one record", Jobs::remove_job()),
		("jobs hook: each further record of the block", next_removal),
		("jobs hook: pass a job its last reveal settled", settled_early_skip),
		("rewards: note paid work", Rewards::note_paid_work()),
	];
	for (name, weight) in &rows {
		println!("| {name} | {:.1} | {} |", micros(*weight), weight.proof_size());
	}

	let extrinsics = 1 + 3 + 3;
	let calls = post
		.saturating_add(Jobs::commit_result().saturating_mul(3))
		.saturating_add(Jobs::reveal_result(OUTPUT_TOKENS).saturating_mul(2))
		.saturating_add(Jobs::reveal_and_settle(OUTPUT_TOKENS, SEATS))
		.saturating_add(base_extrinsic.saturating_mul(extrinsics));
	// Alone in its blocks, the job pays in full what the block's jobs would share: assignment and
	// removal with everything they read, its assignment batch, and the counters in each of the
	// four blocks that write them (post, assignment, the settlement hook's pass, removal).
	let alone = calls
		.saturating_add(Jobs::assign_job(SEATS))
		.saturating_add(settled_early_skip)
		.saturating_add(batch_read_and_removal)
		.saturating_add(Jobs::remove_job())
		.saturating_add(counters.saturating_mul(4));
	let in_a_full_block = calls
		.saturating_add(next_assignment)
		.saturating_add(settled_early_skip)
		.saturating_add(next_removal);
	// Charged once per block however many jobs it holds: the idle hook, the counters, the first
	// assignment and removal beyond what a further one adds, and the assignment batch the
	// settlement hook reads and removes.
	let per_block = Jobs::on_initialize_idle()
		.saturating_add(counters)
		.saturating_add(Jobs::assign_job(SEATS).saturating_sub(next_assignment))
		.saturating_add(Jobs::remove_job().saturating_sub(next_removal))
		.saturating_add(batch_read_and_removal);
	println!();
	println!(
		"whole job, k = 3 (7 extrinsics with their base weight, assignment and removal), alone in \
		 its blocks: {:.1} µs",
		micros(alone)
	);
	println!(
		"whole job, k = 3, in a full block: {:.1} µs, and {:.1} µs once per block",
		micros(in_a_full_block),
		micros(per_block)
	);

	let six_second = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		Perbill::from_percent(75),
	);
	for (name, weights) in [("this runtime's 2 s block", &block), ("a 6 s block", &six_second)] {
		let normal = weights.get(DispatchClass::Normal);
		let budget = normal.max_total.unwrap_or(weights.max_block).ref_time();
		let budget = budget
			.saturating_sub(weights.base_block.ref_time())
			.saturating_sub(per_block.ref_time());
		println!(
			"{name}: normal-class budget {:.0} µs after the per-block part → {} whole jobs per \
			 block",
			budget as f64 / 1_000_000.0,
			budget / in_a_full_block.ref_time().max(1)
		);
	}
}
