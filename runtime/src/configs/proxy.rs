//! `pallet_proxy`: keys by role. A worker's stash account (its stake, its registration, its
//! earnings) names an operator key as a [`ProxyType::WorkerOperation`] proxy; the operator key,
//! which sits on the inference host, can then commit, reveal, go online or offline and declare
//! capacity for the stash, and nothing else: it cannot unbond, withdraw, transfer or re-register,
//! so a compromised host cannot move the stake (docs/worker.md, "Keys by role").

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{parameter_types, traits::InstanceFilter};
use scale_info::TypeInfo;
use sp_runtime::traits::BlakeTwo256;

use crate::{
	currency::{MILLI_UNIT, UNIT},
	Balance, Balances, Runtime, RuntimeCall, RuntimeEvent, System,
};

/// What a proxy may do for the account that named it.
#[derive(
	Copy,
	Clone,
	Default,
	Eq,
	PartialEq,
	Ord,
	PartialOrd,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Debug,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum ProxyType {
	/// Anything the account may do (a cold wallet's delegate).
	#[default]
	Any,
	/// A worker's daily duties: commit and reveal results, go online or offline, declare
	/// capacity, and batches of those.
	WorkerOperation,
}

impl InstanceFilter<RuntimeCall> for ProxyType {
	fn filter(&self, call: &RuntimeCall) -> bool {
		use pallet_jobs::Call as Jobs;
		use pallet_utility::Call as Utility;
		use pallet_workers::Call as Workers;
		match self {
			ProxyType::Any => true,
			// A batch's calls are each checked against this filter again when dispatched.
			ProxyType::WorkerOperation => matches!(
				call,
				RuntimeCall::Jobs(Jobs::commit_result { .. } | Jobs::reveal_result { .. })
					| RuntimeCall::Workers(
						Workers::go_online { .. }
							| Workers::go_offline { .. }
							| Workers::set_capacity { .. }
					) | RuntimeCall::Utility(
					Utility::force_batch { .. } | Utility::batch { .. } | Utility::batch_all { .. }
				)
			),
		}
	}

	fn is_superset(&self, other: &Self) -> bool {
		self == other || *self == ProxyType::Any
	}
}

parameter_types! {
	/// Held for an account's list of proxies: a storage item of a balance and an account id.
	pub const ProxyDepositBase: Balance = UNIT;
	/// Held per proxy added: 33 bytes.
	pub const ProxyDepositFactor: Balance = 33 * MILLI_UNIT;
	/// Held for an account's announcements of delayed proxy calls.
	pub const AnnouncementDepositBase: Balance = UNIT;
	/// Held per announcement: 68 bytes.
	pub const AnnouncementDepositFactor: Balance = 68 * MILLI_UNIT;
}

impl pallet_proxy::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type ProxyType = ProxyType;
	type ProxyDepositBase = ProxyDepositBase;
	type ProxyDepositFactor = ProxyDepositFactor;
	type MaxProxies = frame_support::traits::ConstU32<8>;
	type WeightInfo = pallet_proxy::weights::SubstrateWeight<Runtime>;
	type MaxPending = frame_support::traits::ConstU32<8>;
	type CallHasher = BlakeTwo256;
	type AnnouncementDepositBase = AnnouncementDepositBase;
	type AnnouncementDepositFactor = AnnouncementDepositFactor;
	type BlockNumberProvider = System;
}
