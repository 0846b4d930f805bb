//! On-chain governance: token holders set every protocol parameter by referendum.
//!
//! FRAME's referenda, conviction voting, scheduler and preimage pallets, two tracks
//! ([`tracks`]), a custom origin for the parameters track ([`origins`]), and every protocol
//! parameter as a dynamic parameter with a range ([`parameters`]). `docs/governance.md` walks
//! through a referendum.

pub mod origins;
pub mod parameters;
pub mod tracks;
