//! Prometheus metrics of a running worker, served on a local port.

use std::net::SocketAddr;

use substrate_prometheus_endpoint::{
	init_prometheus, register, Counter, Gauge, PrometheusError, Registry, F64, U64,
};

/// The worker's metrics.
#[derive(Clone)]
pub struct Metrics {
	/// Jobs whose output was revealed on chain.
	pub jobs_served: Counter<U64>,
	/// Tokens generated for jobs.
	pub tokens_generated: Counter<U64>,
	/// Decode speed of the last job.
	pub tokens_per_second: Gauge<F64>,
	/// Payments received for accepted results, in the smallest unit.
	pub earned: Counter<U64>,
	/// Times this worker was slashed.
	pub slashes: Counter<U64>,
	/// Stake lost to slashes, in the smallest unit.
	pub slashed: Counter<U64>,
	/// The last finalised block seen.
	pub last_block: Gauge<U64>,
}

impl Metrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let counter = |name: &str, help: &str| register(Counter::new(name, help)?, registry);
		Ok(Self {
			jobs_served: counter("commons_worker_jobs_served_total", "Jobs revealed on chain")?,
			tokens_generated: counter(
				"commons_worker_tokens_generated_total",
				"Tokens generated for jobs",
			)?,
			tokens_per_second: register(
				Gauge::new("commons_worker_tokens_per_second", "Decode speed of the last job")?,
				registry,
			)?,
			earned: counter(
				"commons_worker_earned_total",
				"Payments for accepted results, in the smallest unit",
			)?,
			slashes: counter("commons_worker_slashes_total", "Times this worker was slashed")?,
			slashed: counter(
				"commons_worker_slashed_total",
				"Stake lost to slashes, in the smallest unit",
			)?,
			last_block: register(
				Gauge::new("commons_worker_last_block", "The last finalised block seen")?,
				registry,
			)?,
		})
	}

	/// Registers the metrics and serves them at `http://{address}/metrics` until the process ends.
	pub fn serve(address: SocketAddr) -> Result<Self, PrometheusError> {
		let registry = Registry::new();
		let metrics = Self::register(&registry)?;
		tokio::spawn(async move {
			if let Err(error) = init_prometheus(address, registry).await {
				tracing::error!("metrics endpoint on {address} stopped: {error}");
			}
		});
		Ok(metrics)
	}
}

/// Saturates a balance into a counter increment.
pub fn units(amount: u128) -> u64 {
	u64::try_from(amount).unwrap_or(u64::MAX)
}
