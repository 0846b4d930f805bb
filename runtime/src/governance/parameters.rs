//! Every protocol parameter as a dynamic parameter of FRAME's `pallet-parameters`, with its
//! default and its range, and the guard through which governance sets them.
//!
//! The marketplace pallets read these through `Get` (see `configs/`). A referendum changes one
//! by dispatching `ProtocolParameters::set_parameter`, which checks the value against its range
//! (and the related values it must stay consistent with) before writing it into
//! `pallet-parameters`; a value outside its range fails with `OutOfRange` and changes nothing.
//! `docs/governance.md` lists every parameter with its default, range and track.

use alloc::vec::Vec;

use codec::{Decode, Encode};
use frame_support::dynamic_params::{dynamic_pallet_params, dynamic_params};
use scale_info::TypeInfo;
use sp_runtime::Perbill;

use crate::{
	currency::{MICRO_UNIT, MILLI_UNIT, UNIT},
	time::{DAYS, HOURS, MINUTES},
	Balance, BlockNumber, Runtime,
};

#[dynamic_params(RuntimeParameters, pallet_parameters::Parameters::<Runtime>)]
pub mod dynamic_params {
	use super::*;

	/// The marketplace: set by the parameters track (or root).
	#[dynamic_pallet_params]
	#[codec(index = 0)]
	pub mod market {
		/// The least bonded stake that makes a worker eligible.
		#[codec(index = 0)]
		pub static MinWorkerStake: Balance = 100 * UNIT;
		/// Blocks between `unbond` and `withdraw_unbonded`; stake stays slashable meanwhile.
		#[codec(index = 1)]
		pub static UnbondingPeriod: BlockNumber = HOURS;
		/// The longest commit window: a worker whose declared throughput needs longer for a
		/// job's tokens is not drawn for it.
		#[codec(index = 2)]
		pub static MaxCommitWindow: BlockNumber = 10 * MINUTES;
		/// Blocks to reveal after the commit window.
		#[codec(index = 3)]
		pub static RevealWindow: BlockNumber = 15;
		/// Blocks a settled job's outputs stay readable.
		#[codec(index = 4)]
		pub static RetentionPeriod: BlockNumber = HOURS;
		/// Blocks a job waits for workers before it expires.
		#[codec(index = 5)]
		pub static MaxAssignmentDelay: BlockNumber = 10 * MINUTES;
		/// Share of stake slashed for a result that disagrees with the accepted one.
		#[codec(index = 6)]
		pub static WrongResultSlash: Perbill = Perbill::from_percent(10);
		/// Share of stake slashed for a seat that never revealed.
		#[codec(index = 7)]
		pub static NoShowSlash: Perbill = Perbill::from_percent(5);
		/// Fewest replicas a job may ask for.
		#[codec(index = 8)]
		pub static MinReplicas: u32 = 1;
		/// Most replicas a job may ask for.
		#[codec(index = 9)]
		pub static MaxReplicas: u32 = 5;
		/// Storage deposit of a job, plus the per-byte part.
		#[codec(index = 10)]
		pub static JobDepositBase: Balance = 10 * MILLI_UNIT;
		/// Storage deposit per byte of prompt and output.
		#[codec(index = 11)]
		pub static JobDepositPerByte: Balance = 10 * MICRO_UNIT;
		/// Held from whoever registers a model.
		#[codec(index = 12)]
		pub static ModelDeposit: Balance = 10 * UNIT;
		/// Paid by the requester on top of each worker's payment, to the treasury.
		#[codec(index = 13)]
		pub static ProtocolFee: Perbill = Perbill::from_percent(5);
		/// Blocks per emission era.
		#[codec(index = 14)]
		pub static EraLength: BlockNumber = HOURS;
		/// Minted per era for the workers who were paid in it.
		#[codec(index = 15)]
		pub static EmissionPerEra: Balance = 1_000 * UNIT;
		/// A worker's emission is at most this share of the protocol fees its work paid.
		#[codec(index = 16)]
		pub static RebateCap: Perbill = Perbill::from_percent(50);
		/// Blocks a commit window adds to the seats' computing time: the finality lag before
		/// a worker learns of its seat and the inclusion of its commitment.
		#[codec(index = 17)]
		pub static CommitMargin: BlockNumber = 10;
		/// The lowest audit rate an audited job may ask for, in parts per million.
		#[codec(index = 18)]
		pub static MinAuditRate: u32 = 10_000;
	}

	/// Governance itself: set by root (the root track) only.
	#[dynamic_pallet_params]
	#[codec(index = 1)]
	pub mod governance {
		/// Parameters track: blocks before a referendum can start deciding.
		#[codec(index = 0)]
		pub static ParametersPreparePeriod: BlockNumber = HOURS;
		/// Parameters track: blocks a referendum may spend deciding.
		#[codec(index = 1)]
		pub static ParametersDecisionPeriod: BlockNumber = 5 * DAYS;
		/// Parameters track: blocks the approval must hold.
		#[codec(index = 2)]
		pub static ParametersConfirmPeriod: BlockNumber = DAYS;
		/// Parameters track: blocks between approval and enactment.
		#[codec(index = 3)]
		pub static ParametersMinEnactmentPeriod: BlockNumber = DAYS;
		/// Parameters track: deposit for a referendum to start deciding.
		#[codec(index = 4)]
		pub static ParametersDecisionDeposit: Balance = 1_000 * UNIT;
		/// Root track: blocks before a referendum can start deciding.
		#[codec(index = 5)]
		pub static RootPreparePeriod: BlockNumber = DAYS;
		/// Root track: blocks a referendum may spend deciding.
		#[codec(index = 6)]
		pub static RootDecisionPeriod: BlockNumber = 14 * DAYS;
		/// Root track: blocks the approval must hold.
		#[codec(index = 7)]
		pub static RootConfirmPeriod: BlockNumber = 3 * DAYS;
		/// Root track: blocks between approval and enactment.
		#[codec(index = 8)]
		pub static RootMinEnactmentPeriod: BlockNumber = DAYS;
		/// Root track: deposit for a referendum to start deciding. Within reach of a
		/// holder of a small share of a young network's supply (5 % of the testnet's 40,000
		/// CMN); the track's four deciding places, not the price, keep one proposer from
		/// holding runtime upgrades up.
		#[codec(index = 9)]
		pub static RootDecisionDeposit: Balance = 2_000 * UNIT;
		/// Blocks a vote's balance stays locked per conviction doubling.
		#[codec(index = 10)]
		pub static VoteLockingPeriod: BlockNumber = 7 * DAYS;
		/// Fast tracks (whitelisted caller, referendum canceller): blocks before a referendum
		/// can start deciding.
		#[codec(index = 11)]
		pub static FastTrackPreparePeriod: BlockNumber = 30 * MINUTES;
		/// Fast tracks: blocks a referendum may spend deciding.
		#[codec(index = 12)]
		pub static FastTrackDecisionPeriod: BlockNumber = 7 * DAYS;
		/// Fast tracks: blocks the approval must hold.
		#[codec(index = 13)]
		pub static FastTrackConfirmPeriod: BlockNumber = HOURS;
		/// Fast tracks: deposit for a referendum to start deciding.
		#[codec(index = 14)]
		pub static FastTrackDecisionDeposit: Balance = 1_000 * UNIT;
	}
}

pub use dynamic_params::{governance, market};

#[cfg(feature = "runtime-benchmarks")]
impl Default for RuntimeParameters {
	fn default() -> Self {
		RuntimeParameters::Market(market::Parameters::RevealWindow(market::RevealWindow, Some(30)))
	}
}

/// The governance periods of the development and local presets: a parameters referendum can
/// pass within a minute of 2-second blocks.
pub fn fast_governance() -> [RuntimeParameters; 15] {
	use governance::*;
	[
		RuntimeParameters::Governance(Parameters::ParametersPreparePeriod(
			ParametersPreparePeriod,
			Some(2),
		)),
		RuntimeParameters::Governance(Parameters::ParametersDecisionPeriod(
			ParametersDecisionPeriod,
			Some(30),
		)),
		RuntimeParameters::Governance(Parameters::ParametersConfirmPeriod(
			ParametersConfirmPeriod,
			Some(3),
		)),
		RuntimeParameters::Governance(Parameters::ParametersMinEnactmentPeriod(
			ParametersMinEnactmentPeriod,
			Some(1),
		)),
		RuntimeParameters::Governance(Parameters::ParametersDecisionDeposit(
			ParametersDecisionDeposit,
			Some(10 * UNIT),
		)),
		RuntimeParameters::Governance(Parameters::RootPreparePeriod(RootPreparePeriod, Some(2))),
		RuntimeParameters::Governance(Parameters::RootDecisionPeriod(RootDecisionPeriod, Some(40))),
		RuntimeParameters::Governance(Parameters::RootConfirmPeriod(RootConfirmPeriod, Some(3))),
		RuntimeParameters::Governance(Parameters::RootMinEnactmentPeriod(
			RootMinEnactmentPeriod,
			Some(1),
		)),
		RuntimeParameters::Governance(Parameters::RootDecisionDeposit(
			RootDecisionDeposit,
			Some(100 * UNIT),
		)),
		RuntimeParameters::Governance(Parameters::VoteLockingPeriod(VoteLockingPeriod, Some(10))),
		RuntimeParameters::Governance(Parameters::FastTrackPreparePeriod(
			FastTrackPreparePeriod,
			Some(2),
		)),
		RuntimeParameters::Governance(Parameters::FastTrackDecisionPeriod(
			FastTrackDecisionPeriod,
			Some(30),
		)),
		RuntimeParameters::Governance(Parameters::FastTrackConfirmPeriod(
			FastTrackConfirmPeriod,
			Some(2),
		)),
		RuntimeParameters::Governance(Parameters::FastTrackDecisionDeposit(
			FastTrackDecisionDeposit,
			Some(10 * UNIT),
		)),
	]
}

/// Why a value is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Refusal {
	/// Outside the parameter's own range.
	OutOfRange,
	/// Would make `MinReplicas` exceed `MaxReplicas`.
	ReplicasInverted,
	/// Would leave the longest commit window less than `MIN_COMPUTE_BLOCKS` beyond the
	/// commit margin: no worker could be drawn for the largest jobs.
	WindowsTooShort,
	/// Would make `NoShowSlash` exceed `WrongResultSlash`: revealing garbage would be cheaper
	/// than not revealing.
	SlashesInverted,
	/// Would let jobs live and be retained longer than the job store holds them at the full
	/// assignment rate (`store_holds_the_assignment_rate`).
	RetentionExceedsStore,
	/// Would make a decision deposit more than [`MAX_DEPOSIT_SHARE`] of the total issuance:
	/// too few holders could ever start a referendum on that track (a network that cannot
	/// upgrade its runtime).
	DepositAboveSupply,
}

/// The largest share of the total issuance a track's decision deposit may be.
pub const MAX_DEPOSIT_SHARE: Perbill = Perbill::from_percent(10);

/// The most seats a job has: the storage bound that caps `MaxReplicas` and escalation.
pub const MAX_SEATS: u32 = 7;

/// The least the longest commit window leaves for computing beyond the commit margin: a
/// minute of blocks, in which a worker at 150 tokens a block computes the largest job.
pub const MIN_COMPUTE_BLOCKS: BlockNumber = MINUTES;

/// The least commit margin and reveal window: GRANDPA's finality lag (2–3 blocks), which
/// workers act behind, and the inclusion of their transaction.
pub const MIN_FINALITY_MARGIN: BlockNumber = 6;

/// The most job records stored at once (`pallet_jobs::Config::MaxJobs`).
pub const MAX_JOBS: u32 = 1 << 20;

/// The most pending jobs a block tries to assign (`pallet_jobs::Config::MaxAssignmentsPerBlock`):
/// with settlement and removal at the same rate, the market's sustainable jobs per block.
pub const MAX_ASSIGNMENTS_PER_BLOCK: u32 = 128;

/// How a parameter's value reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Unit {
	/// An amount, in the smallest unit (12 decimals to the CMN).
	Balance,
	/// A number of blocks.
	Blocks,
	/// A share, in parts per billion (`Perbill`).
	Share,
	/// A plain count.
	Count,
}

/// Who may set a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
	/// The marketplace's knobs: the parameters track, or root.
	Market,
	/// Governance's own periods and deposits: root alone.
	Governance,
}

/// A parameter's name, group, unit and range (inclusive), the one place ranges are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParameterInfo {
	/// Its name, as in `docs/governance.md` and `commons gov params`.
	pub name: &'static str,
	/// Who may set it.
	pub group: Group,
	/// How its value reads.
	pub unit: Unit,
	/// The least value it may take.
	pub low: u128,
	/// The most value it may take.
	pub high: u128,
}

/// A parameter value as the plain number [`ParameterInfo`]'s range is written in.
trait Numeric: Sized {
	fn to_number(&self) -> u128;
	fn from_number(number: u128) -> Option<Self>;
}

impl Numeric for u32 {
	fn to_number(&self) -> u128 {
		u128::from(*self)
	}
	fn from_number(number: u128) -> Option<Self> {
		u32::try_from(number).ok()
	}
}

impl Numeric for u128 {
	fn to_number(&self) -> u128 {
		*self
	}
	fn from_number(number: u128) -> Option<Self> {
		Some(number)
	}
}

impl Numeric for Perbill {
	fn to_number(&self) -> u128 {
		u128::from(self.deconstruct())
	}
	fn from_number(number: u128) -> Option<Self> {
		let parts = u32::try_from(number).ok()?;
		(parts <= 1_000_000_000).then(|| Perbill::from_parts(parts))
	}
}

const fn blocks(count: BlockNumber) -> u128 {
	count as u128
}

const fn percent(share: u128) -> u128 {
	share.saturating_mul(10_000_000)
}

/// Generates the catalogue of parameters and the conversions between a parameter's setting and
/// its name and number, from one table: a parameter missing from it fails to compile.
macro_rules! catalogue {
	($($group:ident $module:ident $name:ident: $unit:ident $low:expr, $high:expr;)*) => {
		/// Every protocol parameter, in the order of `docs/governance.md`.
		pub const PARAMETERS: &[ParameterInfo] = &[$(ParameterInfo {
			name: stringify!($name),
			group: Group::$group,
			unit: Unit::$unit,
			low: $low,
			high: $high,
		},)*];

		/// A setting's parameter name and new value as a number (`None`: back to the default).
		pub fn parts(setting: &RuntimeParameters) -> (&'static str, Option<u128>) {
			match setting {
				$(RuntimeParameters::$group($module::Parameters::$name(_, value)) => {
					(stringify!($name), value.as_ref().map(Numeric::to_number))
				},)*
			}
		}

		/// The setting of parameter `name` to `value` (`None`: back to the default), if a
		/// parameter has that name and the number fits its type. The range is not checked here.
		pub fn compose(name: &str, value: Option<u128>) -> Option<RuntimeParameters> {
			match name {
				$(stringify!($name) => {
					let value = match value {
						Some(number) => Some(Numeric::from_number(number)?),
						None => None,
					};
					Some(RuntimeParameters::$group($module::Parameters::$name($module::$name, value)))
				},)*
				_ => None,
			}
		}

		/// The value parameter `name` has now, read through the runtime (its default where none
		/// is stored).
		pub fn current(name: &str) -> Option<u128> {
			use frame_support::traits::Get;
			match name {
				$(stringify!($name) => Some(<$module::$name as Get<_>>::get().to_number()),)*
				_ => None,
			}
		}

		/// A stored value as a number.
		pub fn number(value: &RuntimeParametersValue) -> u128 {
			match value {
				$(RuntimeParametersValue::$group($module::ParametersValue::$name(value)) => {
					value.to_number()
				},)*
			}
		}
	};
}

catalogue! {
	Market market MinWorkerStake: Balance UNIT, 1_000_000 * UNIT;
	Market market UnbondingPeriod: Blocks blocks(10 * MINUTES), blocks(90 * DAYS);
	Market market MaxCommitWindow: Blocks blocks(MIN_FINALITY_MARGIN + MIN_COMPUTE_BLOCKS), blocks(30 * MINUTES);
	Market market RevealWindow: Blocks blocks(MIN_FINALITY_MARGIN), blocks(30 * MINUTES);
	Market market RetentionPeriod: Blocks 100, blocks(4 * HOURS);
	Market market MaxAssignmentDelay: Blocks 2, blocks(30 * MINUTES);
	Market market WrongResultSlash: Share percent(1), percent(50);
	Market market NoShowSlash: Share 0, percent(20);
	Market market MinReplicas: Count 1, blocks(MAX_SEATS);
	Market market MaxReplicas: Count 1, blocks(MAX_SEATS);
	Market market JobDepositBase: Balance MILLI_UNIT, 100 * UNIT;
	Market market JobDepositPerByte: Balance MICRO_UNIT, 10 * MILLI_UNIT;
	Market market ModelDeposit: Balance UNIT, 100_000 * UNIT;
	Market market ProtocolFee: Share 0, percent(50);
	Market market EraLength: Blocks 10, blocks(30 * DAYS);
	Market market EmissionPerEra: Balance 0, 100_000 * UNIT;
	Market market RebateCap: Share 0, percent(100);
	Market market CommitMargin: Blocks blocks(MIN_FINALITY_MARGIN), blocks(5 * MINUTES);
	Market market MinAuditRate: Count 1, 1_000_000;
	Governance governance ParametersPreparePeriod: Blocks 1, blocks(30 * DAYS);
	Governance governance ParametersDecisionPeriod: Blocks 10, blocks(90 * DAYS);
	Governance governance ParametersConfirmPeriod: Blocks 1, blocks(30 * DAYS);
	Governance governance ParametersMinEnactmentPeriod: Blocks 1, blocks(30 * DAYS);
	Governance governance ParametersDecisionDeposit: Balance UNIT, 1_000_000 * UNIT;
	Governance governance RootPreparePeriod: Blocks 1, blocks(30 * DAYS);
	Governance governance RootDecisionPeriod: Blocks 10, blocks(90 * DAYS);
	Governance governance RootConfirmPeriod: Blocks 1, blocks(30 * DAYS);
	Governance governance RootMinEnactmentPeriod: Blocks 1, blocks(30 * DAYS);
	Governance governance RootDecisionDeposit: Balance UNIT, 1_000_000 * UNIT;
	Governance governance VoteLockingPeriod: Blocks 1, blocks(365 * DAYS);
	Governance governance FastTrackPreparePeriod: Blocks 1, blocks(DAYS);
	Governance governance FastTrackDecisionPeriod: Blocks 10, blocks(30 * DAYS);
	Governance governance FastTrackConfirmPeriod: Blocks 1, blocks(DAYS);
	Governance governance FastTrackDecisionDeposit: Balance UNIT, 1_000_000 * UNIT;
}

/// The catalogue entry of parameter `name`.
pub fn info(name: &str) -> Option<&'static ParameterInfo> {
	PARAMETERS.iter().find(|info| info.name == name)
}

/// The marketplace values the cross-parameter rules read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketValues {
	pub min_replicas: u32,
	pub max_replicas: u32,
	pub commit_margin: BlockNumber,
	pub max_commit_window: BlockNumber,
	pub reveal_window: BlockNumber,
	pub max_assignment_delay: BlockNumber,
	pub retention_period: BlockNumber,
	pub wrong_result_slash: Perbill,
	pub no_show_slash: Perbill,
}

impl MarketValues {
	/// The values in force now.
	pub fn current() -> Self {
		use frame_support::traits::Get;
		Self {
			min_replicas: market::MinReplicas::get(),
			max_replicas: market::MaxReplicas::get(),
			commit_margin: market::CommitMargin::get(),
			max_commit_window: market::MaxCommitWindow::get(),
			reveal_window: market::RevealWindow::get(),
			max_assignment_delay: market::MaxAssignmentDelay::get(),
			retention_period: market::RetentionPeriod::get(),
			wrong_result_slash: market::WrongResultSlash::get(),
			no_show_slash: market::NoShowSlash::get(),
		}
	}

	/// The values `setting` would leave in force: it is applied in a storage layer that is
	/// rolled back, so that a removal reads the default it restores.
	pub fn after(setting: &RuntimeParameters) -> Self {
		use frame_support::storage::{
			transactional::with_transaction_opaque_err, TransactionOutcome,
		};
		let (key, value) =
			frame_support::traits::dynamic_params::AggregatedKeyValue::into_parts(setting.clone());
		let after = with_transaction_opaque_err(|| {
			pallet_parameters::Parameters::<Runtime>::set(key, value);
			TransactionOutcome::Rollback(Ok::<_, ()>(Self::current()))
		});
		match after {
			Ok(Ok(values)) => values,
			// A layer cannot be opened only past the storage layer limit, which a single
			// call never reaches: read the values in force.
			_ => Self::current(),
		}
	}

	/// The longest a job can live: every round (at most one per seat) waiting up to the
	/// assignment delay, then committing and revealing in the longest windows.
	pub fn longest_job_life(&self) -> u64 {
		let round = u64::from(self.max_assignment_delay)
			.saturating_add(u64::from(self.max_commit_window))
			.saturating_add(u64::from(self.reveal_window));
		round.saturating_mul(u64::from(MAX_SEATS))
	}

	/// Whether the job store holds every job posted at the full assignment rate for its whole
	/// life and retention: the sustainable jobs per block are then limited by the per-block
	/// hooks, never by the store.
	pub fn store_holds_the_assignment_rate(&self) -> bool {
		let life = self.longest_job_life().saturating_add(u64::from(self.retention_period));
		life.saturating_mul(u64::from(MAX_ASSIGNMENTS_PER_BLOCK)) <= u64::from(MAX_JOBS)
	}

	/// The cross-parameter rules, each with its own refusal.
	pub fn check(&self) -> Result<(), Refusal> {
		if self.min_replicas > self.max_replicas {
			return Err(Refusal::ReplicasInverted);
		}
		if self.max_commit_window < self.commit_margin.saturating_add(MIN_COMPUTE_BLOCKS) {
			return Err(Refusal::WindowsTooShort);
		}
		if self.no_show_slash > self.wrong_result_slash {
			return Err(Refusal::SlashesInverted);
		}
		if !self.store_holds_the_assignment_rate() {
			return Err(Refusal::RetentionExceedsStore);
		}
		Ok(())
	}
}

/// Checks a new value against its range and, for the marketplace, the rules that tie it to
/// the other values ([`MarketValues::check`]).
pub fn check(setting: &RuntimeParameters) -> Result<(), Refusal> {
	let (name, value) = parts(setting);
	let range = info(name).ok_or(Refusal::OutOfRange)?;
	// Removing a value restores its default, which is always in range.
	if value.is_some_and(|value| value < range.low || value > range.high) {
		return Err(Refusal::OutOfRange);
	}
	match setting {
		RuntimeParameters::Market(_) => MarketValues::after(setting).check(),
		RuntimeParameters::Governance(
			governance::Parameters::RootDecisionDeposit(_, Some(deposit))
			| governance::Parameters::ParametersDecisionDeposit(_, Some(deposit))
			| governance::Parameters::FastTrackDecisionDeposit(_, Some(deposit)),
		) => {
			let issuance = pallet_balances::TotalIssuance::<Runtime>::get();
			if *deposit > MAX_DEPOSIT_SHARE.mul_floor(issuance) {
				return Err(Refusal::DepositAboveSupply);
			}
			Ok(())
		},
		RuntimeParameters::Governance(_) => Ok(()),
	}
}

/// A parameter as [`Pallet::parameters`] lists it for clients: they read names, units and ranges
/// from the chain they talk to, so a runtime upgrade that adds or moves a parameter needs no new
/// client.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ParameterState {
	/// Its name, as in `docs/governance.md`.
	pub name: Vec<u8>,
	/// The referendum track that decides it.
	pub track: u16,
	/// How its value reads.
	pub unit: Unit,
	/// The least value it may take.
	pub low: u128,
	/// The most value it may take.
	pub high: u128,
	/// The value it has while governance has set none.
	pub default: u128,
	/// The value in force.
	pub current: u128,
}

/// Everything a proposer signs to change a parameter, built by [`Pallet::proposal`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct ParameterProposal {
	/// The call a referendum enacts (`ProtocolParameters::set_parameter`), SCALE-encoded: the
	/// preimage to note.
	pub call: Vec<u8>,
	/// The origin the referendum enacts it with.
	pub origin: crate::OriginCaller,
	/// The track that origin puts the referendum on.
	pub track: u16,
	/// Held for noting the preimage (nothing when it is noted already).
	pub preimage_deposit: crate::Balance,
	/// Held for submitting the referendum.
	pub submission_deposit: crate::Balance,
	/// Held for the referendum to start deciding.
	pub decision_deposit: crate::Balance,
}

/// Why [`Pallet::proposal`] builds no proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum ProposalRefusal {
	/// No parameter has that name.
	UnknownParameter,
	/// The value does not fit the parameter's type.
	DoesNotFit,
	/// The value breaks a rule: `set_parameter` would refuse it now.
	Refused(Refusal),
}

/// A parameter's track: the parameters track for the marketplace, root for governance's own.
fn track_of(group: Group) -> u16 {
	match group {
		Group::Market => super::tracks::PARAMETERS,
		Group::Governance => super::tracks::ROOT,
	}
}

/// The value `name` has while none is stored: read in a storage layer that is rolled back.
fn default_of(name: &str) -> Option<u128> {
	use frame_support::storage::{transactional::with_transaction_opaque_err, TransactionOutcome};
	let (key, _) =
		frame_support::traits::dynamic_params::AggregatedKeyValue::into_parts(compose(name, None)?);
	with_transaction_opaque_err(|| {
		pallet_parameters::Parameters::<Runtime>::remove(key);
		TransactionOutcome::Rollback(Ok::<_, ()>(current(name)))
	})
	.ok()
	.and_then(|read| read.ok())
	.flatten()
}

/// Every parameter with its track, unit, range, default and value in force.
pub fn states() -> Vec<ParameterState> {
	PARAMETERS
		.iter()
		.map(|info| ParameterState {
			name: info.name.as_bytes().to_vec(),
			track: track_of(info.group),
			unit: info.unit,
			low: info.low,
			high: info.high,
			default: default_of(info.name).unwrap_or_default(),
			current: current(info.name).unwrap_or_default(),
		})
		.collect()
}

/// The proposal that sets `name` to `value` (`None`: back to its default), checked as
/// `set_parameter` would check it now.
pub fn proposal(name: &[u8], value: Option<u128>) -> Result<ParameterProposal, ProposalRefusal> {
	use frame_support::traits::{Footprint, Get};
	use sp_runtime::traits::Hash;
	let info = PARAMETERS
		.iter()
		.find(|info| info.name.as_bytes() == name)
		.ok_or(ProposalRefusal::UnknownParameter)?;
	let setting = compose(info.name, value).ok_or(ProposalRefusal::DoesNotFit)?;
	check(&setting).map_err(ProposalRefusal::Refused)?;
	let call =
		crate::RuntimeCall::ProtocolParameters(Call::set_parameter { key_value: setting }).encode();
	let (origin, decision_deposit) = match info.group {
		Group::Market => (
			crate::OriginCaller::Origins(super::origins::Origin::ParameterAdmin),
			governance::ParametersDecisionDeposit::get(),
		),
		Group::Governance => (
			crate::OriginCaller::system(frame_system::RawOrigin::Root),
			governance::RootDecisionDeposit::get(),
		),
	};
	// The price pallet-preimage's consideration holds for one item of the call's length, unless
	// somebody noted the same call already.
	let hash = <Runtime as frame_system::Config>::Hashing::hash(&call);
	let preimage_deposit = if pallet_preimage::RequestStatusFor::<Runtime>::contains_key(hash) {
		0
	} else {
		<crate::configs::governance::PreimagePrice as sp_runtime::traits::Convert<_, _>>::convert(
			Footprint::from_parts(1, call.len()),
		)
	};
	Ok(ParameterProposal {
		call,
		origin,
		track: track_of(info.group),
		preimage_deposit,
		submission_deposit: crate::configs::governance::SubmissionDeposit::get(),
		decision_deposit,
	})
}

/// The parameter change an encoded call makes, by name and new value (`None`: back to the
/// default), if it is one.
pub fn change(call: &[u8]) -> Option<(Vec<u8>, Option<u128>)> {
	use codec::DecodeLimit;
	let call = crate::RuntimeCall::decode_with_depth_limit(
		frame_support::MAX_EXTRINSIC_DEPTH,
		&mut &call[..],
	)
	.ok()?;
	match call {
		crate::RuntimeCall::ProtocolParameters(Call::set_parameter { key_value }) => {
			let (name, value) = parts(&key_value);
			Some((name.as_bytes().to_vec(), value))
		},
		_ => None,
	}
}

/// Who may set a parameter: the parameters track (or root) for the marketplace, root alone for
/// governance's own periods and deposits.
pub struct ParameterSetOrigin;

impl frame_support::traits::EnsureOriginWithArg<crate::RuntimeOrigin, RuntimeParametersKey>
	for ParameterSetOrigin
{
	type Success = ();

	fn try_origin(
		origin: crate::RuntimeOrigin,
		key: &RuntimeParametersKey,
	) -> Result<Self::Success, crate::RuntimeOrigin> {
		use frame_support::traits::EnsureOrigin;
		match key {
			RuntimeParametersKey::Market(_) => <frame_support::traits::EitherOf<
				frame_system::EnsureRoot<crate::AccountId>,
				super::origins::ParameterAdmin,
			> as EnsureOrigin<_>>::try_origin(origin),
			RuntimeParametersKey::Governance(_) => {
				<frame_system::EnsureRoot<crate::AccountId> as EnsureOrigin<_>>::try_origin(origin)
			},
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin(_key: &RuntimeParametersKey) -> Result<crate::RuntimeOrigin, ()> {
		Ok(crate::RuntimeOrigin::root())
	}
}

pub use pallet_protocol_parameters::*;

/// The guard: the one call through which governance sets a parameter.
#[frame_support::pallet]
#[allow(clippy::expect_used)] // Inside the pallet macro's expansion.
pub mod pallet_protocol_parameters {
	use frame_support::{pallet_prelude::*, traits::EnsureOriginWithArg};
	use frame_system::pallet_prelude::*;

	use alloc::vec::Vec;

	use super::{
		check, fast_governance, ParameterProposal, ParameterState, ProposalRefusal, Refusal,
		RuntimeParameters, RuntimeParametersKey,
	};
	pub use crate::weights::protocol_parameters::WeightInfo;

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Who may set which parameter.
		type SetOrigin: EnsureOriginWithArg<Self::RuntimeOrigin, RuntimeParametersKey>;
		/// Weight of [`Pallet::set_parameter`] (generated by `scripts/benchmark.sh`).
		type WeightInfo: WeightInfo;
	}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::error]
	pub enum Error<T> {
		/// The value is outside the parameter's range (`docs/governance.md`); nothing changed.
		OutOfRange,
		/// The value would make the fewest replicas exceed the most; nothing changed.
		ReplicasInverted,
		/// The value would leave the longest commit window less than a minute of computing
		/// beyond the commit margin; nothing changed.
		WindowsTooShort,
		/// The value would make the no-show slash exceed the wrong-result slash; nothing
		/// changed.
		SlashesInverted,
		/// The value would let jobs live and be retained longer than the job store holds them
		/// at the full assignment rate; nothing changed.
		RetentionExceedsStore,
		/// The value would make a decision deposit more than a tenth of the total issuance;
		/// nothing changed.
		DepositAboveSupply,
	}

	impl<T> From<Refusal> for Error<T> {
		fn from(refusal: Refusal) -> Self {
			match refusal {
				Refusal::OutOfRange => Error::OutOfRange,
				Refusal::ReplicasInverted => Error::ReplicasInverted,
				Refusal::WindowsTooShort => Error::WindowsTooShort,
				Refusal::SlashesInverted => Error::SlashesInverted,
				Refusal::RetentionExceedsStore => Error::RetentionExceedsStore,
				Refusal::DepositAboveSupply => Error::DepositAboveSupply,
			}
		}
	}

	/// How long governance takes at genesis.
	#[derive(
		Clone,
		Copy,
		Debug,
		Default,
		PartialEq,
		Eq,
		frame_support::Serialize,
		frame_support::Deserialize,
	)]
	#[serde(crate = "frame_support::__private::serde")]
	pub enum GovernanceTiming {
		/// The defaults: days (the testnet preset).
		#[default]
		Production,
		/// Minutes of blocks (the development and local presets); see `fast_governance`.
		Fast,
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The governance periods the chain starts with.
		pub timing: GovernanceTiming,
		#[serde(skip)]
		pub _config: PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if self.timing == GovernanceTiming::Fast {
				for value in fast_governance() {
					let (key, value) =
						frame_support::traits::dynamic_params::AggregatedKeyValue::into_parts(
							value,
						);
					pallet_parameters::Parameters::<crate::Runtime>::set(key, value);
				}
			}
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// Every protocol parameter: name, track, unit, range, default and value in force.
		pub fn parameters() -> Vec<ParameterState> {
			super::states()
		}

		/// The preimage, origin, track and deposits of a referendum that sets parameter `name`
		/// to `value` (`None`: back to its default), or why `set_parameter` would refuse it now.
		pub fn proposal(
			name: Vec<u8>,
			value: Option<u128>,
		) -> Result<ParameterProposal, ProposalRefusal> {
			super::proposal(&name, value)
		}

		/// The parameter change an encoded call makes (a referendum's preimage), by name and
		/// value (`None`: back to the default); `None` for any other call.
		pub fn change(call: Vec<u8>) -> Option<(Vec<u8>, Option<u128>)> {
			super::change(&call)
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Sets a protocol parameter (or, with no value, restores its default) after checking
		/// it against its range; the change shows as `Parameters::Updated`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_parameter())]
		pub fn set_parameter(origin: OriginFor<T>, key_value: RuntimeParameters) -> DispatchResult {
			let key = frame_support::traits::dynamic_params::AggregatedKeyValue::into_parts(
				key_value.clone(),
			)
			.0;
			T::SetOrigin::ensure_origin(origin, &key)?;
			check(&key_value).map_err(Error::<T>::from)?;
			pallet_parameters::Pallet::<crate::Runtime>::set_parameter(
				crate::RuntimeOrigin::root(),
				key_value,
			)
		}
	}
}

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking {
	use frame_benchmarking::v2::*;
	use frame_support::traits::Get;
	use frame_system::RawOrigin;

	use super::{
		market,
		pallet_protocol_parameters::{Call, Config, Pallet},
		RuntimeParameters,
	};

	#[benchmarks]
	mod benchmarks {
		use super::*;

		/// The worst case: a marketplace parameter, which is checked with every rule that ties
		/// it to the others (each marketplace value the rules read is a read).
		#[benchmark]
		fn set_parameter() {
			let setting = RuntimeParameters::Market(market::Parameters::MinReplicas(
				market::MinReplicas,
				Some(2),
			));
			#[extrinsic_call]
			_(RawOrigin::Root, setting);
			assert_eq!(market::MinReplicas::get(), 2);
		}
	}
}
