//! One `impl Config` per pallet, each in its own file.

mod aura;
mod balances;
mod grandpa;
mod sudo;
mod system;
mod timestamp;
mod transaction_payment;

pub use system::{RuntimeBlockLength, RuntimeBlockWeights};
