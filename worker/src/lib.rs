//! `commons-worker`: serves Commons inference jobs and earns.
//!
//! - [`key`]: the worker's ed25519-dalek key, its chain account and transaction signer.
//! - [`store`]: the local database of commitments, so that a restarted worker still reveals.
//! - [`models`]: where the engine runs.
//! - [`manage`]: the registration calls, checked against the chain before signing.
//! - [`config`]: the settings, from defaults, a TOML file, the environment and flags.
//! - [`serve`]: the daemon: follow the chain, run, commit on best blocks, reveal on final ones.
//! - [`metrics`]: Prometheus metrics.
//! - [`cli`]: the `commons-worker` command line.

pub mod cli;
pub mod config;
#[cfg(feature = "fault-injection")]
pub mod faults;
pub mod key;
pub mod manage;
pub mod metrics;
pub mod models;
pub mod serve;
pub mod store;
