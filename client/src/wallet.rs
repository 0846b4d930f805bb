//! Balances and transfers, over the subxt chain access.

use subxt::{tx::Signer, utils::AccountId32};

use crate::{
	amount::format_amount,
	chain::{self, api, ChainError, Client, CommonsConfig},
};

/// An account's balances, as `pallet_balances` keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balances {
	/// Free: what transfers and holds can draw on, less what is frozen.
	pub free: u128,
	/// Held by pallets: escrow, deposits, stake.
	pub held: u128,
	/// The part of free that locks (governance votes) keep from being spent.
	pub frozen: u128,
	/// The account's nonce.
	pub nonce: u32,
}

impl Balances {
	/// What the account can spend or transfer: free less frozen.
	pub fn spendable(&self) -> u128 {
		self.free.saturating_sub(self.frozen)
	}
}

/// Reads `who`'s balances at the latest finalised block.
pub async fn balances(client: &Client, who: &AccountId32) -> Result<Balances, ChainError> {
	let at = client.storage().at_latest().await.map_err(ChainError::other("reading the chain"))?;
	let info = at
		.fetch_or_default(&api::storage().system().account(who.clone()))
		.await
		.map_err(ChainError::other("reading the balance"))?;
	Ok(Balances {
		free: info.data.free,
		held: info.data.reserved,
		frozen: info.data.frozen,
		nonce: info.nonce,
	})
}

/// Why a transfer is refused before anything is signed, or failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
	/// Nothing to send.
	#[error("the amount must be more than 0")]
	ZeroAmount,
	/// The sender cannot pay.
	#[error(
		"not enough balance: sending {amount} costs a fee of about {fee}; the account can spend \
		 {spendable} (free less frozen)"
	)]
	Insufficient {
		/// The amount, formatted.
		amount: String,
		/// The estimated fee, formatted.
		fee: String,
		/// Free less frozen, formatted.
		spendable: String,
	},
	/// The transfer would remove the sender's account.
	#[error(
		"sending {amount} would leave {left}, below the existential deposit of {existential}, \
		 which removes the account and what is left in it; send less, or pass --allow-death"
	)]
	WouldReap {
		/// The amount, formatted.
		amount: String,
		/// What would be left after the fee, formatted.
		left: String,
		/// The existential deposit, formatted.
		existential: String,
	},
	/// The recipient would hold less than the existential deposit: the chain refuses it.
	#[error(
		"the recipient would hold {after}, below the existential deposit of {existential}, so \
		 the chain would refuse the transfer; send at least {need}"
	)]
	RecipientBelowExistential {
		/// What it would hold, formatted.
		after: String,
		/// The existential deposit, formatted.
		existential: String,
		/// The smallest amount that works, formatted.
		need: String,
	},
	/// The chain failed or refused.
	#[error(transparent)]
	Chain(#[from] ChainError),
}

/// A finalised transfer.
#[derive(Clone, Debug)]
pub struct Transferred {
	/// The block's number.
	pub block: u32,
	/// The block's hash.
	pub block_hash: chain::BlockHash,
	/// The fee paid.
	pub fee: u128,
}

/// What a transfer would cost, as checked before signing.
#[derive(Clone, Copy, Debug)]
pub struct TransferQuote {
	/// The estimated transaction fee.
	pub fee: u128,
	/// What the sender can spend (free less frozen).
	pub spendable: u128,
	/// The chain's existential deposit.
	pub existential: u128,
}

fn transfer_call(
	dest: &AccountId32,
	amount: u128,
	allow_death: bool,
) -> Box<dyn subxt::tx::Payload + Send + Sync> {
	let balances_tx = api::tx().balances();
	let address = subxt::utils::MultiAddress::Id(dest.clone());
	if allow_death {
		Box::new(balances_tx.transfer_allow_death(address, amount))
	} else {
		Box::new(balances_tx.transfer_keep_alive(address, amount))
	}
}

/// Checks a transfer of `amount` from `signer` to `dest` against every refusal the chain would
/// give (`transfer_keep_alive` unless `allow_death`), signing nothing.
pub async fn check_transfer(
	client: &Client,
	signer: &impl Signer<CommonsConfig>,
	dest: &AccountId32,
	amount: u128,
	allow_death: bool,
) -> Result<TransferQuote, TransferError> {
	if amount == 0 {
		return Err(TransferError::ZeroAmount);
	}
	let existential = client
		.constants()
		.at(&api::constants().balances().existential_deposit())
		.map_err(ChainError::other("reading the existential deposit"))?;
	let sender = signer.account_id();
	let fee = client
		.tx()
		.create_partial(&transfer_call(dest, amount, allow_death), &sender, Default::default())
		.await
		.map_err(ChainError::other("estimating the fee"))?
		.sign(signer)
		.partial_fee_estimate()
		.await
		.map_err(ChainError::other("estimating the fee"))?;
	let spendable = balances(client, &sender).await?.spendable();
	let Some(left) = spendable.checked_sub(amount.saturating_add(fee)) else {
		return Err(TransferError::Insufficient {
			amount: format_amount(amount),
			fee: format_amount(fee),
			spendable: format_amount(spendable),
		});
	};
	if !allow_death && left < existential {
		return Err(TransferError::WouldReap {
			amount: format_amount(amount),
			left: format_amount(left),
			existential: format_amount(existential),
		});
	}
	let held_by_dest = balances(client, dest).await?.free;
	if held_by_dest.saturating_add(amount) < existential {
		return Err(TransferError::RecipientBelowExistential {
			after: format_amount(held_by_dest.saturating_add(amount)),
			existential: format_amount(existential),
			need: format_amount(existential.saturating_sub(held_by_dest)),
		});
	}
	Ok(TransferQuote { fee, spendable, existential })
}

/// Sends `amount` from `signer` to `dest` after [`check_transfer`] and waits until it is
/// finalised, so that a refused transfer costs nothing.
pub async fn transfer(
	client: &Client,
	signer: &impl Signer<CommonsConfig>,
	dest: AccountId32,
	amount: u128,
	allow_death: bool,
) -> Result<Transferred, TransferError> {
	let quote = check_transfer(client, signer, &dest, amount, allow_death).await?;
	let call = transfer_call(&dest, amount, allow_death);
	let included = chain::submit(client, signer, &call).await?;
	let fee = included.fee_paid().unwrap_or(quote.fee);
	let block = included.block_number(client).await?;
	Ok(Transferred { block, block_hash: included.block, fee })
}
