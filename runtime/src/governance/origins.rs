//! The custom origins referenda on the parameters, whitelisted-caller and canceller tracks
//! dispatch with.

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
		/// Dispatches, as root, a call the technical committee whitelisted; nothing more.
		WhitelistedCaller,
		/// Cancels or kills a referendum; nothing more.
		ReferendumCanceller,
	}

	/// Declares an `EnsureOrigin` for each origin of [`Origin`] that only its own variant
	/// passes.
	macro_rules! ensure_origin {
		($($name:ident),*) => {$(
			#[doc = concat!("Ensures the [`Origin::", stringify!($name), "`] origin.")]
			pub struct $name;

			impl<O: OriginTrait + From<Origin>> EnsureOrigin<O> for $name
			where
				for<'a> &'a O::PalletsOrigin: TryInto<&'a Origin>,
			{
				type Success = ();

				fn try_origin(o: O) -> Result<Self::Success, O> {
					if matches!(o.caller().try_into(), Ok(Origin::$name)) {
						return Ok(());
					}
					Err(o)
				}

				#[cfg(feature = "runtime-benchmarks")]
				fn try_successful_origin() -> Result<O, ()> {
					Ok(O::from(Origin::$name))
				}
			}
		)*};
	}

	ensure_origin!(ParameterAdmin, WhitelistedCaller, ReferendumCanceller);
}
