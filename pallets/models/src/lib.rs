//! # Model registry
//!
//! Binds a model id to everything that makes an inference output reproducible: the sha256 and
//! size of the weights file, the architecture, the quantisation, the tokenizer's hash and the
//! engine version whose kernels workers must run. Anyone may register a model by holding a
//! deposit; the [`Config::AdminOrigin`] (governance) deprecates or bans it; its owner deregisters
//! it, getting the deposit back, once no job posted for it can still be live.
//!
//! Jobs reserve their model up to the last block they can be live in. The reservation grows in
//! steps of [`Config::ReservationStep`] blocks, so that a busy model's record is written once a
//! step rather than at every post and settlement.
//!
//! The jobs pallet reads it through [`commons_primitives::ModelRegistry`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use weights::WeightInfo;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use commons_primitives::{ModelId, ModelRegistry, ModelStatus, ModelTerms};
use core::fmt::Debug;
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, MutateHold},
		tokens::Precision,
	},
};
use frame_support::{CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use scale_info::TypeInfo;
use sp_runtime::{traits::Zero, SaturatedConversion};

/// The balance type of the currency that deposits are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A short text field (name, architecture, quantisation), UTF-8 by convention.
pub type ShortText<T> = BoundedVec<u8, <T as Config>::MaxTextLen>;

/// What a registrant declares about a model.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxTextLen))]
// The `NoBound` derives need the bounds on the parameters themselves.
#[allow(clippy::multiple_bound_locations)]
pub struct ModelSpec<Balance: Clone + PartialEq + Eq + Debug, MaxTextLen: Get<u32>> {
	/// Human-readable name, for example `SmolLM2-135M-Instruct`.
	pub name: BoundedVec<u8, MaxTextLen>,
	/// Network architecture as GGUF names it, for example `llama`.
	pub architecture: BoundedVec<u8, MaxTextLen>,
	/// Quantisation of the linear layers, for example `Q4_1`.
	pub quantisation: BoundedVec<u8, MaxTextLen>,
	/// sha256 of the weights file.
	pub weights_sha256: [u8; 32],
	/// Size of the weights file in bytes.
	pub weights_size: u64,
	/// Hash of the tokenizer (vocabulary, merges and template) the output is decoded with.
	pub tokenizer_hash: [u8; 32],
	/// Engine version whose kernels produce this model's outputs.
	pub engine_version: u32,
	/// Lowest price per replica a job for this model may offer.
	pub min_price: Balance,
}

/// A registered model.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxTextLen))]
#[allow(clippy::multiple_bound_locations)]
pub struct ModelInfo<
	AccountId: Clone + PartialEq + Eq + Debug,
	Balance: Clone + PartialEq + Eq + Debug,
	MaxTextLen: Get<u32>,
> {
	/// The account that registered it and holds its deposit.
	pub owner: AccountId,
	/// The deposit held from the owner; returned on deregistration.
	pub deposit: Balance,
	/// Whether jobs are accepted.
	pub status: ModelStatus,
	/// No job posted for it can be live after this block; it cannot be deregistered before.
	pub reserved_until: u64,
	/// What the owner declared.
	pub spec: ModelSpec<Balance, MaxTextLen>,
}

/// A model entry of the genesis config, with plain strings for readable chain specs.
#[derive(Clone, PartialEq, Eq, Debug, frame_support::Serialize, frame_support::Deserialize)]
#[serde(crate = "frame_support::__private::serde", rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisModel<AccountId, Balance> {
	/// The owner; genesis models hold no deposit.
	pub owner: AccountId,
	/// See [`ModelSpec::name`].
	pub name: alloc::string::String,
	/// See [`ModelSpec::architecture`].
	pub architecture: alloc::string::String,
	/// See [`ModelSpec::quantisation`].
	pub quantisation: alloc::string::String,
	/// See [`ModelSpec::weights_sha256`].
	pub weights_sha256: [u8; 32],
	/// See [`ModelSpec::weights_size`].
	pub weights_size: u64,
	/// See [`ModelSpec::tokenizer_hash`].
	pub tokenizer_hash: [u8; 32],
	/// See [`ModelSpec::engine_version`].
	pub engine_version: u32,
	/// See [`ModelSpec::min_price`].
	pub min_price: Balance,
}

impl<AccountId, Balance: Clone + PartialEq + Eq + Debug> GenesisModel<AccountId, Balance> {
	/// The registry entry this genesis model becomes; fails on a text field that is empty or
	/// longer than `MaxTextLen`.
	pub fn spec<MaxTextLen: Get<u32>>(
		&self,
	) -> Result<ModelSpec<Balance, MaxTextLen>, &'static str> {
		let text = |field: &str| -> Result<BoundedVec<u8, MaxTextLen>, &'static str> {
			if field.is_empty() {
				return Err("empty text field");
			}
			BoundedVec::try_from(field.as_bytes().to_vec()).map_err(|_| "text field too long")
		};
		Ok(ModelSpec {
			name: text(&self.name)?,
			architecture: text(&self.architecture)?,
			quantisation: text(&self.quantisation)?,
			weights_sha256: self.weights_sha256,
			weights_size: self.weights_size,
			tokenizer_hash: self.tokenizer_hash,
			engine_version: self.engine_version,
			min_price: self.min_price.clone(),
		})
	}
}

// The pallet macro's generated code (storage prefixes, pallet info) calls `expect`, spanned at
// `#[pallet::pallet]` and `#[pallet::storage]`, so the lint lands on this module; those calls
// cannot fail once the pallet is in the runtime. Every other lint still applies here.
#[allow(clippy::expect_used)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_system::pallet_prelude::*;

	/// The layout of this pallet's storage. A release that changes it moves this one up and
	/// adds the `VersionedMigration` from the previous one to the runtime's `Migrations`
	/// (docs/chain.md, "Upgrades").
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency model deposits are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;
		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;
		/// Who may change a model's status (governance).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The deposit held from a model's registrant.
		type ModelDeposit: Get<BalanceOf<Self>>;
		/// The longest name, architecture or quantisation text, in bytes.
		#[pallet::constant]
		type MaxTextLen: Get<u32>;
		/// The most models the registry holds.
		#[pallet::constant]
		type MaxModels: Get<u32>;
		/// Reservations end on a multiple of this many blocks: a model busy with jobs has its
		/// record written once a step, and is deregistered at most a step after its last job.
		#[pallet::constant]
		type ReservationStep: Get<u32>;
		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit behind a registered model.
		ModelDeposit,
	}

	/// Registered models by id.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		ModelId,
		ModelInfo<T::AccountId, BalanceOf<T>, T::MaxTextLen>,
	>;

	/// The id the next registered model gets.
	#[pallet::storage]
	pub type NextModelId<T: Config> = StorageValue<_, ModelId, ValueQuery>;

	/// How many models are registered; bounded by [`Config::MaxModels`].
	#[pallet::storage]
	pub type ModelCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Models registered at genesis, with ids 0, 1, … in this order and no deposit.
		pub models: alloc::vec::Vec<GenesisModel<T::AccountId, BalanceOf<T>>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for model in &self.models {
				let registered = model
					.spec::<T::MaxTextLen>()
					.map_err(|_| Error::<T>::EmptyText)
					.and_then(|spec| {
						Pallet::<T>::insert_model(model.owner.clone(), Zero::zero(), spec)
							.map_err(|_| Error::<T>::TooManyModels)
					});
				assert!(registered.is_ok(), "genesis model {} is not valid", model.name);
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A model was registered and its deposit held.
		ModelRegistered { model: ModelId, owner: T::AccountId, deposit: BalanceOf<T> },
		/// Governance changed a model's status.
		ModelStatusChanged { model: ModelId, status: ModelStatus },
		/// A model was removed from the registry and its deposit returned.
		ModelDeregistered { model: ModelId, owner: T::AccountId, deposit: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model is registered under this id.
		ModelNotFound,
		/// Only the model's owner may do this.
		NotModelOwner,
		/// Jobs posted for this model may still be live: it is reserved until a later block.
		ModelInUse,
		/// The registry holds as many models as it may.
		TooManyModels,
		/// Name, architecture and quantisation must not be empty.
		EmptyText,
		/// The weights size must not be zero.
		ZeroWeightsSize,
		/// The minimum price per replica must not be zero.
		ZeroMinPrice,
		/// The engine version must not be zero.
		ZeroEngineVersion,
		/// The registrant cannot pay the model deposit.
		InsufficientDeposit,
		/// A banned model stays banned: register a corrected model instead.
		ModelBanned,
		/// The model already has this status.
		StatusUnchanged,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a model and holds [`Config::ModelDeposit`] from the signer.
		///
		/// Origin: signed, becomes the owner. Emits [`Event::ModelRegistered`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model())]
		pub fn register_model(
			origin: OriginFor<T>,
			spec: ModelSpec<BalanceOf<T>, T::MaxTextLen>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			ensure!(
				!spec.name.is_empty()
					&& !spec.architecture.is_empty()
					&& !spec.quantisation.is_empty(),
				Error::<T>::EmptyText
			);
			ensure!(spec.weights_size > 0, Error::<T>::ZeroWeightsSize);
			ensure!(!spec.min_price.is_zero(), Error::<T>::ZeroMinPrice);
			ensure!(spec.engine_version > 0, Error::<T>::ZeroEngineVersion);
			ensure!(ModelCount::<T>::get() < T::MaxModels::get(), Error::<T>::TooManyModels);
			let deposit = T::ModelDeposit::get();
			T::Currency::hold(&HoldReason::ModelDeposit.into(), &owner, deposit)
				.map_err(|_| Error::<T>::InsufficientDeposit)?;
			Self::insert_model(owner, deposit, spec)
		}

		/// Sets a model's status: `Deprecated` and `Banned` stop new jobs, jobs already posted
		/// finish. A banned model cannot be reinstated.
		///
		/// Origin: [`Config::AdminOrigin`]. Emits [`Event::ModelStatusChanged`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_model_status())]
		pub fn set_model_status(
			origin: OriginFor<T>,
			model: ModelId,
			status: ModelStatus,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Models::<T>::try_mutate(model, |entry| {
				let info = entry.as_mut().ok_or(Error::<T>::ModelNotFound)?;
				ensure!(info.status != ModelStatus::Banned, Error::<T>::ModelBanned);
				ensure!(info.status != status, Error::<T>::StatusUnchanged);
				info.status = status;
				Ok::<_, Error<T>>(())
			})?;
			Self::deposit_event(Event::ModelStatusChanged { model, status });
			Ok(())
		}

		/// Removes a model that no job can still be live for (its reservation has ended) and
		/// returns its deposit.
		///
		/// Origin: signed by the model's owner. Emits [`Event::ModelDeregistered`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::deregister_model())]
		pub fn deregister_model(origin: OriginFor<T>, model: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(info.owner == who, Error::<T>::NotModelOwner);
			let now: u64 = frame_system::Pallet::<T>::block_number().saturated_into();
			ensure!(now > info.reserved_until, Error::<T>::ModelInUse);
			T::Currency::release(
				&HoldReason::ModelDeposit.into(),
				&who,
				info.deposit,
				Precision::BestEffort,
			)?;
			Models::<T>::remove(model);
			ModelCount::<T>::mutate(|count| *count = count.saturating_sub(1));
			Self::deposit_event(Event::ModelDeregistered {
				model,
				owner: who,
				deposit: info.deposit,
			});
			Ok(())
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	impl<T: Config> Pallet<T> {
		/// Stores a model under the next id.
		pub(crate) fn insert_model(
			owner: T::AccountId,
			deposit: BalanceOf<T>,
			spec: ModelSpec<BalanceOf<T>, T::MaxTextLen>,
		) -> DispatchResult {
			let model = NextModelId::<T>::get();
			let next = model.checked_add(1).ok_or(Error::<T>::TooManyModels)?;
			let count = ModelCount::<T>::get();
			ensure!(count < T::MaxModels::get(), Error::<T>::TooManyModels);
			Models::<T>::insert(
				model,
				ModelInfo {
					owner: owner.clone(),
					deposit,
					status: ModelStatus::Active,
					reserved_until: 0,
					spec,
				},
			);
			NextModelId::<T>::put(next);
			ModelCount::<T>::put(count.saturating_add(1));
			Self::deposit_event(Event::ModelRegistered { model, owner, deposit });
			Ok(())
		}

		/// Checks the registry's invariants: the count matches the entries, every id is below
		/// the next id, and every owner's deposit hold covers the deposits of its models.
		#[cfg(any(feature = "try-runtime", feature = "std", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::collections::btree_map::BTreeMap;
			use frame_support::traits::fungible::InspectHold;
			use sp_runtime::Saturating;
			let next = NextModelId::<T>::get();
			let mut count: u32 = 0;
			let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
			for (id, info) in Models::<T>::iter() {
				ensure!(id < next, "a model id is not below NextModelId");
				count = count.saturating_add(1);
				let owed = deposits.entry(info.owner).or_default();
				*owed = owed.saturating_add(info.deposit);
			}
			ensure!(count == ModelCount::<T>::get(), "ModelCount differs from the models stored");
			for (owner, owed) in deposits {
				ensure!(
					<T::Currency as InspectHold<T::AccountId>>::balance_on_hold(
						&HoldReason::ModelDeposit.into(),
						&owner
					) == owed,
					"a model deposit hold differs from the deposits of its models"
				);
			}
			Ok(())
		}
	}
}

impl<T: Config> ModelRegistry<BalanceOf<T>> for Pallet<T> {
	fn terms(model: ModelId) -> Option<ModelTerms<BalanceOf<T>>> {
		Models::<T>::get(model).map(|info| ModelTerms {
			status: info.status,
			min_price: info.spec.min_price,
			engine_version: info.spec.engine_version,
		})
	}

	/// Extends the reservation to `until` rounded up to a multiple of
	/// [`Config::ReservationStep`]; writes nothing when the reservation already reaches it.
	fn reserve(model: ModelId, until: u64) -> Result<bool, DispatchError> {
		let mut info = Models::<T>::get(model).ok_or(Error::<T>::ModelNotFound)?;
		if until <= info.reserved_until {
			return Ok(false);
		}
		let step = u64::from(T::ReservationStep::get().max(1));
		// The next multiple of `step` after `until`, or `until` itself at the top of the range.
		info.reserved_until = until
			.checked_div(step)
			.and_then(|steps| steps.checked_add(1))
			.and_then(|steps| steps.checked_mul(step))
			.unwrap_or(until);
		Models::<T>::insert(model, info);
		Ok(true)
	}
}
