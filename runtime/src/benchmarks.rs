//! The pallets whose benchmarks `scripts/benchmark.sh` runs to generate their `weights.rs`.

frame_benchmarking::define_benchmarks!(
	[pallet_models, Models]
	[pallet_workers, Workers]
	[pallet_jobs, Jobs]
	[pallet_rewards, Rewards]
	[pallet_protocol_parameters, ProtocolParameters]
);

pub use crate::{Jobs, Models, ProtocolParameters, Rewards, Workers};
