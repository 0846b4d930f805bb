//! The market commands of `commons`: infer, job show, models list, workers list.

use std::{path::Path, time::Duration};

use commons_client::{
	amount::format_amount,
	chain::{self, api, ChainError, Client, ModelInfo, ModelLookup},
	market::{self, JobRequest, MarketError, Outcome, Receipt, Stage},
	model_files::{self, Tokenizers},
	Error, Keypair,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

/// A failure and the exit code scripts see.
pub struct Failure {
	/// The exit code.
	pub code: u8,
	/// What went wrong.
	pub error: anyhow::Error,
}

/// Exit code of a job that settled without an accepted answer (no quorum, expired).
pub const NOT_ACCEPTED: u8 = 6;
/// Exit code of a job that did not settle in time.
pub const TIMED_OUT: u8 = 7;

impl From<Error> for Failure {
	fn from(error: Error) -> Self {
		// A key or address that does not parse is bad input: nothing was signed.
		Self { code: 2, error: error.into() }
	}
}

impl From<ChainError> for Failure {
	fn from(error: ChainError) -> Self {
		let code = match &error {
			ChainError::Unreachable { .. } => 3,
			ChainError::Dispatch { .. } => 5,
			// The node refused a request (a transaction it rejected): 4; the connection
			// failed: 3, as when the node is unreachable.
			other if other.is_node_answer() => 4,
			other if other.is_connection() => 3,
			ChainError::Other { .. } => 1,
		};
		Self { code, error: error.into() }
	}
}

impl From<MarketError> for Failure {
	fn from(error: MarketError) -> Self {
		match error {
			MarketError::Refused(_) | MarketError::CancelRefused(_) => {
				Self { code: 2, error: error.into() }
			},
			MarketError::Lookup(ModelLookup::Unknown(_)) => Self { code: 2, error: error.into() },
			MarketError::Lookup(ModelLookup::Chain(error)) | MarketError::Chain(error) => {
				error.into()
			},
			MarketError::Timeout { .. } => Self { code: TIMED_OUT, error: error.into() },
		}
	}
}

impl From<anyhow::Error> for Failure {
	fn from(error: anyhow::Error) -> Self {
		Self { code: 1, error }
	}
}

/// What `commons infer` was asked.
pub struct InferArgs {
	/// Model id or name.
	pub model: String,
	/// The request, model id filled in after lookup.
	pub request: JobRequest,
	/// The requester's key.
	pub key: Keypair,
	/// The models' tokenizers, to turn token ids into text.
	pub tokenizers: Tokenizers,
	/// How long to wait for settlement.
	pub timeout: Duration,
	/// Only check and quote; sign nothing.
	pub dry_run: bool,
}

/// `commons infer`: check, post, follow with a progress display, print the answer and receipt.
pub async fn infer(client: &Client, args: InferArgs, json_out: bool) -> Result<(), Failure> {
	let InferArgs { model, mut request, key, tokenizers, timeout, dry_run } = args;
	let (model, info) = chain::resolve_model(client, &model).await.map_err(MarketError::from)?;
	request.model = model;
	if dry_run {
		let quote = market::check(client, &key, &request).await?;
		let workers = market::check_workers(client, &request).await;
		print_quote(&quote, workers.as_ref().err(), json_out);
		return Ok(());
	}
	let requester = chain::account(&key.account_id());
	let before = market::free_balance(client, &requester).await?;

	let progress = if json_out { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
	// A bar without a terminal is hidden and drops its lines: print them plainly then, unless
	// stdout is one JSON document.
	let say = |line: String| match (json_out, progress.is_hidden()) {
		(true, _) => {},
		(false, true) => eprintln!("{line}"),
		(false, false) => progress.println(line),
	};
	progress.set_style(
		ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}")
			.unwrap_or_else(|_| ProgressStyle::default_spinner()),
	);
	progress.enable_steady_tick(Duration::from_millis(120));
	progress.set_message(format!("posting to model {model} ({})", chain::model_name(&info)));
	let (posted, receipt) =
		market::post_and_follow(client, &key, &request, timeout, |stage| match stage {
			Stage::Posted { job, block } => {
				say(format!("posted     job {job} in block #{block}"));
				progress.set_message("waiting for workers to be assigned");
			},
			Stage::Assigned { workers, .. } => {
				let names: Vec<_> = workers.iter().map(chain::ss58).collect();
				say(format!("assigned   {}", names.join(", ")));
				progress.set_message("workers are running the model");
			},
			Stage::Escalated { round, seats } => {
				say(format!("escalated  no majority yet: {seats} more seats (round {round})"));
				progress.set_message("waiting for further workers to be assigned");
			},
			Stage::AuditDecided { audited } => {
				let decided = if *audited { "an auditor will check it" } else { "not audited" };
				say(format!("audit      {decided}"));
				progress.set_message(if *audited {
					"waiting for the auditor"
				} else {
					"waiting for the reveal"
				});
			},
			Stage::Committed { done, of } => {
				say(format!("committed  {done}/{of}"));
				progress.set_message("waiting for commitments");
			},
			Stage::Revealed { done, of } => {
				say(format!("revealed   {done}/{of}"));
				progress.set_message("waiting for reveals");
			},
			Stage::Settled => progress.set_message("settled"),
		})
		.await?;
	progress.finish_and_clear();
	let after = market::free_balance(client, &requester).await?;

	// The receipt is complete before any decoding: a tokenizer that cannot be had is a note
	// beside it, never a failure that hides what was paid.
	let text = receipt.output.as_deref().map(|tokens| decode(&tokenizers, &info, tokens));
	print_receipt(&receipt, text.as_ref(), json_out, |value| {
		value["posted_block"] = json!(posted.block);
		value["escrow"] = json!(posted.escrow.to_string());
		value["deposit_held"] = json!(posted.deposit.to_string());
		value["surcharge"] = json!(posted.surcharge.to_string());
		value["transaction_fee"] = json!(posted.tx_fee.to_string());
		value["expected_cost"] = json!(posted.expected.to_string());
		value["balance_before"] = json!(before.to_string());
		value["balance_after"] = json!(after.to_string());
	});
	if !json_out {
		println!("deposit    {} held until the record is removed", format_amount(posted.deposit));
		println!("tx fee     {}", format_amount(posted.tx_fee));
		println!(
			"expected   {} for the runs, as quoted when posted",
			format_amount(posted.expected)
		);
		let change = i128::try_from(after).unwrap_or(i128::MAX)
			- i128::try_from(before).unwrap_or(i128::MAX);
		let sign = if change < 0 { "-" } else { "+" };
		println!("balance    {sign}{}", format_amount(change.unsigned_abs()));
	}
	if receipt.outcome == Outcome::Accepted {
		Ok(())
	} else {
		Err(Failure {
			code: NOT_ACCEPTED,
			error: anyhow::anyhow!("job {} was not accepted: {:?}", receipt.job, receipt.outcome),
		})
	}
}

/// What a checked request would hold and is expected to cost, and why posting it now would
/// still be refused (no workers serve it at the price), if so.
fn print_quote(quote: &market::Quote, unserved: Option<&MarketError>, json_out: bool) {
	if json_out {
		println!(
			"{}",
			json!({
				"dry_run": true,
				"unserved": unserved.map(ToString::to_string),
				"payment": quote.payment.to_string(),
				"fee": quote.fee.to_string(),
				"escalation": quote.escalation.to_string(),
				"surcharge": quote.surcharge.to_string(),
				"deposit": quote.deposit.to_string(),
				"total": quote.total.to_string(),
				"expected": quote.expected.to_string(),
			})
		);
		return;
	}
	println!("payment    {} to the first seats", format_amount(quote.payment));
	println!("fee        {} protocol fee", format_amount(quote.fee));
	println!(
		"escalation {} held for further seats, returned unless used",
		format_amount(quote.escalation)
	);
	println!("surcharge  {}", format_amount(quote.surcharge));
	println!("deposit    {} held until the record is removed", format_amount(quote.deposit));
	println!("holds      {} in all, plus the transaction fee", format_amount(quote.total));
	println!(
		"expected   {} with honest workers (nothing was signed)",
		format_amount(quote.expected)
	);
	if let Some(unserved) = unserved {
		println!("warning    posting now would be refused: {unserved}");
	}
}

/// Token ids to text with the model's own tokenizer, or why they cannot be.
fn decode(tokenizers: &Tokenizers, info: &ModelInfo, tokens: &[u32]) -> Result<String, String> {
	let tokenizer =
		tokenizers.load(&model_files::hashes(info)).map_err(|error| error.to_string())?;
	tokenizer.decode(tokens).map_err(|error| format!("the tokens do not decode: {error}"))
}

fn print_receipt(
	receipt: &Receipt,
	text: Option<&Result<String, String>>,
	json_out: bool,
	extra: impl FnOnce(&mut serde_json::Value),
) {
	let hashes: Vec<String> = receipt.output_hashes.iter().map(hex::encode).collect();
	let agreeing: Vec<String> = receipt.agreeing_workers.iter().map(chain::ss58).collect();
	if json_out {
		let slashes = slashes_json(&receipt.slashes);
		let mut value = json!({
			"job": receipt.job,
			"outcome": receipt.outcome,
			"settled_block": receipt.settled_block,
			"output_hashes": hashes,
			"agreeing_workers": agreeing,
			"paid": receipt.paid.to_string(),
			"fee": receipt.fee.to_string(),
			"refunded": receipt.refunded.to_string(),
			"slashes": slashes,
			"tokens": receipt.output,
			"text": text.and_then(|text| text.as_ref().ok()),
			"text_unavailable": text.and_then(|text| text.as_ref().err()),
			"verification": receipt.verification,
		});
		extra(&mut value);
		println!("{value}");
		return;
	}
	match (text, &receipt.output) {
		(Some(Ok(text)), _) => println!("{}\n", text.trim()),
		(Some(Err(why)), Some(tokens)) => println!("token ids {tokens:?}\n({why})\n"),
		_ => {},
	}
	println!("job        {}", receipt.job);
	println!("outcome    {:?}", receipt.outcome);
	println!("settled    block #{}", receipt.settled_block);
	for hash in &hashes {
		println!("output     0x{hash}");
	}
	for worker in &agreeing {
		println!("agreed     {worker}");
	}
	if let Some(verification) = &receipt.verification {
		println!("verified   {}", verification.describe());
	}
	println!(
		"paid       {} to workers, {} protocol fee",
		format_amount(receipt.paid),
		format_amount(receipt.fee)
	);
	println!("refunded   {}", format_amount(receipt.refunded));
	for slash in &receipt.slashes {
		println!(
			"slashed    {} {} ({})",
			chain::ss58(&slash.worker),
			format_amount(slash.amount),
			slash.reason
		);
	}
}

fn slashes_json(slashes: &[market::Slash]) -> Vec<serde_json::Value> {
	slashes
		.iter()
		.map(|slash| {
			json!({
				"worker": chain::ss58(&slash.worker),
				"amount": slash.amount.to_string(),
				"reason": slash.reason,
			})
		})
		.collect()
}

/// `commons job show`: a job's record as stored now, with the slashes of its settlement.
pub async fn job_show(
	client: &Client,
	url: &str,
	tokenizers: &Tokenizers,
	job: u64,
	json_out: bool,
) -> Result<(), Failure> {
	let Some(record) = market::job(client, job).await? else {
		return Err(Failure {
			code: 2,
			error: anyhow::anyhow!(
				"no job {job} is stored: never posted, cancelled or expired, or removed after the \
				 retention period (the governed RetentionPeriod, {} blocks); its receipt stays \
				 in the events of the block it settled in, which an archive node keeps",
				market::retention_period(client).await.unwrap_or_default()
			),
		});
	};
	use api::runtime_types::pallet_jobs::types::{JobStatus, Verdict};
	let output = match &record.status {
		JobStatus::Settled { verdict: Verdict::Accepted { .. }, .. } => {
			let (_, head) = market::finalized_head(client).await?;
			market::accepted_output(client, head, job).await?
		},
		_ => None,
	};
	let seats: Vec<_> = record
		.seats
		.0
		.iter()
		.map(|seat| {
			json!({
				"worker": chain::ss58(&seat.worker),
				"committed": seat.commitment.is_some(),
				"revealed": seat.revealed.map(hex::encode),
			})
		})
		.collect();
	let (settled_at, output_hash) = match &record.status {
		JobStatus::Settled { at, verdict } => (
			Some(*at),
			match verdict {
				Verdict::Accepted { output_hash } => Some(hex::encode(output_hash)),
				_ => None,
			},
		),
		_ => (None, None),
	};
	// Slashes and amounts are events of the settlement block, not part of the record. A node
	// that prunes state (256 blocks by default) no longer has them: the record still says what
	// was verified, and the note says where the rest went.
	let (settlement, events_note) = match settled_at {
		Some(at) => match market::settlement(client, url, job, at).await {
			Ok(receipt) => (receipt, None),
			Err(error) if error.is_connection() => return Err(error.into()),
			Err(error) => (
				None,
				Some(format!(
					"the settlement block #{at}'s events are not available on this node ({error}); \
					 an archive node keeps them"
				)),
			),
		},
		None => (None, None),
	};
	let slashes = match &settlement {
		Some(receipt) => receipt.slashes.clone(),
		None => Vec::new(),
	};
	let text = match &output {
		Some(tokens) => match chain::model(client, record.model).await? {
			Some(info) => Some(decode(tokenizers, &info, tokens)),
			None => Some(Err(format!("model {} is no longer registered", record.model))),
		},
		None => None,
	};
	let value = json!({
		"job": job,
		"status": market::status_name(&record.status),
		"requester": chain::ss58(&record.requester),
		"model": record.model,
		"prompt": prompt_json(&record.prompt.0),
		"max_tokens": record.max_tokens,
		"replicas": record.replicas,
		"verification": market::Verification::of(&record),
		"price_per_replica": record.price_per_replica.to_string(),
		"posted_at": record.posted_at,
		"deadline": record.deadline,
		"settled_at": settled_at,
		"output_hash": output_hash,
		"seats": seats,
		"tokens": output,
		"text": text.as_ref().and_then(|text| text.as_ref().ok()),
		"text_unavailable": text.as_ref().and_then(|text| text.as_ref().err()),
		"slashes": slashes_json(&slashes),
		"paid": settlement.as_ref().map(|receipt| receipt.paid.to_string()),
		"refunded": settlement.as_ref().map(|receipt| receipt.refunded.to_string()),
		"events_note": events_note,
	});
	if json_out {
		println!("{value}");
	} else {
		println!("job        {job}");
		println!("status     {}", market::status_name(&record.status));
		println!("requester  {}", chain::ss58(&record.requester));
		println!("model      {}", record.model);
		println!("prompt     {}", value["prompt"]);
		println!("price      {} x {}", format_amount(record.price_per_replica), record.replicas);
		println!("verified   {}", market::Verification::of(&record).describe());
		println!("posted     block #{}", record.posted_at);
		if let Some(at) = settled_at {
			println!("settled    block #{at}");
		}
		if let Some(hash) = output_hash {
			println!("output     0x{hash}");
		}
		for seat in &record.seats.0 {
			let state = match (&seat.commitment, &seat.revealed) {
				(_, Some(hash)) => format!("revealed 0x{}", hex::encode(hash)),
				(Some(_), None) => "committed".to_string(),
				(None, None) => "waiting".to_string(),
			};
			println!("seat       {} {state}", chain::ss58(&seat.worker));
		}
		if let Some(receipt) = &settlement {
			println!("paid       {} to workers", format_amount(receipt.paid));
			println!("refunded   {}", format_amount(receipt.refunded));
		}
		for slash in &slashes {
			println!(
				"slashed    {} {} ({})",
				chain::ss58(&slash.worker),
				format_amount(slash.amount),
				slash.reason
			);
		}
		if let Some(tokens) = output {
			println!("tokens     {tokens:?}");
		}
		match &text {
			Some(Ok(text)) => println!("text       {}", text.trim()),
			Some(Err(why)) => println!("text       not shown: {why}"),
			None => {},
		}
		if let Some(note) = value["events_note"].as_str() {
			println!("note       {note}");
		}
	}
	Ok(())
}

/// `commons job list --requester …`: the stored jobs an account posted.
pub async fn job_list(
	client: &Client,
	requester: &subxt::utils::AccountId32,
	json_out: bool,
) -> Result<(), Failure> {
	let jobs = market::jobs_of(client, requester).await?;
	if json_out {
		let list: Vec<_> = jobs
			.iter()
			.map(|(id, record)| {
				json!({
					"job": id,
					"status": market::status_name(&record.status),
					"model": record.model,
					"posted_at": record.posted_at,
					"price_per_replica": record.price_per_replica.to_string(),
					"verification": market::Verification::of(record),
				})
			})
			.collect();
		println!("{}", json!(list));
	} else {
		for (id, record) in &jobs {
			println!(
				"job {id:<6} {:<11} model {} posted at #{} {}",
				market::status_name(&record.status),
				record.model,
				record.posted_at,
				market::Verification::of(record).describe()
			);
		}
	}
	Ok(())
}

/// A job's prompt: its text, or its conversation's messages.
fn prompt_json(bytes: &[u8]) -> serde_json::Value {
	use commons_primitives::prompt::{parse, Prompt, Role};
	match parse(bytes) {
		Ok(Prompt::Conversation(messages)) => messages
			.iter()
			.map(|message| {
				let role = match message.role {
					Role::System => "system",
					Role::User => "user",
					Role::Assistant => "assistant",
				};
				json!({ "role": role, "content": String::from_utf8_lossy(&message.content) })
			})
			.collect(),
		_ => json!(String::from_utf8_lossy(bytes)),
	}
}

/// `commons models list`.
pub async fn models_list(client: &Client, json_out: bool) -> Result<(), Failure> {
	let models = chain::models(client).await?;
	if json_out {
		let list: Vec<_> = models
			.iter()
			.map(|(id, info)| {
				json!({
					"id": id,
					"name": chain::model_name(info),
					"status": format!("{:?}", info.status),
					"sha256": hex::encode(info.spec.weights_sha256),
					"tokenizer_hash": hex::encode(info.spec.tokenizer_hash),
					"size": info.spec.weights_size,
					"engine_version": info.spec.engine_version,
					"min_price": info.spec.min_price.to_string(),
					// Jobs posted for it may be live until this block: no deregistration before.
					"reserved_until": info.reserved_until,
				})
			})
			.collect();
		println!("{}", json!(list));
	} else {
		for (id, info) in &models {
			println!(
				"{id:>3}  {:<28} {:<10} floor {:<12} sha256 {}",
				chain::model_name(info),
				format!("{:?}", info.status),
				format_amount(info.spec.min_price),
				hex::encode(info.spec.weights_sha256)
			);
		}
	}
	Ok(())
}

/// `commons workers list`: every registered worker with its stake and reputation.
pub async fn workers_list(client: &Client, json_out: bool) -> Result<(), Failure> {
	let workers = market::workers(client).await?;
	if json_out {
		let list: Vec<_> = workers
			.iter()
			.map(|(account, info)| {
				json!({
					"worker": chain::ss58(account),
					"bonded": info.bonded.to_string(),
					"models": info.models.0,
					"price": info.price.to_string(),
					"online": info.online,
					"live_jobs": info.live_jobs.0,
					"accepted": info.reputation.accepted,
					"wrong": info.reputation.wrong,
					"no_show": info.reputation.no_show,
				})
			})
			.collect();
		println!("{}", json!(list));
	} else {
		for (account, info) in &workers {
			println!(
				"{}  bonded {:<14} price {:<10} models {:?} {} accepted {} wrong {} no-show {}",
				chain::ss58(account),
				format_amount(info.bonded),
				format_amount(info.price),
				info.models.0,
				if info.online { "online " } else { "offline" },
				info.reputation.accepted,
				info.reputation.wrong,
				info.reputation.no_show
			);
		}
	}
	Ok(())
}

/// Exit code of a receipt that does not verify.
pub const NOT_VERIFIED: u8 = 8;

/// `commons job verify N`: recomputes the accepted output hash from the stored tokens, and
/// counts the seats that revealed it against the quorum the chain required.
pub async fn job_verify(client: &Client, job: u64, json_out: bool) -> Result<(), Failure> {
	use api::runtime_types::pallet_jobs::types::{Audit, JobStatus, Verdict};
	let refused = |why: String| Failure { code: 2, error: anyhow::anyhow!(why) };
	let Some(record) = market::job(client, job).await? else {
		return Err(refused(format!(
			"no job {job} is stored: its tokens are kept for the retention period ({} blocks) \
			 after settlement",
			market::retention_period(client).await.unwrap_or_default()
		)));
	};
	let accepted = match &record.status {
		JobStatus::Settled { verdict: Verdict::Accepted { output_hash }, .. } => *output_hash,
		JobStatus::Settled { verdict, .. } => {
			return Err(refused(format!(
				"job {job} settled without an accepted answer: {verdict:?}"
			)))
		},
		other => {
			return Err(refused(format!(
				"job {job} is {}: only a settled job has a receipt",
				market::status_name(other)
			)))
		},
	};
	let (_, head) = market::finalized_head(client).await?;
	let Some(tokens) = market::accepted_output(client, head, job).await? else {
		return Err(refused(format!("job {job}'s tokens are not stored any more")));
	};
	let recomputed = commons_primitives::output_hash(record.engine_version, record.model, &tokens);
	let agreeing: Vec<String> = record
		.seats
		.0
		.iter()
		.filter(|seat| seat.revealed == Some(accepted))
		.map(|seat| chain::ss58(&seat.worker))
		.collect();
	// The chain's rule: a majority of the replicas, or worker and auditor once audited.
	let quorum = match record.audit {
		Audit::Audited { .. } => 2,
		_ => record.replicas / 2 + 1,
	};
	let hash_matches = recomputed == accepted;
	let quorum_met = u32::try_from(agreeing.len()).unwrap_or(u32::MAX) >= quorum;
	let verified = hash_matches && quorum_met;
	if json_out {
		println!(
			"{}",
			json!({
				"job": job,
				"verified": verified,
				"output_hash": hex::encode(accepted),
				"recomputed_hash": hex::encode(recomputed),
				"engine_version": record.engine_version,
				"model": record.model,
				"tokens": tokens.len(),
				"agreeing_workers": agreeing,
				"quorum": quorum,
			})
		);
	} else {
		let mark = |ok: bool| if ok { "ok  " } else { "FAIL" };
		println!(
			"{} the {} stored tokens hash to the accepted output 0x{} (engine {}, model {})",
			mark(hash_matches),
			tokens.len(),
			hex::encode(accepted),
			record.engine_version,
			record.model
		);
		println!(
			"{} {} seats revealed it; the quorum is {quorum}",
			mark(quorum_met),
			agreeing.len()
		);
		for worker in &agreeing {
			println!("     {worker}");
		}
	}
	if verified {
		Ok(())
	} else {
		Err(Failure {
			code: NOT_VERIFIED,
			error: anyhow::anyhow!("job {job}'s receipt does not verify"),
		})
	}
}

/// `commons models fetch MODEL [--from FILE]`: caches the model's tokenizer after checking
/// the file against the registry.
pub async fn models_fetch(
	client: &Client,
	tokenizers: &Tokenizers,
	model: &str,
	from: Option<&Path>,
	json_out: bool,
) -> Result<(), Failure> {
	let (id, info) = chain::resolve_model(client, model).await.map_err(MarketError::from)?;
	let hashes = model_files::hashes(&info);
	let refused = |error: model_files::ModelFileError| Failure { code: 2, error: error.into() };
	let source = match from {
		Some(path) => tokenizers.import(&hashes, path).map_err(refused)?.1,
		None => {
			let cached = tokenizers.is_cached(&hashes.weights);
			tokenizers.load(&hashes).map_err(refused)?;
			if cached {
				model_files::Source::Cache
			} else {
				model_files::Source::ModelFile
			}
		},
	};
	let name = chain::model_name(&info);
	let source = match source {
		model_files::Source::Cache => "already cached",
		model_files::Source::ModelFile => "extracted from the model file",
		model_files::Source::TokenizerImage => "imported from a tokenizer image",
	};
	report(json_out, json!({ "model": id, "name": name, "tokenizer": source }), || {
		format!("model {id} ({name}): tokenizer {source}; its answers decode here")
	});
	Ok(())
}

/// `commons models tokenizer-hash FILE [--write IMAGE]`.
pub fn tokenizer_hash(file: &Path, write: Option<&Path>, json_out: bool) -> Result<(), Failure> {
	let refused = |error: anyhow::Error| Failure { code: 2, error };
	let opened = commons_gguf::gguf::GgufFile::open(file).map_err(|error| refused(error.into()))?;
	let image = commons_gguf::tokenizer::tokenizer_image(&opened);
	// Only an image that builds a tokenizer is worth a hash.
	commons_gguf::tokenizer::Tokenizer::from_gguf(&opened)
		.map_err(|error| refused(error.into()))?;
	let hash = hex::encode(commons_gguf::sha256(&image));
	if let Some(path) = write {
		std::fs::write(path, &image)
			.map_err(|error| refused(anyhow::anyhow!("{}: {error}", path.display())))?;
	}
	report(json_out, json!({ "tokenizer_hash": hash, "bytes": image.len() }), || {
		format!("tokenizer_hash 0x{hash} ({} bytes)", image.len())
	});
	Ok(())
}

/// Prints `value` as JSON, or `text()` for people.
pub fn report(json_out: bool, value: serde_json::Value, text: impl FnOnce() -> String) {
	if json_out {
		println!("{value}");
	} else {
		println!("{}", text());
	}
}
