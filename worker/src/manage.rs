//! The worker's management calls from the command line, each checked against the chain's state
//! before anything is signed: a refused check names the problem, signs nothing and costs no fee.

use anyhow::Context;
use commons_client::{
	amount::format_amount,
	chain::{self, api, ChainError, Client},
	governance, market,
};
use subxt::utils::AccountId32;

use crate::key::WorkerKey;

/// A worker's record as the registry holds it.
pub type WorkerInfo = api::runtime_types::pallet_workers::WorkerInfo;

/// Why a management command was refused before signing.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
	/// The account holds no worker record.
	#[error("{0} is not a registered worker: run `commons-worker register` first")]
	NotRegistered(String),
	/// The account is registered already.
	#[error(
		"{0} is already registered: `bond-extra`, `set-price`, `set-models` and `go-online` \
		 change a registration"
	)]
	AlreadyRegistered(String),
	/// Text that is no account address.
	#[error("{0:?} is not an account address")]
	NotAnAddress(String),
	/// Zero where an amount is needed.
	#[error("the {0} must be more than zero")]
	Zero(&'static str),
	/// A stake below the chain's minimum.
	#[error("a worker needs at least {minimum} bonded; this would leave {stake}")]
	StakeBelowMinimum {
		/// What the worker would have bonded, formatted.
		stake: String,
		/// `MinWorkerStake`, formatted.
		minimum: String,
	},
	/// Not enough free balance to hold the stake.
	#[error("not enough free balance: bonding {need} needs it free, and the account has {have}")]
	InsufficientBalance {
		/// The amount to bond, formatted.
		need: String,
		/// The free balance, formatted.
		have: String,
	},
	/// Unbonding more than is bonded.
	#[error("cannot unbond {amount}: {bonded} is bonded")]
	MoreThanBonded {
		/// Asked for, formatted.
		amount: String,
		/// Bonded, formatted.
		bonded: String,
	},
	/// Nothing has finished unbonding.
	#[error("nothing to withdraw yet: {0}")]
	NothingToWithdraw(String),
	/// Seats still held.
	#[error(
		"{0} live job(s) still hold this worker's seats: run `go-offline`, keep the worker running \
		 until they settle, then try again"
	)]
	LiveJobs(usize),
	/// Going online or offline twice.
	#[error("the worker is already {0}")]
	Already(&'static str),
	/// The same model twice.
	#[error("model {0} is listed twice")]
	DuplicateModel(u32),
}

/// The output length a reveal's fee is estimated for: a long answer, so that the runway is not
/// overstated (the fee grows with the transaction's length).
const FEE_ESTIMATE_OUTPUT_TOKENS: usize = 512;

/// The fees of one job's commit and reveal as the node estimates them for this worker's
/// transactions, each alone in its batch: the most a job costs (batched calls share a fee).
pub async fn job_fees(
	client: &Client,
	key: &WorkerKey,
	operating_for: Option<&subxt::utils::AccountId32>,
) -> anyhow::Result<u128> {
	use api::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec, commons_runtime::RuntimeCall,
		pallet_jobs::pallet::Call as JobsCall,
	};
	use commons_client::batch::{AsOperator, ForceBatch};
	let commit = JobsCall::commit_result { job: 0, commitment: [0; 32] };
	let reveal = JobsCall::reveal_result {
		job: 0,
		output: BoundedVec(vec![0; FEE_ESTIMATE_OUTPUT_TOKENS]),
		salt: [0; 32],
	};
	let mut fees = 0u128;
	for call in [commit, reveal] {
		let batch = ForceBatch(vec![RuntimeCall::Jobs(call)]);
		let signed = match operating_for {
			Some(real) => {
				let call = AsOperator { real: real.clone(), call: batch };
				client.tx().create_signed(&call, key, Default::default()).await
			},
			None => client.tx().create_signed(&batch, key, Default::default()).await,
		};
		let fee = signed
			.context("signing a transaction to estimate its fee")?
			.partial_fee_estimate()
			.await
			.context("estimating a transaction fee")?;
		fees = fees.saturating_add(fee);
	}
	Ok(fees)
}

/// How many jobs' commit and reveal fees (`job_fees` each) a free balance of `free` pays.
pub fn fee_runway(free: u128, job_fees: u128) -> u128 {
	free.checked_div(job_fees).unwrap_or(u128::MAX)
}

/// The worker's record, if it has one, at the latest block.
pub async fn worker_info(
	client: &Client,
	account: &AccountId32,
) -> Result<Option<WorkerInfo>, ChainError> {
	let at = client.storage().at_latest().await.map_err(ChainError::other("reading the chain"))?;
	at.fetch(&api::storage().workers().workers(account.clone()))
		.await
		.map_err(ChainError::other("reading the worker registry"))
}

/// The worker's record, or [`Refusal::NotRegistered`].
pub async fn registered(client: &Client, account: &AccountId32) -> anyhow::Result<WorkerInfo> {
	worker_info(client, account)
		.await?
		.ok_or_else(|| Refusal::NotRegistered(chain::ss58(account)).into())
}

/// The governed minimum stake of a listed worker.
pub async fn min_worker_stake(client: &Client) -> anyhow::Result<u128> {
	Ok(governance::parameter_value(client, "MinWorkerStake").await?)
}

/// `amount` can be bonded from the account's free balance.
pub async fn check_free(
	client: &Client,
	account: &AccountId32,
	amount: u128,
) -> anyhow::Result<()> {
	let free = market::free_balance(client, account).await?;
	if free <= amount {
		return Err(Refusal::InsufficientBalance {
			need: format_amount(amount),
			have: format_amount(free),
		}
		.into());
	}
	Ok(())
}

/// Checks a registration: not registered yet, a stake of at least the minimum that the free
/// balance covers, a price above zero and no model twice.
pub async fn check_register(
	client: &Client,
	account: &AccountId32,
	stake: u128,
	price: u128,
	models: &[u32],
) -> anyhow::Result<()> {
	if worker_info(client, account).await?.is_some() {
		return Err(Refusal::AlreadyRegistered(chain::ss58(account)).into());
	}
	check_models(models)?;
	if price == 0 {
		return Err(Refusal::Zero("price").into());
	}
	let minimum = min_worker_stake(client).await?;
	if stake < minimum || stake == 0 {
		return Err(Refusal::StakeBelowMinimum {
			stake: format_amount(stake),
			minimum: format_amount(minimum),
		}
		.into());
	}
	check_free(client, account, stake).await
}

/// No model twice.
pub fn check_models(models: &[u32]) -> Result<(), Refusal> {
	for (position, model) in models.iter().enumerate() {
		if models.iter().take(position).any(|earlier| earlier == model) {
			return Err(Refusal::DuplicateModel(*model));
		}
	}
	Ok(())
}

/// Checks an unbonding of `amount` against the bonded stake.
pub fn check_unbond(info: &WorkerInfo, amount: u128) -> Result<(), Refusal> {
	if amount == 0 {
		return Err(Refusal::Zero("amount"));
	}
	if amount > info.bonded {
		return Err(Refusal::MoreThanBonded {
			amount: format_amount(amount),
			bonded: format_amount(info.bonded),
		});
	}
	Ok(())
}

/// Checks a withdrawal at block `now`: no live job and a chunk whose unbonding has passed.
pub fn check_withdraw(info: &WorkerInfo, now: u32) -> Result<(), Refusal> {
	if !info.live_jobs.0.is_empty() {
		return Err(Refusal::LiveJobs(info.live_jobs.0.len()));
	}
	if info.unbonding.0.iter().any(|chunk| chunk.unlock_at <= now) {
		return Ok(());
	}
	let next = info.unbonding.0.iter().min_by_key(|chunk| chunk.unlock_at);
	Err(Refusal::NothingToWithdraw(match next {
		Some(chunk) => format!(
			"{} unlocks at block #{} (now #{now})",
			format_amount(chunk.amount),
			chunk.unlock_at
		),
		None => "no stake is unbonding (`unbond` starts it)".into(),
	}))
}

/// Checks a deregistration: no live job.
pub fn check_deregister(info: &WorkerInfo) -> Result<(), Refusal> {
	match info.live_jobs.0.len() {
		0 => Ok(()),
		live => Err(Refusal::LiveJobs(live)),
	}
}

/// Checks going online: offline now, with at least the minimum bonded.
pub async fn check_go_online(client: &Client, info: &WorkerInfo) -> anyhow::Result<()> {
	if info.online {
		return Err(Refusal::Already("online").into());
	}
	let minimum = min_worker_stake(client).await?;
	if info.bonded < minimum || info.bonded == 0 {
		return Err(Refusal::StakeBelowMinimum {
			stake: format_amount(info.bonded),
			minimum: format_amount(minimum),
		}
		.into());
	}
	Ok(())
}

/// Checks going offline: online now.
pub fn check_go_offline(info: &WorkerInfo) -> Result<(), Refusal> {
	if info.online {
		Ok(())
	} else {
		Err(Refusal::Already("offline"))
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use api::runtime_types::{
		bounded_collections::bounded_vec::BoundedVec,
		commons_primitives::Capacity,
		pallet_workers::{Reputation, Unbonding},
	};

	fn info(bonded: u128, unbonding: &[(u128, u32)], live: usize, online: bool) -> WorkerInfo {
		WorkerInfo {
			bonded,
			unbonding: BoundedVec(
				unbonding
					.iter()
					.map(|(amount, unlock_at)| Unbonding { amount: *amount, unlock_at: *unlock_at })
					.collect(),
			),
			models: BoundedVec(vec![0]),
			price: 1,
			online,
			live_jobs: BoundedVec((0..live as u64).collect()),
			computing: BoundedVec(vec![]),
			capacity: Capacity { slots: 1, tokens_per_block: 1 },
			reputation: Reputation { accepted: 0, wrong: 0, no_show: 0 },
		}
	}

	#[test]
	fn unbond_and_withdraw_are_checked_against_the_record() {
		let worker = info(100, &[(5, 50)], 0, true);
		assert!(matches!(check_unbond(&worker, 0), Err(Refusal::Zero(_))));
		assert!(matches!(check_unbond(&worker, 101), Err(Refusal::MoreThanBonded { .. })));
		assert!(check_unbond(&worker, 100).is_ok());
		let early = check_withdraw(&worker, 49).unwrap_err().to_string();
		assert!(early.contains("unlocks at block #50 (now #49)"), "{early}");
		assert!(check_withdraw(&worker, 50).is_ok());
		assert!(matches!(
			check_withdraw(&info(100, &[], 0, true), 10),
			Err(Refusal::NothingToWithdraw(_))
		));
		assert!(matches!(
			check_withdraw(&info(100, &[(5, 1)], 2, true), 10),
			Err(Refusal::LiveJobs(2))
		));
	}

	#[test]
	fn status_changes_are_checked_against_the_record() {
		assert!(matches!(
			check_go_offline(&info(100, &[], 0, false)),
			Err(Refusal::Already("offline"))
		));
		assert!(check_go_offline(&info(100, &[], 0, true)).is_ok());
		assert!(matches!(check_deregister(&info(100, &[], 1, false)), Err(Refusal::LiveJobs(1))));
		assert!(check_deregister(&info(100, &[], 0, true)).is_ok());
		assert!(matches!(check_models(&[0, 1, 0]), Err(Refusal::DuplicateModel(0))));
		assert!(check_models(&[0, 1]).is_ok());
	}
}
