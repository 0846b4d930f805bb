//! One `impl Config` per pallet, each in its own file.

mod aura;
mod balances;
pub mod governance;
mod grandpa;
mod jobs;
mod models;
pub mod proxy;
mod rewards;
mod sudo;
mod system;
mod timestamp;
mod transaction_payment;
mod utility;
mod workers;

pub use system::{RuntimeBlockLength, RuntimeBlockWeights};

use frame_support::{parameter_types, PalletId};
use sp_runtime::traits::AccountIdConversion;

use crate::AccountId;

parameter_types! {
	/// The treasury's pallet id: the one FRAME's treasury pallet uses, so that its account is
	/// the one protocol fees and slashes have been paid to.
	pub const TreasuryPalletId: PalletId = PalletId(*b"py/trsry");
	/// Receives protocol fees and slashed stake.
	pub TreasuryAccount: AccountId = TreasuryPalletId::get().into_account_truncating();
}
