//! Referenda, conviction voting, scheduler, preimages, parameters, the treasury, and the
//! technical committee whose whitelist fast-tracks emergency fixes.

use frame_support::{
	parameter_types,
	traits::{
		fungible::HoldConsideration,
		tokens::{pay::PayFromAccount, UnityAssetBalanceConversion},
		ConstU32, EitherOf, EqualPrivilegeOnly, LinearStoragePrice,
	},
	weights::Weight,
};
use frame_system::{EnsureRoot, EnsureSigned, EnsureWithSuccess};
use sp_runtime::traits::IdentityLookup;

use super::{RuntimeBlockWeights, TreasuryAccount, TreasuryPalletId};
use crate::{
	currency::{MILLI_UNIT, UNIT},
	governance::{origins, parameters, tracks},
	time::DAYS,
	AccountId, Balance, Balances, BlockNumber, OriginCaller, Preimage, Referenda, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeHoldReason, RuntimeOrigin, RuntimeParameters, Scheduler,
	System, Treasury,
};

/// The technical committee's instance of `pallet-collective`.
pub type TechnicalCollective = pallet_collective::Instance1;

parameter_types! {
	/// Four fifths of a block for enacting referenda.
	pub MaximumSchedulerWeight: Weight =
		RuntimeBlockWeights::get().max_block.saturating_mul(4).checked_div(5).unwrap_or_default();
	pub const PreimageHoldReason: RuntimeHoldReason =
		RuntimeHoldReason::Preimage(pallet_preimage::HoldReason::Preimage);
	/// Held per noted preimage, plus the per-byte part; returned when it is removed.
	pub const PreimageBaseDeposit: Balance = UNIT;
	/// Held per byte of a noted preimage.
	pub const PreimageByteDeposit: Balance = MILLI_UNIT;
	/// Held from whoever submits a referendum, returned when it ends.
	pub const SubmissionDeposit: Balance = UNIT;
	pub const UndecidingTimeout: BlockNumber = 14 * DAYS;
	pub const SpendPeriod: BlockNumber = DAYS;
	pub const PayoutPeriod: BlockNumber = 30 * DAYS;
	pub const MaxTreasurySpend: Balance = Balance::MAX;
	/// A committee motion that gathers neither enough ayes nor enough nays closes after this.
	pub const TechnicalMotionDuration: BlockNumber = 3 * DAYS;
	/// The committee's motions may carry at most half a block's weight.
	pub TechnicalMaxProposalWeight: Weight =
		RuntimeBlockWeights::get().max_block.checked_div(2).unwrap_or_default();
	/// A whitelisted-caller referendum that passed before the committee whitelisted its call
	/// leaves a deferred dispatch anyone may run once the call is whitelisted, for this long.
	pub const DeferredDispatchExpiration: BlockNumber = 14 * DAYS;
}

/// What noting a preimage holds: a base plus a price per byte.
pub type PreimagePrice = LinearStoragePrice<PreimageBaseDeposit, PreimageByteDeposit, Balance>;

impl pallet_preimage::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_preimage::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type ManagerOrigin = EnsureRoot<AccountId>;
	type Consideration = HoldConsideration<AccountId, Balances, PreimageHoldReason, PreimagePrice>;
}

impl pallet_scheduler::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeOrigin = RuntimeOrigin;
	type PalletsOrigin = OriginCaller;
	type RuntimeCall = RuntimeCall;
	type MaximumWeight = MaximumSchedulerWeight;
	type ScheduleOrigin = EnsureRoot<AccountId>;
	type MaxScheduledPerBlock = ConstU32<50>;
	type WeightInfo = pallet_scheduler::weights::SubstrateWeight<Runtime>;
	type OriginPrivilegeCmp = EqualPrivilegeOnly;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl pallet_referenda::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_referenda::weights::SubstrateWeight<Runtime>;
	type RuntimeCall = RuntimeCall;
	type Scheduler = Scheduler;
	type Currency = Balances;
	type SubmitOrigin = EnsureSigned<AccountId>;
	// The referendum-canceller track decides in hours: a junk referendum holding one of the root
	// track's deciding places is killed (its deposits slashed) without waiting for root.
	type CancelOrigin = EitherOf<EnsureRoot<AccountId>, origins::ReferendumCanceller>;
	type KillOrigin = EitherOf<EnsureRoot<AccountId>, origins::ReferendumCanceller>;
	type Slash = Treasury;
	type Votes = Balance;
	type Tally = pallet_conviction_voting::TallyOf<Runtime>;
	type SubmissionDeposit = SubmissionDeposit;
	type MaxQueued = ConstU32<100>;
	type UndecidingTimeout = UndecidingTimeout;
	type AlarmInterval = frame_support::traits::ConstU32<1>;
	type Tracks = tracks::TracksInfo;
	type Preimages = Preimage;
	type BlockNumberProvider = System;
}

impl pallet_conviction_voting::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = pallet_conviction_voting::weights::SubstrateWeight<Runtime>;
	type Currency = Balances;
	type Polls = Referenda;
	type MaxTurnout = frame_support::traits::ActiveIssuanceOf<Balances, AccountId>;
	type MaxVotes = ConstU32<64>;
	type VoteLockingPeriod = parameters::governance::VoteLockingPeriod;
	type BlockNumberProvider = System;
	type VotingHooks = ();
}

impl origins::Config for Runtime {}

impl pallet_parameters::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeParameters = RuntimeParameters;
	// Only through the guard below (which checks ranges), or root.
	type AdminOrigin = frame_support::traits::AsEnsureOriginWithArg<EnsureRoot<AccountId>>;
	// The crate exports only the reference weights of its own benchmark run.
	type WeightInfo = ();
}

impl parameters::Config for Runtime {
	type SetOrigin = parameters::ParameterSetOrigin;
	type WeightInfo = crate::weights::protocol_parameters::SubstrateWeight<Runtime>;
}

impl pallet_treasury::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type PalletId = TreasuryPalletId;
	type Currency = Balances;
	type RejectOrigin = EnsureRoot<AccountId>;
	type SpendPeriod = SpendPeriod;
	// Nothing burns: unspent funds stay for later spends.
	type Burn = ();
	type BurnDestination = ();
	type WeightInfo = pallet_treasury::weights::SubstrateWeight<Runtime>;
	type SpendFunds = ();
	type MaxApprovals = ConstU32<16>;
	// A spend is a root-track referendum.
	type SpendOrigin = EnsureWithSuccess<EnsureRoot<AccountId>, AccountId, MaxTreasurySpend>;
	type AssetKind = ();
	type Beneficiary = AccountId;
	type BeneficiaryLookup = IdentityLookup<AccountId>;
	type Paymaster = PayFromAccount<Balances, TreasuryAccount>;
	type BalanceConverter = UnityAssetBalanceConversion;
	type PayoutPeriod = PayoutPeriod;
	type BlockNumberProvider = System;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = TreasuryArguments;
}

/// The most members the technical committee has.
pub const TECHNICAL_COMMITTEE_MAX_MEMBERS: u32 = 16;

/// Two thirds of the technical committee.
pub type TwoThirdsOfTechnicalCommittee =
	pallet_collective::EnsureProportionAtLeast<AccountId, TechnicalCollective, 2, 3>;

/// The technical committee: its members, appointed by a root referendum, whitelist the hash of
/// an urgent root call (two thirds of them agreeing). That is all its origin may do; the call
/// still needs a referendum on the whitelisted-caller track, whose shorter periods are the
/// fast track. Members pay no deposit: there are at most 16, and at most 20 open motions.
impl pallet_collective::Config<TechnicalCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = TechnicalMotionDuration;
	type MaxProposals = ConstU32<20>;
	type MaxMembers = ConstU32<TECHNICAL_COMMITTEE_MAX_MEMBERS>;
	type DefaultVote = pallet_collective::MoreThanMajorityThenPrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = TechnicalMaxProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Consideration = ();
}

impl pallet_whitelist::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WhitelistOrigin = EitherOf<EnsureRoot<AccountId>, TwoThirdsOfTechnicalCommittee>;
	type DispatchWhitelistedOrigin = EitherOf<EnsureRoot<AccountId>, origins::WhitelistedCaller>;
	type Preimages = Preimage;
	type DeferredDispatchExpiration = DeferredDispatchExpiration;
	type BlockNumberProvider = System;
	type WeightInfo = pallet_whitelist::weights::SubstrateWeight<Runtime>;
}

/// The models' admin: root or a parameters-track referendum.
pub type ModelAdmin = EitherOf<EnsureRoot<AccountId>, origins::ParameterAdmin>;

#[cfg(feature = "runtime-benchmarks")]
pub struct TreasuryArguments;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_treasury::ArgumentsFactory<(), AccountId> for TreasuryArguments {
	fn create_asset_kind(_seed: u32) {}
	fn create_beneficiary(seed: [u8; 32]) -> AccountId {
		AccountId::new(seed)
	}
}
