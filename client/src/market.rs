//! Posting a job and following it to its receipt, over the subxt chain access.
//!
//! Every refusal the chain would give for a bad request that [`check`] can see from outside
//! (unknown or inactive model, price below the model's floor, empty or too long prompt, max tokens
//! out of range, not enough balance) is found before anything is signed, so a bad request costs
//! nothing, not even a transaction fee.

use subxt::{tx::Signer, utils::AccountId32};

use crate::chain::{
	self,
	api::{
		self,
		jobs::events as job_events,
		runtime_types::commons_primitives::ModelStatus,
		runtime_types::pallet_jobs::types::{JobStatus, Quote as ChainQuote, Verdict},
	},
	BlockHash, ChainError, Client, CommonsConfig,
};

/// How a job's tokens are chosen: greedy, or seeded top-k at a temperature in thousandths.
pub use crate::chain::api::runtime_types::pallet_jobs::types::Sampling;
pub use commons_primitives::{MAX_TEMPERATURE, MAX_TOP_K, TEMPERATURE_ONE};

/// What a requester asks for.
#[derive(Clone, Debug)]
pub struct JobRequest {
	/// The model, by registry id.
	pub model: u32,
	/// The prompt's bytes: text (one user message) or a conversation
	/// (`commons_primitives::prompt`).
	pub prompt: Vec<u8>,
	/// Most tokens to generate.
	pub max_tokens: u32,
	/// How tokens are chosen.
	pub sampling: Sampling,
	/// Workers that must agree (ignored for an audited job).
	pub replicas: u32,
	/// Audited instead of replicated: one worker and, at this rate in parts per million, an
	/// auditor (docs/protocol.md, "Audited jobs").
	pub audit_rate: Option<u32>,
	/// Price per replica, in the smallest unit.
	pub price: u128,
	/// Blocks from now within which workers must be assigned.
	pub deadline_blocks: u32,
}

/// Why a request is refused before anything is signed.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
	/// The prompt is empty.
	#[error("the prompt is empty")]
	EmptyPrompt,
	/// The prompt is longer than the chain takes.
	#[error("the prompt is {len} bytes; the chain takes at most {max}")]
	PromptTooLong {
		/// Its length.
		len: usize,
		/// The most allowed.
		max: u32,
	},
	/// Max tokens out of range.
	#[error("max tokens must be between 1 and {max}, not {requested}")]
	MaxTokens {
		/// Asked for.
		requested: u32,
		/// The most allowed.
		max: u32,
	},
	/// Replicas out of the governed range.
	#[error("replicas must be between 1 and {max} (the governed MaxReplicas), not {requested}")]
	Replicas {
		/// Asked for.
		requested: u32,
		/// The governed `MaxReplicas`.
		max: u32,
	},
	/// The assignment deadline is out of the governed range.
	#[error(
		"the deadline must be 1 to {max} blocks from now (the governed MaxAssignmentDelay), not \
		 {requested}"
	)]
	Deadline {
		/// Asked for.
		requested: u32,
		/// The governed `MaxAssignmentDelay`.
		max: u32,
	},
	/// Too few online workers serve the model at the price: the job could only expire.
	#[error(
		"only {available} online worker(s) serve model {model} at a price per replica of {price} \
		 or less; the job needs {needed}"
	)]
	NotEnoughWorkers {
		/// The model.
		model: u32,
		/// Offered, formatted.
		price: String,
		/// Online workers serving it at that price.
		available: u32,
		/// Seats the job fills first.
		needed: u32,
	},
	/// Sampling parameters out of range.
	#[error(
		"sampling needs a temperature above 0 and at most {max_temperature} and a top-k of 1 to \
		 {max_top_k}"
	)]
	Sampling {
		/// The highest temperature.
		max_temperature: f64,
		/// The largest top-k.
		max_top_k: u32,
	},
	/// A conversation that the chain would refuse.
	#[error("the conversation is malformed: {0}")]
	Conversation(&'static str),
	/// The audit rate is out of the governed range.
	#[error("the audit rate must be between {min} and 1000000 parts per million (MinAuditRate to every job), not {requested}")]
	AuditRate {
		/// Asked for.
		requested: u32,
		/// The governed `MinAuditRate`.
		min: u32,
	},
	/// The model takes no new jobs.
	#[error("model {model} is {status} and takes no new jobs")]
	ModelNotActive {
		/// Its id.
		model: u32,
		/// Deprecated or banned.
		status: &'static str,
	},
	/// The price is below the model's floor.
	#[error("the price per replica {price} is below model {model}'s floor of {floor}")]
	PriceBelowFloor {
		/// The model.
		model: u32,
		/// Offered, formatted.
		price: String,
		/// The floor, formatted.
		floor: String,
	},
	/// The price is below the model's market price: the workers who ask no more hold less
	/// than half of its stake.
	#[error(
		"the price per replica {price} is below model {model}'s market price of {market} (the \
		 stake-weighted median of its workers' asks)"
	)]
	PriceBelowMarket {
		/// The model.
		model: u32,
		/// Offered, formatted.
		price: String,
		/// The market price, formatted.
		market: String,
	},
	/// The requester cannot pay.
	#[error("not enough balance: posting holds {need} and costs a fee of about {fee}; the account has {have} free")]
	InsufficientBalance {
		/// Escrow and deposit, formatted.
		need: String,
		/// The estimated transaction fee, formatted.
		fee: String,
		/// Free balance, formatted.
		have: String,
	},
}

/// Why posting or following a job failed.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
	/// The request is refused; nothing was signed.
	#[error(transparent)]
	Refused(#[from] Refusal),
	/// The model is not registered.
	#[error(transparent)]
	Lookup(#[from] chain::ModelLookup),
	/// A cancellation is refused; nothing was signed.
	#[error(transparent)]
	CancelRefused(#[from] CancelRefusal),
	/// The chain failed or refused.
	#[error(transparent)]
	Chain(#[from] ChainError),
	/// The job did not settle in time.
	#[error("job {job} did not settle within {seconds} s; `commons job show {job}` follows it")]
	Timeout {
		/// The job.
		job: u64,
		/// How long was waited.
		seconds: u64,
	},
}

/// What posting holds from the requester.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
	/// Payment to the workers.
	pub payment: u128,
	/// Protocol fee.
	pub fee: u128,
	/// Price and fee of the further seats an escalation may draw: held, and returned unless
	/// they are used.
	pub escalation: u128,
	/// Congestion surcharge, paid to the treasury when many jobs wait for assignment.
	pub surcharge: u128,
	/// Storage deposit, returned when the record is removed.
	pub deposit: u128,
	/// All of it.
	pub total: u128,
	/// What the job is expected to cost with honest workers: the replicas' payment and fee,
	/// or one run plus an audit at the audit rate; and the surcharge.
	pub expected: u128,
	/// The post's transaction fee, as estimated.
	pub tx_fee: u128,
}

fn fmt(amount: u128) -> String {
	crate::amount::format_amount(amount)
}

fn other(context: &'static str) -> impl FnOnce(subxt::Error) -> ChainError {
	ChainError::other(context)
}

/// Checks a request against the chain's rules and the requester's balance; returns the quote.
/// Whether workers serve it is [`check_workers`].
pub async fn check(
	client: &Client,
	requester: &impl Signer<CommonsConfig>,
	request: &JobRequest,
) -> Result<Quote, MarketError> {
	if request.prompt.is_empty() {
		return Err(Refusal::EmptyPrompt.into());
	}
	if let Err(error) = commons_primitives::prompt::parse(&request.prompt) {
		use commons_primitives::prompt::PromptError;
		return Err(Refusal::Conversation(match error {
			PromptError::EmptyConversation => "it has no messages",
			PromptError::TooManyMessages => "it has more than 8 messages",
			PromptError::Malformed => "its bytes are not an exactly encoded list of messages",
			PromptError::NotUtf8 => "a message is not UTF-8",
		})
		.into());
	}
	if let Sampling::TopK { temperature, top_k, .. } = request.sampling {
		if !(1..=MAX_TEMPERATURE).contains(&temperature) || !(1..=MAX_TOP_K).contains(&top_k) {
			return Err(Refusal::Sampling {
				max_temperature: f64::from(MAX_TEMPERATURE) / f64::from(TEMPERATURE_ONE),
				max_top_k: MAX_TOP_K,
			}
			.into());
		}
	}
	let constants = client.constants();
	let max_prompt = constants
		.at(&api::constants().jobs().max_prompt_len())
		.map_err(other("reading MaxPromptLen"))?;
	if request.prompt.len() > max_prompt as usize {
		return Err(Refusal::PromptTooLong { len: request.prompt.len(), max: max_prompt }.into());
	}
	let max_tokens = constants
		.at(&api::constants().jobs().max_output_tokens())
		.map_err(other("reading MaxOutputTokens"))?;
	if request.max_tokens == 0 || request.max_tokens > max_tokens {
		return Err(Refusal::MaxTokens { requested: request.max_tokens, max: max_tokens }.into());
	}
	let max_replicas = governed(client, "MaxReplicas").await?;
	let max_delay = governed(client, "MaxAssignmentDelay").await?;
	if request.deadline_blocks == 0 || request.deadline_blocks > max_delay {
		return Err(Refusal::Deadline { requested: request.deadline_blocks, max: max_delay }.into());
	}
	match request.audit_rate {
		Some(rate) => {
			let min = min_audit_rate(client).await?;
			if rate < min || rate > PPM {
				return Err(Refusal::AuditRate { requested: rate, min }.into());
			}
		},
		None if request.replicas == 0 || request.replicas > max_replicas => {
			return Err(Refusal::Replicas { requested: request.replicas, max: max_replicas }.into());
		},
		None => {},
	}
	let (model, info) = chain::resolve_model(client, &request.model.to_string()).await?;
	match info.status {
		ModelStatus::Active => {},
		ModelStatus::Deprecated => {
			return Err(Refusal::ModelNotActive { model, status: "deprecated" }.into())
		},
		ModelStatus::Banned => {
			return Err(Refusal::ModelNotActive { model, status: "banned" }.into())
		},
	}
	if request.price < info.spec.min_price {
		return Err(Refusal::PriceBelowFloor {
			model,
			price: fmt(request.price),
			floor: fmt(info.spec.min_price),
		}
		.into());
	}
	let jobs = api::view_functions().jobs();
	let (prompt_len, max_tokens) = (request.prompt.len() as u32, request.max_tokens);
	let quote: Option<ChainQuote<u128>> = match request.audit_rate {
		None => {
			let view =
				jobs.price_quote(model, request.replicas, request.price, prompt_len, max_tokens);
			chain::view(client, None, view).await
		},
		Some(rate) => {
			let view = jobs.audited_price_quote(model, rate, request.price, prompt_len, max_tokens);
			chain::view(client, None, view).await
		},
	}
	.map_err(other("asking for a price quote"))?;
	let quote = quote.ok_or_else(|| chain::ModelLookup::Unknown(model.to_string()))?;
	if request.price < quote.market_price {
		return Err(Refusal::PriceBelowMarket {
			model,
			price: fmt(request.price),
			market: fmt(quote.market_price),
		}
		.into());
	}
	let mut quote = Quote {
		tx_fee: 0,
		payment: quote.payment,
		fee: quote.fee,
		escalation: quote.escalation,
		surcharge: quote.surcharge,
		deposit: quote.deposit,
		total: quote.total,
		expected: quote.expected,
	};
	let free = free_balance(client, &requester.account_id()).await?;
	let (head, _) = finalized_head(client).await?;
	let fee = client
		.tx()
		.create_partial(&post_call(request, head), &requester.account_id(), Default::default())
		.await
		.map_err(other("estimating the fee"))?
		.sign(requester)
		.partial_fee_estimate()
		.await
		.map_err(other("estimating the fee"))?;
	quote.tx_fee = fee;
	if free < quote.total.saturating_add(fee) {
		return Err(Refusal::InsufficientBalance {
			need: fmt(quote.total),
			fee: fmt(fee),
			have: fmt(free),
		}
		.into());
	}
	Ok(quote)
}

/// Online workers that serve the request's model at its price: fewer than its first seats and
/// the job could only expire.
pub async fn check_workers(client: &Client, request: &JobRequest) -> Result<u32, MarketError> {
	let needed = if request.audit_rate.is_some() { 1 } else { request.replicas };
	let available = workers(client)
		.await?
		.iter()
		.filter(|(_, worker)| {
			worker.online
				&& worker.price <= request.price
				&& worker.models.0.contains(&request.model)
		})
		.count() as u32;
	if available < needed {
		return Err(Refusal::NotEnoughWorkers {
			model: request.model,
			price: fmt(request.price),
			available,
			needed,
		}
		.into());
	}
	Ok(available)
}

/// `Jobs.post_job`, or `Jobs.post_audited_job` for an audited request.
fn post_call(request: &JobRequest, best: u32) -> Box<dyn subxt::tx::Payload + Send + Sync> {
	let prompt = request.prompt.clone();
	let deadline = best.saturating_add(request.deadline_blocks.max(1));
	let (model, max_tokens, price) = (request.model, request.max_tokens, request.price);
	let jobs = api::tx().jobs();
	match request.audit_rate {
		None => Box::new(jobs.post_job(
			model,
			prompt,
			max_tokens,
			request.sampling.clone(),
			request.replicas,
			price,
			deadline,
		)),
		Some(rate) => Box::new(jobs.post_audited_job(
			model,
			prompt,
			max_tokens,
			request.sampling.clone(),
			rate,
			price,
			deadline,
		)),
	}
}

/// A seed for a sampler when the requester gives none: the clock's nanoseconds, mixed.
pub fn random_seed() -> u64 {
	let nanos = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|elapsed| elapsed.as_nanos())
		.unwrap_or_default();
	let bytes = sp_crypto_hashing::blake2_64(&nanos.to_le_bytes());
	u64::from_le_bytes(bytes)
}

/// Audit rates are in parts per million.
pub const PPM: u32 = 1_000_000;

/// The governed `RetentionPeriod`: blocks a settled job's record is kept.
pub async fn retention_period(client: &Client) -> Result<u32, ChainError> {
	governed(client, "RetentionPeriod").await
}

/// The governed `MinAuditRate`, in parts per million.
pub async fn min_audit_rate(client: &Client) -> Result<u32, ChainError> {
	governed(client, "MinAuditRate").await
}

/// A governed parameter's current value (its default until a referendum set it), saturated to
/// `u32`.
async fn governed(client: &Client, name: &'static str) -> Result<u32, ChainError> {
	let parameters = crate::governance::parameters(client, None).await?;
	let value =
		crate::governance::find(&parameters, name).map(|info| info.current).map_err(|error| {
			ChainError::other(format!("reading {name}"))(subxt::Error::Other(error.to_string()))
		})?;
	Ok(u32::try_from(value).unwrap_or(u32::MAX))
}

/// The lowest price per replica at which `needed` online workers serve `model`, and at least
/// the model's floor and market price; `None` when fewer serve it at any price.
pub async fn lowest_serving_price(
	client: &Client,
	model: u32,
	needed: u32,
) -> Result<Option<u128>, ChainError> {
	let mut asks: Vec<u128> = workers(client)
		.await?
		.into_iter()
		.filter(|(_, worker)| worker.online && worker.models.0.contains(&model))
		.map(|(_, worker)| worker.price)
		.collect();
	asks.sort_unstable();
	let Some(&ask) = asks.get(needed.saturating_sub(1) as usize) else { return Ok(None) };
	let view = api::view_functions().jobs().price_quote(model, 1, ask, 1, 1);
	let quote: Option<ChainQuote<u128>> =
		chain::view(client, None, view).await.map_err(other("asking for a price quote"))?;
	Ok(quote.map(|quote| ask.max(quote.market_price)))
}

/// A registered worker, as stored.
pub type WorkerRecord = api::runtime_types::pallet_workers::WorkerInfo;

/// Every registered worker, by account.
pub async fn workers(client: &Client) -> Result<Vec<(AccountId32, WorkerRecord)>, ChainError> {
	let at = client.storage().at_latest().await.map_err(other("reading the chain"))?;
	let mut entries = at
		.iter(api::storage().workers().workers_iter())
		.await
		.map_err(other("reading the worker registry"))?;
	let mut workers = Vec::new();
	while let Some(entry) = entries.next().await {
		let entry = entry.map_err(other("reading the worker registry"))?;
		// The key ends with the account id itself (Blake2_128Concat).
		let Some(tail) = entry.key_bytes.len().checked_sub(32) else { continue };
		let mut account = [0u8; 32];
		account.copy_from_slice(&entry.key_bytes[tail..]);
		workers.push((AccountId32(account), entry.value));
	}
	workers.sort_by_key(|worker| worker.0 .0);
	Ok(workers)
}

/// An account's free balance.
pub async fn free_balance(client: &Client, who: &AccountId32) -> Result<u128, ChainError> {
	let at = client.storage().at_latest().await.map_err(other("reading the chain"))?;
	let account = at
		.fetch_or_default(&api::storage().system().account(who.clone()))
		.await
		.map_err(other("reading the balance"))?;
	Ok(account.data.free)
}

/// The number of the best block: a deadline counts from it, since the post is included after
/// it while the finalised head lags a few blocks behind.
pub async fn best_number(client: &Client) -> Result<u32, ChainError> {
	let mut best =
		client.blocks().subscribe_best().await.map_err(other("reading the best block"))?;
	match best.next().await {
		Some(block) => Ok(block.map_err(other("reading the best block"))?.number()),
		None => Err(ChainError::other("reading the best block")(subxt::Error::Other(
			"the node closed the subscription".into(),
		))),
	}
}

/// The number and hash of the last finalised block.
pub async fn finalized_head(client: &Client) -> Result<(u32, BlockHash), ChainError> {
	let block = client.blocks().at_latest().await.map_err(other("reading the chain head"))?;
	Ok((block.number(), block.hash()))
}

/// Where a job is on its way to a receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
	/// Included and finalised; escrow held.
	Posted {
		/// Its id.
		job: u64,
		/// The block it was posted in.
		block: u32,
	},
	/// Workers hold its seats (of round `round`: 0, then one more for each escalation).
	Assigned {
		/// The round.
		round: u8,
		/// The workers.
		workers: Vec<AccountId32>,
	},
	/// The reveals had no majority of the replicas: `seats` further seats will be drawn.
	Escalated {
		/// The round the new seats belong to.
		round: u8,
		/// How many.
		seats: u32,
	},
	/// `done` of `of` workers committed.
	Committed {
		/// Commitments so far.
		done: u32,
		/// Seats.
		of: u32,
	},
	/// `done` of `of` workers revealed.
	Revealed {
		/// Reveals so far.
		done: u32,
		/// Seats.
		of: u32,
	},
	/// The audit of an audited job was decided.
	AuditDecided {
		/// Whether an auditor is drawn.
		audited: bool,
	},
	/// Settled: see the receipt.
	Settled,
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
	/// A majority agreed.
	Accepted,
	/// No majority; refunded.
	NoQuorum,
	/// Nobody could be assigned in time; refunded.
	Expired,
	/// Cancelled while pending; refunded.
	Cancelled,
}

/// A slash of one of the job's workers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slash {
	/// The worker.
	pub worker: AccountId32,
	/// How much stake it lost.
	pub amount: u128,
	/// Why: a wrong result or a no-show.
	pub reason: String,
}

/// A settled job, as the chain's events say it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
	/// The job.
	pub job: u64,
	/// How it ended.
	pub outcome: Outcome,
	/// The block it settled in.
	pub settled_block: u32,
	/// That block's hash.
	pub settled_hash: BlockHash,
	/// The accepted output's hash, or the distinct hashes of a job without quorum.
	pub output_hashes: Vec<[u8; 32]>,
	/// Workers paid for the accepted output.
	pub agreeing_workers: Vec<AccountId32>,
	/// Paid to the workers in all.
	pub paid: u128,
	/// Protocol fee paid to the treasury.
	pub fee: u128,
	/// Escrow returned to the requester.
	pub refunded: u128,
	/// Workers slashed (their stake goes to the treasury).
	pub slashes: Vec<Slash>,
	/// The accepted output's token ids, while the chain retains them.
	pub output: Option<Vec<u32>>,
	/// How the answer was verified, from the job's record (while the chain retains it).
	pub verification: Option<Verification>,
}

/// How a job's answer was verified.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "level")]
pub enum Verification {
	/// `replicas` workers ran it and a majority agreed.
	Replicated {
		/// Replicas asked for.
		replicas: u32,
	},
	/// One worker ran it, audited at `rate` parts per million.
	Audited {
		/// The audit rate.
		rate: u32,
		/// Whether the audit happened (`None`: not decided, the job ended before).
		audited: Option<bool>,
		/// Who audited (the second seat), when it happened.
		auditor: Option<String>,
	},
}

impl Verification {
	/// From a job's record.
	pub fn of(record: &JobRecord) -> Self {
		use api::runtime_types::pallet_jobs::types::{Audit, Security};
		match record.security {
			Security::Replicated => Self::Replicated { replicas: record.replicas },
			Security::Audited { rate } => {
				let audited = match record.audit {
					Audit::Skipped => Some(false),
					Audit::Audited { .. } => Some(true),
					Audit::Undecided | Audit::Deciding { .. } => None,
				};
				let auditor = match audited {
					Some(true) => record.seats.0.get(1).map(|seat| chain::ss58(&seat.worker)),
					_ => None,
				};
				Self::Audited { rate, audited, auditor }
			},
		}
	}

	/// One line for people: `replicated, 3 replicas` or `audited at 5 % (by …)`.
	pub fn describe(&self) -> String {
		match self {
			Self::Replicated { replicas } => format!("replicated, {replicas} replicas agreeing"),
			Self::Audited { rate, audited, auditor } => {
				let percent = f64::from(*rate) / 10_000.0;
				let what = match (audited, auditor) {
					(Some(true), Some(auditor)) => format!("audited by {auditor}"),
					(Some(true), None) => "audited".to_string(),
					(Some(false), _) => "not audited this time".to_string(),
					(None, _) => "audit not decided".to_string(),
				};
				format!("audited at {percent} %: {what}")
			},
		}
	}
}

impl Receipt {
	fn new(job: u64, outcome: Outcome, settled_block: u32, settled_hash: BlockHash) -> Self {
		Self {
			job,
			outcome,
			settled_block,
			settled_hash,
			output_hashes: Vec::new(),
			agreeing_workers: Vec::new(),
			paid: 0,
			fee: 0,
			refunded: 0,
			slashes: Vec::new(),
			output: None,
			verification: None,
		}
	}
}

/// A posted job: its id, the block it was posted in, the transaction fee, and what is held.
#[derive(Clone, Debug)]
pub struct Posted {
	/// The job.
	pub job: u64,
	/// The block it was finalised in.
	pub block: u32,
	/// Escrow held (payment and protocol fee of every seat escalation may draw).
	pub escrow: u128,
	/// Storage deposit held.
	pub deposit: u128,
	/// Congestion surcharge paid to the treasury.
	pub surcharge: u128,
	/// The transaction fee paid for posting.
	pub tx_fee: u128,
	/// What the job was expected to cost when posted, with honest workers: the quote's
	/// `expected` (payments and fees of the runs, the audit at its rate, the surcharge).
	pub expected: u128,
}

/// Posts `request` (after [`check`]) and follows it until it settles or `timeout` passes,
/// reporting each stage.
pub async fn post_and_follow(
	client: &Client,
	requester: &impl Signer<CommonsConfig>,
	request: &JobRequest,
	timeout: std::time::Duration,
	mut on_stage: impl FnMut(&Stage),
) -> Result<(Posted, Receipt), MarketError> {
	let following = post(client, requester, request).await?;
	let posted = following.posted.clone();
	on_stage(&Stage::Posted { job: posted.job, block: posted.block });
	let receipt = following.follow(client, timeout, on_stage).await?;
	Ok((posted, receipt))
}

/// A posted job, with the finalised blocks from before its post, so that none of its events
/// is missed while it is followed.
pub struct Following {
	/// The post.
	pub posted: Posted,
	blocks: subxt::backend::StreamOfResults<subxt::blocks::Block<CommonsConfig, Client>>,
	seats: u32,
}

/// Checks `request` and posts it; returns once the post is finalised.
pub async fn post(
	client: &Client,
	requester: &impl Signer<CommonsConfig>,
	request: &JobRequest,
) -> Result<Following, MarketError> {
	let quote = check(client, requester, request).await?;
	check_workers(client, request).await?;
	submit(client, requester, request, &quote).await
}

/// Posts `request`, which [`check`] quoted as `quote`; returns once the post is finalised.
pub async fn submit(
	client: &Client,
	requester: &impl Signer<CommonsConfig>,
	request: &JobRequest,
	quote: &Quote,
) -> Result<Following, MarketError> {
	let blocks = client.blocks().subscribe_finalized().await.map_err(other("following blocks"))?;
	let best = best_number(client).await?;
	let included = chain::submit(client, requester, &post_call(request, best)).await?;
	let posted_event = included
		.events
		.find_first::<job_events::JobPosted>()
		.map_err(other("reading the post's events"))?
		.ok_or_else(|| ChainError::Dispatch {
			call: "Jobs.post_job".into(),
			error: "no JobPosted event".into(),
		})?;
	let tx_fee = included.fee_paid().unwrap_or_default();
	let post_block = included.block_number(client).await?;
	let posted = Posted {
		job: posted_event.job,
		block: post_block,
		escrow: posted_event.escrow,
		deposit: posted_event.deposit,
		surcharge: posted_event.surcharge,
		tx_fee,
		expected: quote.expected,
	};
	let seats = if request.audit_rate.is_some() { 1 } else { request.replicas };
	Ok(Following { posted, blocks, seats })
}

impl Following {
	/// Follows the job until it settles or `timeout` passes, reporting each stage after
	/// [`Stage::Posted`].
	pub async fn follow(
		self,
		client: &Client,
		timeout: std::time::Duration,
		mut on_stage: impl FnMut(&Stage),
	) -> Result<Receipt, MarketError> {
		let Following { posted, mut blocks, mut seats } = self;
		let (job, post_block) = (posted.job, posted.block);
		let deadline = tokio::time::Instant::now() + timeout;
		let (mut committed, mut revealed) = (0u32, 0u32);
		let mut slashes = Vec::new();
		let mut receipt: Option<Receipt> = None;
		loop {
			let next = tokio::time::timeout_at(deadline, blocks.next()).await;
			let block = match next {
				Err(_) => return Err(MarketError::Timeout { job, seconds: timeout.as_secs() }),
				Ok(None) => {
					return Err(ChainError::Unreachable {
						url: "the node".into(),
						source: Box::new(subxt::Error::Other(
							"the block subscription ended".into(),
						)),
					}
					.into())
				},
				Ok(Some(block)) => block.map_err(other("following blocks"))?,
			};
			if block.number() <= post_block {
				continue;
			}
			let events = block.events().await.map_err(other("reading events"))?;
			for event in events.iter() {
				let event = event.map_err(other("decoding events"))?;
				let Ok(event) = event.as_root_event::<api::Event>() else { continue };
				let api::Event::Jobs(event) = event else { continue };
				use api::jobs::Event as E;
				match event {
					E::JobAssigned { job: id, round, workers, .. } if id == job => {
						seats = workers.0.len() as u32;
						(committed, revealed) = (0, 0);
						on_stage(&Stage::Assigned { round, workers: workers.0 });
					},
					E::JobEscalated { job: id, round, seats } if id == job => {
						on_stage(&Stage::Escalated { round, seats });
					},
					E::AuditDecided { job: id, audited } if id == job => {
						on_stage(&Stage::AuditDecided { audited });
					},
					// A round's no-shows are slashed when it ends, before the verdict.
					E::WorkerSlashed { worker, job: id, amount, reason } if id == job => {
						slashes.push(Slash { worker, amount, reason: format!("{reason:?}") });
					},
					E::ResultCommitted { job: id, .. } if id == job => {
						committed += 1;
						on_stage(&Stage::Committed { done: committed, of: seats });
					},
					E::ResultRevealed { job: id, .. } if id == job => {
						revealed += 1;
						on_stage(&Stage::Revealed { done: revealed, of: seats });
					},
					other => {
						note_settlement(job, (block.number(), block.hash()), other, &mut receipt)
					},
				}
			}
			if let Some(mut receipt) = receipt {
				on_stage(&Stage::Settled);
				receipt.slashes = slashes;
				if receipt.outcome == Outcome::Accepted {
					receipt.output = accepted_output(client, block.hash(), job).await?;
				}
				receipt.verification = self::job(client, job).await?.as_ref().map(Verification::of);
				return Ok(receipt);
			}
		}
	}
}

/// Folds one of the chain's job events into the receipt of `job`, settled in block `number`:
/// the verdict starts it, refunds and slashes of the same block add to it.
fn note_settlement(
	job: u64,
	(number, hash): (u32, BlockHash),
	event: api::jobs::Event,
	receipt: &mut Option<Receipt>,
) {
	use api::jobs::Event as E;
	let settled = |outcome| Receipt::new(job, outcome, number, hash);
	match event {
		E::JobAccepted { job: id, output_hash, agreeing_workers, paid, fee } if id == job => {
			let mut accepted = settled(Outcome::Accepted);
			accepted.output_hashes = vec![output_hash];
			accepted.agreeing_workers = agreeing_workers.0;
			accepted.paid = paid;
			accepted.fee = fee;
			*receipt = Some(accepted);
		},
		E::JobNoQuorum { job: id, output_hashes } if id == job => {
			let mut no_quorum = settled(Outcome::NoQuorum);
			no_quorum.output_hashes = output_hashes.0;
			*receipt = Some(no_quorum);
		},
		E::JobExpired { job: id } if id == job => *receipt = Some(settled(Outcome::Expired)),
		E::JobCancelled { job: id, refunded } if id == job => {
			let mut cancelled = settled(Outcome::Cancelled);
			cancelled.refunded = refunded;
			*receipt = Some(cancelled);
		},
		E::EscrowRefunded { job: id, amount, .. } if id == job => {
			if let Some(receipt) = receipt.as_mut() {
				receipt.refunded += amount;
			}
		},
		E::WorkerSlashed { worker, job: id, amount, reason } if id == job => {
			if let Some(receipt) = receipt.as_mut() {
				receipt.slashes.push(Slash { worker, amount, reason: format!("{reason:?}") });
			}
		},
		_ => {},
	}
}

/// The receipt of `job` rebuilt from the events of block `number`, where it settled: what a
/// requester's `infer` printed, for anyone, later.
pub async fn settlement(
	client: &Client,
	url: &str,
	job: u64,
	number: u32,
) -> Result<Option<Receipt>, ChainError> {
	let hash = chain::block_hash(url, number).await?;
	let block = client.blocks().at(hash).await.map_err(other("reading the settlement block"))?;
	let events = block.events().await.map_err(other("reading events"))?;
	let mut receipt = None;
	for event in events.iter() {
		let event = event.map_err(other("decoding events"))?;
		if let Ok(api::Event::Jobs(event)) = event.as_root_event::<api::Event>() {
			note_settlement(job, (number, hash), event, &mut receipt);
		}
	}
	Ok(receipt)
}

/// The accepted output of `job` at block `at`, while the chain retains it.
pub async fn accepted_output(
	client: &Client,
	at: BlockHash,
	job: u64,
) -> Result<Option<Vec<u32>>, ChainError> {
	let output = chain::view(client, Some(at), api::view_functions().jobs().accepted_output(job))
		.await
		.map_err(other("reading the output"))?;
	Ok(output.map(|output| output.0))
}

/// A job's record, as stored now.
pub type JobRecord = api::runtime_types::pallet_jobs::types::Job;

/// A job's record at the latest block, if still stored.
pub async fn job(client: &Client, job: u64) -> Result<Option<JobRecord>, ChainError> {
	chain::view(client, None, api::view_functions().jobs().job(job))
		.await
		.map_err(other("reading the job"))
}

/// Why a cancellation is refused before anything is signed.
#[derive(Debug, thiserror::Error)]
pub enum CancelRefusal {
	/// No such record.
	#[error("no job {0} is stored (never posted, or its record was removed)")]
	NotFound(u64),
	/// Another account posted it.
	#[error("job {job} was posted by {requester}, not by this key")]
	NotRequester {
		/// The job.
		job: u64,
		/// Who posted it.
		requester: String,
	},
	/// Workers already hold it.
	#[error("job {job} is {status}: only a job still waiting for workers can be cancelled")]
	NotPending {
		/// The job.
		job: u64,
		/// Its status.
		status: &'static str,
	},
}

/// Cancels `job`, still pending, posted by `requester`; returns what came back. Checked first,
/// so a refused cancellation costs nothing.
pub async fn cancel(
	client: &Client,
	requester: &impl Signer<CommonsConfig>,
	job: u64,
) -> Result<u128, MarketError> {
	let record = self::job(client, job).await?.ok_or(CancelRefusal::NotFound(job))?;
	if record.requester != requester.account_id() {
		return Err(
			CancelRefusal::NotRequester { job, requester: chain::ss58(&record.requester) }.into()
		);
	}
	if record.status != JobStatus::Pending {
		return Err(CancelRefusal::NotPending { job, status: status_name(&record.status) }.into());
	}
	let included = chain::submit(client, requester, &api::tx().jobs().cancel_job(job)).await?;
	let cancelled = included
		.events
		.find_first::<job_events::JobCancelled>()
		.map_err(other("reading the cancellation's events"))?;
	Ok(cancelled.map(|event| event.refunded).unwrap_or_default())
}

/// Waits until `job` is settled (or its record is gone), following finalised blocks, for at
/// most `timeout`. Returns the record as settled, or `None` when no record is stored.
pub async fn wait_settled(
	client: &Client,
	job: u64,
	timeout: std::time::Duration,
) -> Result<Option<JobRecord>, MarketError> {
	let mut blocks =
		client.blocks().subscribe_finalized().await.map_err(other("following blocks"))?;
	let deadline = tokio::time::Instant::now() + timeout;
	loop {
		match self::job(client, job).await? {
			None => return Ok(None),
			Some(record) if matches!(record.status, JobStatus::Settled { .. }) => {
				return Ok(Some(record))
			},
			Some(_) => {},
		}
		match tokio::time::timeout_at(deadline, blocks.next()).await {
			Err(_) => return Err(MarketError::Timeout { job, seconds: timeout.as_secs() }),
			Ok(None) => {
				return Err(ChainError::other("following blocks")(subxt::Error::Other(
					"the node closed the subscription".into(),
				))
				.into())
			},
			Ok(Some(block)) => {
				block.map_err(other("following blocks"))?;
			},
		}
	}
}

/// The stored jobs `requester` posted, by id.
pub async fn jobs_of(
	client: &Client,
	requester: &AccountId32,
) -> Result<Vec<(u64, JobRecord)>, ChainError> {
	let at = client.storage().at_latest().await.map_err(other("reading the chain"))?;
	let mut entries =
		at.iter(api::storage().jobs().jobs_iter()).await.map_err(other("reading the jobs"))?;
	let mut jobs = Vec::new();
	while let Some(entry) = entries.next().await {
		let entry = entry.map_err(other("reading the jobs"))?;
		if entry.value.requester != *requester {
			continue;
		}
		// The key ends with the job id itself (Blake2_128Concat of a SCALE u64).
		let Some(tail) = entry.key_bytes.len().checked_sub(8) else { continue };
		let mut id = [0u8; 8];
		id.copy_from_slice(&entry.key_bytes[tail..]);
		jobs.push((u64::from_le_bytes(id), entry.value));
	}
	jobs.sort_by_key(|(id, _)| *id);
	Ok(jobs)
}

/// A job's status as a word.
pub fn status_name(status: &JobStatus<u32>) -> &'static str {
	match status {
		JobStatus::Pending => "pending",
		JobStatus::Escalating { .. } => "escalating",
		JobStatus::Assigned { .. } => "assigned",
		JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. } => "accepted",
		JobStatus::Settled { verdict: Verdict::NoQuorum, .. } => "no quorum",
		JobStatus::Settled { verdict: Verdict::Expired, .. } => "expired",
	}
}
