//! Building and signing extrinsics with the runtime's own transaction extensions, so that what
//! the client signs is byte for byte what the runtime verifies.

use codec::Encode;
use commons_runtime::{
	Address, Balance, Hash, Nonce, Runtime, RuntimeCall, SignedPayload, TxExtension,
	UncheckedExtrinsic,
};
use sp_runtime::generic::Era;

use crate::Keypair;

/// Chain facts every signature commits to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainContext {
	/// Hash of block 0.
	pub genesis_hash: Hash,
	/// The runtime's `spec_version`.
	pub spec_version: u32,
	/// The runtime's `transaction_version`.
	pub transaction_version: u32,
}

/// How long a transaction stays valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
	/// Valid forever (until the nonce is used).
	Immortal,
	/// Valid for about `period` blocks after block `current`.
	Mortal {
		/// A power of two between 4 and 65536.
		period: u64,
		/// A recent block number.
		current: u64,
		/// Hash of block [`era_birth`]`(period, current)`, which the signature commits to.
		birth_hash: Hash,
	},
}

/// The block a mortal transaction's lifetime starts at: `current` rounded down to the era's
/// phase. Its hash goes into the signature.
pub fn era_birth(period: u64, current: u64) -> u64 {
	Era::mortal(period, current).birth(current)
}

/// Signs `call` as `signer` with nonce `nonce` and an optional `tip`.
pub fn sign(
	call: RuntimeCall,
	signer: &Keypair,
	nonce: Nonce,
	tip: Balance,
	chain: ChainContext,
	lifetime: Lifetime,
) -> UncheckedExtrinsic {
	let (era, era_hash) = match lifetime {
		Lifetime::Immortal => (Era::Immortal, chain.genesis_hash),
		Lifetime::Mortal { period, current, birth_hash } => {
			(Era::mortal(period, current), birth_hash)
		},
	};
	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(era),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(tip),
		frame_system::WeightReclaim::<Runtime>::new(),
	);
	let implicit = (
		(),
		chain.spec_version,
		chain.transaction_version,
		chain.genesis_hash,
		era_hash,
		(),
		(),
		(),
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = payload.using_encoded(|bytes| crate::sign(signer, bytes));
	UncheckedExtrinsic::new_signed(call, Address::Id(signer.account_id()), signature, extension)
}

/// A `Balances::transfer_allow_death` call.
pub fn transfer(dest: commons_runtime::AccountId, value: Balance) -> RuntimeCall {
	RuntimeCall::Balances(pallet_balances::Call::transfer_allow_death {
		dest: Address::Id(dest),
		value,
	})
}

/// The SCALE bytes of an extrinsic as `0x`-prefixed hex, as the RPC expects them.
pub fn to_hex(extrinsic: &UncheckedExtrinsic) -> String {
	format!("0x{}", hex::encode(extrinsic.encode()))
}

/// The same signed extrinsic with another signature in place of its own: a forgery, which a
/// node must refuse. Used to check exactly that. `None` for an unsigned extrinsic.
pub fn with_signature(
	extrinsic: UncheckedExtrinsic,
	signature: commons_runtime::Signature,
) -> Option<UncheckedExtrinsic> {
	let (address, _, extension) = extrinsic.preamble.to_signed()?;
	Some(UncheckedExtrinsic::new_signed(extrinsic.function, address, signature, extension))
}

/// The signature of a signed extrinsic.
pub fn signature_of(extrinsic: &UncheckedExtrinsic) -> Option<commons_runtime::Signature> {
	extrinsic.preamble.clone().to_signed().map(|(_, signature, _)| signature)
}
