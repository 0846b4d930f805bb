//! The referendum tracks. Their periods and deposits are dynamic parameters (root-only), so one
//! runtime serves the fast development presets and the realistic testnet.

use alloc::borrow::Cow;

use frame_support::traits::{Get, OriginTrait};
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::Perbill;

use super::{origins, parameters::governance};
use crate::{Balance, BlockNumber, RuntimeOrigin};

/// Runtime upgrades and everything else root may do.
pub const ROOT: u16 = 0;
/// Marketplace parameters (within their ranges) and model bans.
pub const PARAMETERS: u16 = 1;
/// Emergency fixes: root calls the technical committee whitelisted, decided in hours.
pub const WHITELISTED_CALLER: u16 = 2;
/// Cancelling or killing a referendum (a junk one holding a deciding place, or one found
/// harmful), decided in hours.
pub const REFERENDUM_CANCELLER: u16 = 3;

fn name(text: &str) -> [u8; 25] {
	let mut out = [0u8; 25];
	for (slot, byte) in out.iter_mut().zip(text.bytes()) {
		*slot = byte;
	}
	out
}

const fn linear(ceil: u32, floor: u32) -> Curve {
	Curve::LinearDecreasing {
		length: Perbill::from_percent(100),
		floor: Perbill::from_percent(floor),
		ceil: Perbill::from_percent(ceil),
	}
}

pub struct TracksInfo;

impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = u16;
	type RuntimeOrigin = <RuntimeOrigin as OriginTrait>::PalletsOrigin;

	fn tracks() -> impl Iterator<Item = Cow<'static, Track<u16, Balance, BlockNumber>>> {
		let root = Track {
			id: ROOT,
			info: TrackInfo {
				name: name("root"),
				// More than one, so that a referendum nobody supports cannot hold runtime
				// upgrades up for its whole decision period.
				max_deciding: 4,
				decision_deposit: governance::RootDecisionDeposit::get(),
				prepare_period: governance::RootPreparePeriod::get(),
				decision_period: governance::RootDecisionPeriod::get(),
				confirm_period: governance::RootConfirmPeriod::get(),
				min_enactment_period: governance::RootMinEnactmentPeriod::get(),
				// A majority of the conviction-weighted vote, falling from unanimity; support
				// of half the issuance at first, a fifth by the end.
				min_approval: linear(100, 50),
				min_support: linear(50, 20),
			},
		};
		let parameters = Track {
			id: PARAMETERS,
			info: TrackInfo {
				name: name("parameters"),
				max_deciding: 10,
				decision_deposit: governance::ParametersDecisionDeposit::get(),
				prepare_period: governance::ParametersPreparePeriod::get(),
				decision_period: governance::ParametersDecisionPeriod::get(),
				confirm_period: governance::ParametersConfirmPeriod::get(),
				min_enactment_period: governance::ParametersMinEnactmentPeriod::get(),
				min_approval: linear(100, 50),
				min_support: linear(10, 1),
			},
		};
		// The fast tracks share their periods and deposit; an approved call is enacted at the
		// next block, since what they decide is urgent.
		let fast = |id, name_text, max_deciding, min_support| Track {
			id,
			info: TrackInfo {
				name: name(name_text),
				max_deciding,
				decision_deposit: governance::FastTrackDecisionDeposit::get(),
				prepare_period: governance::FastTrackPreparePeriod::get(),
				decision_period: governance::FastTrackDecisionPeriod::get(),
				confirm_period: governance::FastTrackConfirmPeriod::get(),
				min_enactment_period: 1,
				min_approval: linear(100, 50),
				min_support,
			},
		};
		// The committee vetted the call: less support is asked than of a root referendum, but
		// a majority of those who vote is still needed.
		let whitelisted = fast(WHITELISTED_CALLER, "whitelisted_caller", 4, linear(5, 1));
		let canceller = fast(REFERENDUM_CANCELLER, "referendum_canceller", 10, linear(10, 1));
		[root, parameters, whitelisted, canceller].into_iter().map(Cow::Owned)
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<u16, ()> {
		if let Ok(system) = frame_system::RawOrigin::try_from(origin.clone()) {
			return match system {
				frame_system::RawOrigin::Root => Ok(ROOT),
				_ => Err(()),
			};
		}
		match origins::Origin::try_from(origin.clone()) {
			Ok(origins::Origin::ParameterAdmin) => Ok(PARAMETERS),
			Ok(origins::Origin::WhitelistedCaller) => Ok(WHITELISTED_CALLER),
			Ok(origins::Origin::ReferendumCanceller) => Ok(REFERENDUM_CANCELLER),
			Err(_) => Err(()),
		}
	}
}
