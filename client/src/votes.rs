//! Getting a token holder's money back from governance, over the subxt chain access: removing
//! votes, unlocking what their convictions locked, refunding referendum deposits, delegating.
//! Each call is checked against the chain first, so a refused one costs nothing.

use subxt::{tx::Signer, utils::AccountId32};

use crate::{
	amount::format_amount,
	chain::{
		self,
		api::{
			self,
			runtime_types::{
				pallet_conviction_voting::{conviction::Conviction, vote::Voting},
				pallet_referenda::types::ReferendumInfo,
			},
		},
		ChainError, Client, CommonsConfig,
	},
	governance,
};

/// Why a governance call is refused before anything is signed, or failed.
#[derive(Debug, thiserror::Error)]
pub enum VoteError {
	/// No vote to remove.
	#[error("this account has no vote on referendum {0}")]
	NoVote(u32),
	/// Nothing is locked.
	#[error("this account has no voting locks to release")]
	NothingLocked,
	/// The referendum does not exist.
	#[error("no referendum {0}")]
	UnknownReferendum(u32),
	/// The referendum is still deciding.
	#[error("referendum {0} is still ongoing: its deposits come back once it ends")]
	Ongoing(u32),
	/// Nothing to refund.
	#[error(
		"referendum {0} holds no deposit that can be refunded (already refunded, or kept \
		 because it was killed or the decision deposit was slashed)"
	)]
	NoDeposit(u32),
	/// Conviction out of range.
	#[error("conviction must be 0 to 6, not {0}")]
	Conviction(u8),
	/// The account already votes or delegates on the track.
	#[error("this account already {0} on track {1}; undelegate or remove those votes first")]
	Busy(&'static str, String),
	/// Not delegating.
	#[error("this account does not delegate on track {0}")]
	NotDelegating(String),
	/// Not enough to delegate.
	#[error("delegating {amount} needs that much free balance; the account has {free}")]
	Insufficient {
		/// The amount, formatted.
		amount: String,
		/// Free balance, formatted.
		free: String,
	},
	/// The chain failed or refused.
	#[error(transparent)]
	Chain(#[from] ChainError),
}

type VotingRecord = Voting<u128, AccountId32, u32, u32>;

/// The account's voting record on each track it has one.
async fn voting(
	client: &Client,
	who: &AccountId32,
) -> Result<Vec<(u16, VotingRecord)>, ChainError> {
	let at = client.storage().at_latest().await.map_err(ChainError::other("reading the chain"))?;
	let mut entries = at
		.iter(api::storage().conviction_voting().voting_for_iter1(who.clone()))
		.await
		.map_err(ChainError::other("reading votes"))?;
	let mut records = Vec::new();
	while let Some(entry) = entries.next().await {
		let entry = entry.map_err(ChainError::other("reading votes"))?;
		// The key ends with the track id itself (Twox64Concat of a SCALE u16).
		let Some(tail) = entry.key_bytes.len().checked_sub(2) else { continue };
		let class = u16::from_le_bytes([entry.key_bytes[tail], entry.key_bytes[tail + 1]]);
		records.push((class, entry.value));
	}
	Ok(records)
}

/// Removes `signer`'s vote on referendum `index` (any track, ongoing or ended), so that its
/// lock can end; returns the track.
pub async fn remove_vote(
	client: &Client,
	signer: &impl Signer<CommonsConfig>,
	index: u32,
) -> Result<u16, VoteError> {
	let records = voting(client, &signer.account_id()).await?;
	let class = records
		.iter()
		.find_map(|(class, record)| match record {
			Voting::Casting(casting) => {
				casting.votes.0.iter().any(|(voted, _)| *voted == index).then_some(*class)
			},
			_ => None,
		})
		.ok_or(VoteError::NoVote(index))?;
	let call = api::tx().conviction_voting().remove_vote(Some(class), index);
	chain::submit(client, signer, &call).await?;
	Ok(class)
}

/// Releases every voting lock of `signer` whose period has ended; returns the frozen balance
/// before and after.
pub async fn unlock(
	client: &Client,
	signer: &impl Signer<CommonsConfig>,
) -> Result<(u128, u128), VoteError> {
	let who = signer.account_id();
	let at = client.storage().at_latest().await.map_err(ChainError::other("reading the chain"))?;
	let locks = at
		.fetch_or_default(&api::storage().conviction_voting().class_locks_for(who.clone()))
		.await
		.map_err(ChainError::other("reading voting locks"))?;
	if locks.0.is_empty() {
		return Err(VoteError::NothingLocked);
	}
	let before = crate::wallet::balances(client, &who).await?.frozen;
	for (class, _) in &locks.0 {
		let target = subxt::utils::MultiAddress::Id(who.clone());
		chain::submit(client, signer, &api::tx().conviction_voting().unlock(*class, target))
			.await?;
	}
	let after = crate::wallet::balances(client, &who).await?.frozen;
	Ok((before, after))
}

/// Refunds the submission and decision deposits of ended referendum `index` that the chain
/// still holds (to whoever placed them); returns what was refunded, by name.
pub async fn refund_deposits(
	client: &Client,
	signer: &impl Signer<CommonsConfig>,
	index: u32,
) -> Result<Vec<&'static str>, VoteError> {
	let at = client.storage().at_latest().await.map_err(ChainError::other("reading the chain"))?;
	let info = at
		.fetch(&api::storage().referenda().referendum_info_for(index))
		.await
		.map_err(ChainError::other("reading the referendum"))?
		.ok_or(VoteError::UnknownReferendum(index))?;
	let (submission, decision) = match info {
		ReferendumInfo::Ongoing(_) => return Err(VoteError::Ongoing(index)),
		// Only approved referenda return the submission deposit; any ended one its decision
		// deposit, unless it was killed (slashed).
		ReferendumInfo::Approved(_, submission, decision) => {
			(submission.is_some(), decision.is_some())
		},
		ReferendumInfo::Rejected(_, _, decision)
		| ReferendumInfo::Cancelled(_, _, decision)
		| ReferendumInfo::TimedOut(_, _, decision) => (false, decision.is_some()),
		ReferendumInfo::Killed(_) => (false, false),
	};
	let referenda = api::tx().referenda();
	let mut refunded = Vec::new();
	if decision {
		chain::submit(client, signer, &referenda.refund_decision_deposit(index)).await?;
		refunded.push("decision deposit");
	}
	if submission {
		chain::submit(client, signer, &referenda.refund_submission_deposit(index)).await?;
		refunded.push("submission deposit");
	}
	if refunded.is_empty() {
		return Err(VoteError::NoDeposit(index));
	}
	Ok(refunded)
}

/// Delegates `signer`'s votes on `track` to `to`, with `amount` at `conviction` (0–6).
pub async fn delegate(
	client: &Client,
	signer: &impl Signer<CommonsConfig>,
	track: u16,
	to: AccountId32,
	conviction: u8,
	amount: u128,
) -> Result<(), VoteError> {
	let conviction = match conviction {
		0 => Conviction::None,
		1 => Conviction::Locked1x,
		2 => Conviction::Locked2x,
		3 => Conviction::Locked3x,
		4 => Conviction::Locked4x,
		5 => Conviction::Locked5x,
		6 => Conviction::Locked6x,
		other => return Err(VoteError::Conviction(other)),
	};
	let who = signer.account_id();
	let name = governance::track_name(&governance::tracks(client).await?, track);
	for (class, record) in voting(client, &who).await? {
		if class != track {
			continue;
		}
		match record {
			Voting::Delegating(_) => return Err(VoteError::Busy("delegates", name)),
			Voting::Casting(casting) if !casting.votes.0.is_empty() => {
				return Err(VoteError::Busy("votes", name))
			},
			_ => {},
		}
	}
	let free = crate::wallet::balances(client, &who).await?.free;
	if free < amount {
		return Err(VoteError::Insufficient {
			amount: format_amount(amount),
			free: format_amount(free),
		});
	}
	let target = subxt::utils::MultiAddress::Id(to);
	let call = api::tx().conviction_voting().delegate(track, target, conviction, amount);
	chain::submit(client, signer, &call).await?;
	Ok(())
}

/// Ends `signer`'s delegation on `track`.
pub async fn undelegate(
	client: &Client,
	signer: &impl Signer<CommonsConfig>,
	track: u16,
) -> Result<(), VoteError> {
	let delegating = voting(client, &signer.account_id())
		.await?
		.iter()
		.any(|(class, record)| *class == track && matches!(record, Voting::Delegating(_)));
	if !delegating {
		let tracks = governance::tracks(client).await?;
		return Err(VoteError::NotDelegating(governance::track_name(&tracks, track)));
	}
	chain::submit(client, signer, &api::tx().conviction_voting().undelegate(track)).await?;
	Ok(())
}
