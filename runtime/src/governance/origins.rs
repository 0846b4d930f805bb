//! The custom origin a referendum on the parameters track dispatches with.

pub use pallet_custom_origins::*;

#[frame_support::pallet]
#[allow(clippy::expect_used)] // Inside the pallet macro's expansion.
pub mod pallet_custom_origins {
	use frame_support::pallet_prelude::*;

	#[pallet::config]
	pub trait Config: frame_system::Config {}

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Origins that only a referendum on their own track produces.
	#[derive(
		PartialEq, Eq, Clone, MaxEncodedLen, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// Sets the marketplace's parameters (within their ranges) and bans models; nothing more.
		ParameterAdmin,
	}

	/// Ensures the [`Origin::ParameterAdmin`] origin.
	pub struct ParameterAdmin;

	impl<O: OriginTrait + From<Origin>> EnsureOrigin<O> for ParameterAdmin
	where
		for<'a> &'a O::PalletsOrigin: TryInto<&'a Origin>,
	{
		type Success = ();

		fn try_origin(o: O) -> Result<Self::Success, O> {
			if matches!(o.caller().try_into(), Ok(Origin::ParameterAdmin)) {
				return Ok(());
			}
			Err(o)
		}

		#[cfg(feature = "runtime-benchmarks")]
		fn try_successful_origin() -> Result<O, ()> {
			Ok(O::from(Origin::ParameterAdmin))
		}
	}
}
