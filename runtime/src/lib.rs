//! The Commons runtime.
//!
//! Commons is a permissionless market for AI inference: requesters pay for inference, staked
//! workers serve it, and this runtime holds the money, checks the results and pays out. This crate
//! is the chain's state transition function; the marketplace pallets plug into it.
//!
//! Layout: `configs/` holds one `impl Config` per pallet, `governance/` the tracks, origins and
//! protocol parameters, `apis.rs` the runtime APIs, and `genesis_config_presets.rs` the genesis
//! presets that chain specs are generated from.

#![cfg_attr(not(feature = "std"), no_std)]
// `#[frame_support::runtime]` expands deeply.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

// Declared before `apis` so that the benchmark macros it defines are in scope there.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod governance;
mod weights;

pub use governance::parameters::{RuntimeParameters, RuntimeParametersKey};

pub use apis::RuntimeApi;

use alloc::{borrow::Cow, vec::Vec};
use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use sp_runtime::{Perbill, Permill};

/// The runtime's version: bump `spec_version` whenever the runtime's logic changes.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: Cow::Borrowed("commons"),
	impl_name: Cow::Borrowed("commons"),
	authoring_version: 1,
	spec_version: 113,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Block numbers.
pub type BlockNumber = u32;
/// Signatures: sr25519 (wallets), ed25519 (worker keys) and ecdsa all verify.
pub type Signature = MultiSignature;
/// An account is the 32-byte public key (or its hash, for ecdsa) behind a [`Signature`].
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Amounts of CMN in its smallest unit (10^-12 CMN).
pub type Balance = u128;
/// Transaction counter of an account.
pub type Nonce = u32;
/// Block and state hashes.
pub type Hash = sp_core::H256;
/// How an extrinsic names its sender.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The checks every signed transaction goes through, in order.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// An extrinsic as it travels: call, optional signature and the extension data.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// What a signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

pub mod migrations;

/// Dispatches blocks and extrinsics to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	migrations::Unreleased,
>;

/// The native token, its decimals and the network's address format (one home, shared with the
/// clients: `commons_primitives::currency`).
pub mod currency {
	pub use commons_primitives::currency::*;
}

/// Block time and the durations derived from it.
pub mod time {
	use super::BlockNumber;

	pub use commons_primitives::MILLI_SECS_PER_BLOCK;
	/// Aura's slot duration equals the block time.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;

	// The casts are exact: 60_000 / 2_000 fits any integer type.
	/// Blocks per minute.
	pub const MINUTES: BlockNumber = (60_000 / MILLI_SECS_PER_BLOCK) as BlockNumber;
	/// Blocks per hour.
	pub const HOURS: BlockNumber = MINUTES * 60;
	/// Blocks per day.
	pub const DAYS: BlockNumber = HOURS * 24;
}

/// Types the node needs without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Block header.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Block with opaque extrinsics.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Block id.
	pub type BlockId = generic::BlockId<Block>;

	impl_opaque_keys! {
		/// The keys a validator holds: one for block authoring, one for finality votes.
		pub struct SessionKeys {
			pub aura: Aura,
			pub grandpa: Grandpa,
		}
	}
}

/// The pallets of the runtime, with fixed indices: an index is part of every encoded call and
/// storage key, so it never changes once a network is live.
#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(7)]
	pub type Utility = pallet_utility;

	#[runtime::pallet_index(8)]
	pub type Proxy = pallet_proxy;

	// The marketplace.
	#[runtime::pallet_index(10)]
	pub type Models = pallet_models;

	#[runtime::pallet_index(11)]
	pub type Workers = pallet_workers;

	#[runtime::pallet_index(12)]
	pub type Jobs = pallet_jobs;

	#[runtime::pallet_index(13)]
	pub type Rewards = pallet_rewards;

	#[runtime::pallet_index(20)]
	pub type Preimage = pallet_preimage;

	#[runtime::pallet_index(21)]
	pub type Scheduler = pallet_scheduler;

	#[runtime::pallet_index(22)]
	pub type Referenda = pallet_referenda;

	#[runtime::pallet_index(23)]
	pub type ConvictionVoting = pallet_conviction_voting;

	#[runtime::pallet_index(24)]
	pub type Origins = crate::governance::origins;

	#[runtime::pallet_index(25)]
	pub type Parameters = pallet_parameters;

	#[runtime::pallet_index(26)]
	pub type ProtocolParameters = crate::governance::parameters;

	#[runtime::pallet_index(27)]
	pub type Treasury = pallet_treasury;

	#[runtime::pallet_index(28)]
	pub type TechnicalCommittee = pallet_collective<Instance1>;

	#[runtime::pallet_index(29)]
	pub type Whitelist = pallet_whitelist;
}
