//! Prometheus metrics of a running worker. Amounts are in CMN, as floats; docs/grafana has a
//! dashboard of them.

use std::net::SocketAddr;

use anyhow::Context;
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
	/// Payments for accepted results since start, in CMN.
	pub earned: Counter<F64>,
	/// Era emission minted to the worker since start, in CMN.
	pub emission: Counter<F64>,
	/// Times this worker was slashed.
	pub slashes: Counter<U64>,
	/// Stake lost to slashes since start, in CMN.
	pub slashed: Counter<F64>,
	/// 1 while the worker follows a node, 0 while it reconnects.
	pub connected: Gauge<U64>,
	/// 1 while the chain lists the worker online (taking new jobs).
	pub online: Gauge<U64>,
	/// The last best block seen.
	pub best_block: Gauge<U64>,
	/// The last finalised block seen.
	pub finalized_block: Gauge<U64>,
	/// Free balance, in CMN.
	pub free: Gauge<F64>,
	/// Bonded stake, in CMN.
	pub bonded: Gauge<F64>,
	/// Stake unbonding, in CMN.
	pub unbonding: Gauge<F64>,
	/// Live jobs the chain has seated this worker in.
	pub seats_held: Gauge<U64>,
	/// Jobs the worker is computing, committing or revealing now.
	pub tasks_running: Gauge<U64>,
	/// Jobs whose commit and reveal fees the free balance still pays.
	pub fee_runway_jobs: Gauge<F64>,
	/// 1 when the fee runway is below the warning level (`fee_warning_jobs`).
	pub fee_runway_low: Gauge<U64>,
}

impl Metrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let counter = |name: &str, help: &str| register(Counter::new(name, help)?, registry);
		let float_counter = |name: &str, help: &str| register(Counter::new(name, help)?, registry);
		let gauge = |name: &str, help: &str| register(Gauge::new(name, help)?, registry);
		let float_gauge = |name: &str, help: &str| register(Gauge::new(name, help)?, registry);
		Ok(Self {
			jobs_served: counter("commons_worker_jobs_served_total", "Jobs revealed on chain")?,
			tokens_generated: counter(
				"commons_worker_tokens_generated_total",
				"Tokens generated for jobs",
			)?,
			tokens_per_second: float_gauge(
				"commons_worker_tokens_per_second",
				"Decode speed of the last job",
			)?,
			earned: float_counter(
				"commons_worker_earned_cmn_total",
				"Payments for accepted results, in CMN",
			)?,
			emission: float_counter(
				"commons_worker_emission_cmn_total",
				"Era emission minted to this worker, in CMN",
			)?,
			slashes: counter("commons_worker_slashes_total", "Times this worker was slashed")?,
			slashed: float_counter(
				"commons_worker_slashed_cmn_total",
				"Stake lost to slashes, in CMN",
			)?,
			connected: gauge("commons_worker_connected", "1 while following a node")?,
			online: gauge("commons_worker_online", "1 while the chain lists the worker online")?,
			best_block: gauge("commons_worker_best_block", "The last best block seen")?,
			finalized_block: gauge(
				"commons_worker_finalized_block",
				"The last finalised block seen",
			)?,
			free: float_gauge("commons_worker_free_cmn", "Free balance, in CMN")?,
			bonded: float_gauge("commons_worker_bonded_cmn", "Bonded stake, in CMN")?,
			unbonding: float_gauge("commons_worker_unbonding_cmn", "Stake unbonding, in CMN")?,
			seats_held: gauge("commons_worker_seats_held", "Live jobs seating this worker")?,
			tasks_running: gauge(
				"commons_worker_tasks_running",
				"Jobs being computed, committed or revealed",
			)?,
			fee_runway_jobs: float_gauge(
				"commons_worker_fee_runway_jobs",
				"Jobs whose commit and reveal fees the free balance pays",
			)?,
			fee_runway_low: gauge(
				"commons_worker_fee_runway_low",
				"1 when the fee runway is below the warning level",
			)?,
		})
	}

	/// Binds `address` (failing at once if it is taken), registers the metrics and serves them at
	/// `http://{address}/metrics` until the process ends.
	pub fn serve(address: SocketAddr) -> anyhow::Result<Self> {
		// The endpoint binds inside its task; binding here first turns a taken port into an
		// error at start instead of a log line after the address was announced.
		drop(std::net::TcpListener::bind(address).with_context(|| {
			format!(
				"cannot serve metrics on {address}: choose another `metrics_port` \
				 (`--metrics-port`), or 0 for none"
			)
		})?);
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

#[cfg(test)]
mod tests {
	use super::*;

	/// Every metric the Grafana dashboard in docs/ queries is one the worker serves.
	#[test]
	fn the_dashboard_queries_only_metrics_the_worker_serves() {
		let registry = Registry::new();
		Metrics::register(&registry).unwrap();
		let served: Vec<String> =
			registry.gather().iter().map(|family| family.get_name().to_string()).collect();
		let dashboard = include_str!("../../docs/grafana/commons-worker.json");
		let queried: Vec<&str> = dashboard
			.match_indices("commons_worker_")
			.map(|(start, _)| {
				let rest = &dashboard[start..];
				let end = rest
					.find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
					.unwrap_or(rest.len());
				&rest[..end]
			})
			.collect();
		assert!(queried.len() > 10, "{queried:?}");
		for metric in queried {
			assert!(served.iter().any(|name| name == metric), "{metric} is not served: {served:?}");
		}
	}
}
