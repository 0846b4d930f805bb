//! `commons gateway`: an OpenAI-style HTTP API that pays for inference from one key.
//!
//! An agent points any OpenAI client at it. Each chat completion becomes one job on chain
//! (docs/gateway.md): the conversation is the job's prompt, the answer is the verified output,
//! and the response carries the job's receipt in a `commons` object. Spending is bounded per
//! job and in all, so that a runaway client cannot drain the key; both bounds are checked
//! before anything is signed.

pub mod openai;

use std::{
	collections::HashMap,
	convert::Infallible,
	net::SocketAddr,
	sync::{Arc, Mutex},
	time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
	body::Bytes,
	extract::State,
	http::{HeaderMap, StatusCode},
	response::{
		sse::{Event, KeepAlive, Sse},
		IntoResponse, Response,
	},
	routing::{get, post},
	Json, Router,
};
use commons_gguf::tokenizer::{Role as TemplateRole, Tokenizer};
use commons_primitives::prompt::encode_conversation;
use serde_json::{json, Value};
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::{
	amount::format_amount,
	chain::{self, api::runtime_types::commons_primitives::ModelStatus, ChainError, Client},
	market::{self, JobRequest, MarketError, Outcome, Posted, Receipt, Refusal, Stage},
	model_files::{self, ModelHashes, Tokenizers},
	Keypair,
};
use openai::{ApiError, ChatJob, ChatRequest};

/// How a gateway runs.
pub struct Config {
	/// Where it listens.
	pub listen: SocketAddr,
	/// The node's WebSocket RPC address.
	pub url: String,
	/// The key that pays.
	pub key: Keypair,
	/// The models' tokenizers, cached or extracted from model files.
	pub tokenizers: Tokenizers,
	/// Replicas per job (ignored with `audit_rate`).
	pub replicas: u32,
	/// Audited jobs at this rate (parts per million) instead of replicated ones.
	pub audit_rate: Option<u32>,
	/// Price per replica; `None`: the lowest at which enough online workers serve the model.
	pub price: Option<u128>,
	/// The most one job may cost: its escrow, surcharge and transaction fee.
	pub max_job_cost: u128,
	/// The most all jobs of this gateway may cost together.
	pub budget: u128,
	/// Max tokens when a request names none.
	pub default_max_tokens: u32,
	/// Blocks within which workers must be assigned.
	pub deadline_blocks: u32,
	/// How long a request waits for its job to settle.
	pub timeout: Duration,
	/// A bearer token clients must present; required to listen beyond the loopback interface.
	pub api_key: Option<String>,
}

/// What the gateway has committed to spend: settled jobs at their cost, live ones at the most
/// they can cost.
#[derive(Debug, Default, Clone, Copy)]
struct Ledger {
	spent: u128,
	reserved: u128,
}

struct Gateway {
	config: Config,
	client: Arc<tokio::sync::Mutex<Option<Client>>>,
	/// Posts go one at a time: each takes the nonce after the previous, finalised one.
	posting: tokio::sync::Mutex<()>,
	ledger: Mutex<Ledger>,
	tokenizers: Mutex<HashMap<[u8; 32], Arc<Tokenizer>>>,
}

/// Runs the gateway until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
	if !config.listen.ip().is_loopback() && config.api_key.is_none() {
		anyhow::bail!(
			"refusing to listen on {} without an API key: anyone who reaches it could spend \
			 the key's funds (set --api-key, or listen on 127.0.0.1)",
			config.listen
		);
	}
	let listener = tokio::net::TcpListener::bind(config.listen)
		.await
		.map_err(|error| anyhow::anyhow!("cannot listen on {}: {error}", config.listen))?;
	let address = listener.local_addr()?;
	let payer = chain::ss58(&chain::account(&config.key.account_id()));
	let gateway = Arc::new(Gateway {
		config,
		client: Arc::new(tokio::sync::Mutex::new(None)),
		posting: tokio::sync::Mutex::new(()),
		ledger: Mutex::new(Ledger::default()),
		tokenizers: Mutex::new(HashMap::new()),
	});
	// Connect now so that a wrong address shows at start, not at the first request.
	if let Err(error) = gateway.client().await {
		tracing::warn!("{}", error.message);
	}
	let app = Router::new()
		.route("/v1/models", get(list_models))
		.route("/v1/chat/completions", post(chat_completions))
		.with_state(gateway.clone());
	tracing::info!(
		"gateway listening on http://{address}/v1, paying from {payer}, budget {}, at most {} \
		 per job",
		format_amount(gateway.config.budget),
		format_amount(gateway.config.max_job_cost)
	);
	// Printed for scripts and tests that start the gateway on port 0.
	println!("listening on http://{address}/v1");
	axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
	Ok(())
}

async fn shutdown() {
	let interrupt = tokio::signal::ctrl_c();
	#[cfg(unix)]
	{
		let mut terminate =
			match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
				Ok(signal) => signal,
				Err(_) => return std::future::pending().await,
			};
		tokio::select! {
			_ = interrupt => {},
			_ = terminate.recv() => {},
		}
	}
	#[cfg(not(unix))]
	let _ = interrupt.await;
}

fn unreachable_node(error: &ChainError) -> ApiError {
	ApiError::new(
		StatusCode::SERVICE_UNAVAILABLE,
		"api_error",
		"node_unreachable",
		format!("the Commons node is unreachable: {error}"),
	)
}

impl Gateway {
	/// The node connection, made again after a connection failure.
	async fn client(&self) -> Result<Client, ApiError> {
		let mut slot = self.client.lock().await;
		if let Some(client) = slot.as_ref() {
			return Ok(client.clone());
		}
		let client =
			chain::connect(&self.config.url).await.map_err(|error| unreachable_node(&error))?;
		// Requests sign and decode for the runtime in force across upgrades; when following
		// fails, the connection is forgotten and made again (which reads the runtime afresh).
		let (following, gateway_client) = (client.clone(), self.client.clone());
		tokio::spawn(async move {
			let upgraded = |version: subxt::client::RuntimeVersion| {
				tracing::info!("the runtime is now spec version {}", version.spec_version)
			};
			if let Err(error) = chain::follow_runtime_upgrades(following, upgraded).await {
				tracing::warn!("stopped following runtime upgrades: {error}; reconnecting");
			}
			*gateway_client.lock().await = None;
		});
		*slot = Some(client.clone());
		Ok(client)
	}

	/// Forgets the connection after `error` if it was the connection that failed.
	async fn note(&self, error: &ChainError) {
		if error.is_connection() {
			*self.client.lock().await = None;
		}
	}

	fn authorise(&self, headers: &HeaderMap) -> Result<(), ApiError> {
		let Some(expected) = &self.config.api_key else { return Ok(()) };
		let given = headers
			.get(axum::http::header::AUTHORIZATION)
			.and_then(|value| value.to_str().ok())
			.and_then(|value| value.strip_prefix("Bearer "));
		if given == Some(expected.as_str()) {
			Ok(())
		} else {
			Err(ApiError::new(
				StatusCode::UNAUTHORIZED,
				"invalid_request_error",
				"invalid_api_key",
				"missing or wrong API key (Authorization: Bearer …)",
			))
		}
	}

	/// The tokenizer of the model pinned by `hashes`, loaded once.
	fn tokenizer(&self, hashes: &ModelHashes, name: &str) -> Result<Arc<Tokenizer>, ApiError> {
		let weights = &hashes.weights;
		if let Some(tokenizer) =
			self.tokenizers.lock().ok().and_then(|map| map.get(weights).cloned())
		{
			return Ok(tokenizer);
		}
		let unavailable = |detail: String| {
			ApiError::new(
				StatusCode::SERVICE_UNAVAILABLE,
				"api_error",
				"tokenizer_unavailable",
				format!(
					"the gateway cannot read model {name}'s tokenizer ({detail}); nothing was \
					 signed"
				),
			)
		};
		let tokenizer = Arc::new(
			self.config.tokenizers.load(hashes).map_err(|error| unavailable(error.to_string()))?,
		);
		if let Ok(mut map) = self.tokenizers.lock() {
			map.insert(*weights, tokenizer.clone());
		}
		Ok(tokenizer)
	}

	/// Reserves `cost` of the budget, or refuses.
	fn reserve(&self, cost: u128) -> Result<(), ApiError> {
		let mut ledger = self.ledger.lock().map_err(|_| internal("the spending ledger"))?;
		let committed = ledger.spent.saturating_add(ledger.reserved);
		let left = self.config.budget.saturating_sub(committed);
		if cost > left {
			return Err(ApiError::new(
				StatusCode::PAYMENT_REQUIRED,
				"insufficient_quota",
				"budget_exceeded",
				format!(
					"the job could cost up to {} but only {} of this gateway's budget of {} is \
					 left; nothing was signed",
					format_amount(cost),
					format_amount(left),
					format_amount(self.config.budget)
				),
			));
		}
		ledger.reserved = ledger.reserved.saturating_add(cost);
		Ok(())
	}

	/// Replaces a reservation of `reserved` by what the job cost.
	fn settle(&self, reserved: u128, cost: u128) -> u128 {
		let Ok(mut ledger) = self.ledger.lock() else { return 0 };
		ledger.reserved = ledger.reserved.saturating_sub(reserved);
		ledger.spent = ledger.spent.saturating_add(cost);
		self.config.budget.saturating_sub(ledger.spent.saturating_add(ledger.reserved))
	}
}

fn internal(what: &str) -> ApiError {
	ApiError::new(
		StatusCode::INTERNAL_SERVER_ERROR,
		"api_error",
		"internal_error",
		format!("{what} is unavailable"),
	)
}

/// `GET /v1/models`: the chain's active models.
async fn list_models(
	State(gateway): State<Arc<Gateway>>,
	headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
	gateway.authorise(&headers)?;
	let client = gateway.client().await?;
	let models = match chain::models(&client).await {
		Ok(models) => models,
		Err(error) => {
			gateway.note(&error).await;
			return Err(unreachable_node(&error));
		},
	};
	let data: Vec<Value> = models
		.iter()
		.filter(|(_, info)| info.status == ModelStatus::Active)
		.map(|(id, info)| {
			json!({
				"id": chain::model_name(info),
				"object": "model",
				"created": 0,
				"owned_by": chain::ss58(&info.owner),
				"commons": {
					"model_id": id,
					"weights_sha256": hex::encode(info.spec.weights_sha256),
					"min_price": info.spec.min_price.to_string(),
					"engine_version": info.spec.engine_version,
				},
			})
		})
		.collect();
	Ok(Json(json!({ "object": "list", "data": data })))
}

/// What a checked request needs on its way to a response.
struct Accepted {
	chat: ChatJob,
	model_name: String,
	request: JobRequest,
	tokenizer: Arc<Tokenizer>,
	prompt_tokens: usize,
	/// The most the job can cost, reserved from the budget.
	reserved: u128,
	/// What the chain quoted.
	quote: market::Quote,
}

/// `POST /v1/chat/completions`.
async fn chat_completions(
	State(gateway): State<Arc<Gateway>>,
	headers: HeaderMap,
	body: Bytes,
) -> Response {
	match answer(gateway, headers, body).await {
		Ok(response) => response,
		Err(error) => error.into_response(),
	}
}

async fn answer(
	gateway: Arc<Gateway>,
	headers: HeaderMap,
	body: Bytes,
) -> Result<Response, ApiError> {
	gateway.authorise(&headers)?;
	let chat = ChatRequest::parse(&body)?.into_job(market::random_seed)?;
	let client = gateway.client().await?;
	let (following, accepted) = {
		// One post at a time, from the check to finality, so that the budget and the nonce
		// see every earlier post.
		let _posting = gateway.posting.lock().await;
		let accepted = match prepare(&gateway, &client, chat).await {
			Ok(accepted) => accepted,
			Err(Failed::Api(error)) => return Err(error),
			Err(Failed::Market(error)) => return Err(gateway.refused(error).await),
		};
		let posted =
			market::submit(&client, &gateway.config.key, &accepted.request, &accepted.quote).await;
		match posted {
			Ok(following) => (following, accepted),
			Err(error) => {
				// A failed call cost its fee; after a lost connection the post's fate is
				// unknown, so its reservation stays and the client must not retry.
				if let MarketError::Chain(ChainError::Dispatch { .. }) = &error {
					gateway.settle(accepted.reserved, accepted.quote.tx_fee);
				}
				let mut error = gateway.refused(error).await;
				if error.code == "node_unreachable" {
					let payer = chain::ss58(&chain::account(&gateway.config.key.account_id()));
					error.message = format!(
						"{}; the job may have been posted: `commons job list --requester {payer}` \
						 shows it",
						error.message
					);
					error.retry = false;
				}
				return Err(error);
			},
		}
	};
	let posted = following.posted.clone();
	tracing::info!("job {} posted for a chat completion", posted.job);
	if accepted.chat.stream {
		return Ok(stream(gateway, client, following, accepted).into_response());
	}
	let receipt = match following.follow(&client, gateway.config.timeout, |_| {}).await {
		Ok(receipt) => receipt,
		Err(error) => return Err(gateway.lost(posted.job, error).await),
	};
	let budget_left = gateway.settle(accepted.reserved, cost(&posted, &receipt));
	let response = completion(&accepted, &posted, &receipt, budget_left)?;
	Ok(Json(response).into_response())
}

/// Why a request was not posted.
enum Failed {
	Api(ApiError),
	Market(MarketError),
}

impl From<ApiError> for Failed {
	fn from(error: ApiError) -> Self {
		Self::Api(error)
	}
}

impl From<MarketError> for Failed {
	fn from(error: MarketError) -> Self {
		Self::Market(error)
	}
}

impl From<ChainError> for Failed {
	fn from(error: ChainError) -> Self {
		Self::Market(error.into())
	}
}

/// Turns a chat into a checked, priced job within the spending limits, reserving its most
/// possible cost; signs nothing.
async fn prepare(gateway: &Gateway, client: &Client, chat: ChatJob) -> Result<Accepted, Failed> {
	let config = &gateway.config;
	let (model, info) = chain::resolve_model(client, &chat.model)
		.await
		.map_err(|error| Failed::Market(MarketError::Lookup(error)))?;
	let model_name = chain::model_name(&info);
	let tokenizer = gateway.tokenizer(&model_files::hashes(&info), &model_name)?;
	// Requests arrive as JSON strings: every message's content is UTF-8.
	let turns: Vec<(TemplateRole, &str)> = chat
		.messages
		.iter()
		.map(|message| {
			(message.role.into(), std::str::from_utf8(&message.content).unwrap_or_default())
		})
		.collect();
	let prompt_tokens = tokenizer
		.encode_chat(&turns, true)
		.map_err(|error| {
			ApiError::new(
				StatusCode::SERVICE_UNAVAILABLE,
				"api_error",
				"tokenizer_unavailable",
				format!("model {model_name}'s chat template cannot render the messages: {error}"),
			)
		})?
		.len();
	let needed = if config.audit_rate.is_some() { 1 } else { config.replicas };
	let price = match config.price {
		Some(price) => price,
		None => market::lowest_serving_price(client, model, needed).await?.ok_or_else(|| {
			ApiError::new(
				StatusCode::SERVICE_UNAVAILABLE,
				"api_error",
				"no_workers",
				format!(
					"fewer than {needed} online worker(s) serve model {model_name}; nothing was 					 signed"
				),
			)
		})?,
	};
	let request = JobRequest {
		model,
		prompt: encode_conversation(&chat.messages),
		max_tokens: chat.max_tokens.unwrap_or(config.default_max_tokens),
		sampling: chat.sampling.clone(),
		replicas: config.replicas,
		audit_rate: config.audit_rate,
		price,
		deadline_blocks: config.deadline_blocks,
	};
	let quote = market::check(client, &config.key, &request).await?;
	market::check_workers(client, &request).await?;
	// What the job can cost at most: everything held but the deposit, which comes back.
	let most = quote.total.saturating_sub(quote.deposit).saturating_add(quote.tx_fee);
	if most > config.max_job_cost {
		return Err(ApiError::new(
			StatusCode::PAYMENT_REQUIRED,
			"insufficient_quota",
			"job_cost_limit",
			format!(
				"the job could cost up to {} (price {} per replica), above this gateway's limit \
				 of {} per job; nothing was signed",
				format_amount(most),
				format_amount(price),
				format_amount(config.max_job_cost)
			),
		)
		.into());
	}
	gateway.reserve(most)?;
	Ok(Accepted { chat, model_name, request, tokenizer, prompt_tokens, reserved: most, quote })
}

/// What a settled job cost its requester: the escrow not refunded, the surcharge and the fee.
fn cost(posted: &Posted, receipt: &Receipt) -> u128 {
	posted
		.escrow
		.saturating_sub(receipt.refunded)
		.saturating_add(posted.surcharge)
		.saturating_add(posted.tx_fee)
}

impl Gateway {
	/// The API error for a request the market refused or could not post.
	async fn refused(&self, error: MarketError) -> ApiError {
		match error {
			MarketError::Refused(refusal) => {
				let message = format!("{refusal}; nothing was signed");
				match refusal {
					Refusal::InsufficientBalance { .. } => ApiError::new(
						StatusCode::PAYMENT_REQUIRED,
						"insufficient_quota",
						"insufficient_balance",
						message,
					),
					Refusal::NotEnoughWorkers { .. } => ApiError::new(
						StatusCode::SERVICE_UNAVAILABLE,
						"api_error",
						"no_workers",
						message,
					),
					Refusal::MaxTokens { .. } => ApiError::invalid("max_tokens", message),
					Refusal::Sampling { .. } => ApiError::invalid("temperature", message),
					Refusal::EmptyPrompt
					| Refusal::PromptTooLong { .. }
					| Refusal::Conversation(_) => ApiError::invalid("messages", message),
					_ => ApiError::new(
						StatusCode::BAD_REQUEST,
						"invalid_request_error",
						"refused",
						message,
					),
				}
			},
			MarketError::Lookup(chain::ModelLookup::Unknown(name)) => {
				let mut error = ApiError::new(
					StatusCode::NOT_FOUND,
					"invalid_request_error",
					"model_not_found",
					format!("the model `{name}` does not exist on this chain (GET /v1/models)"),
				);
				error.param = Some("model");
				error
			},
			MarketError::Lookup(chain::ModelLookup::Chain(error)) | MarketError::Chain(error) => {
				self.note(&error).await;
				if error.is_connection() {
					unreachable_node(&error)
				} else {
					ApiError::new(
						StatusCode::BAD_GATEWAY,
						"api_error",
						"chain_error",
						error.to_string(),
					)
				}
			},
			MarketError::CancelRefused(refusal) => ApiError::new(
				StatusCode::BAD_REQUEST,
				"invalid_request_error",
				"refused",
				refusal.to_string(),
			),
			MarketError::Timeout { job, .. } => ApiError::new(
				StatusCode::GATEWAY_TIMEOUT,
				"api_error",
				"timeout",
				error.to_string(),
			)
			.about_job(job),
		}
	}

	/// The API error for a posted job that could not be followed to its receipt.
	async fn lost(&self, job: u64, error: MarketError) -> ApiError {
		let follow = format!("the job goes on on chain: `commons job show {job}` follows it");
		match error {
			MarketError::Timeout { seconds, .. } => ApiError::new(
				StatusCode::GATEWAY_TIMEOUT,
				"api_error",
				"timeout",
				format!("job {job} did not settle within {seconds} s; {follow}"),
			),
			MarketError::Chain(error) | MarketError::Lookup(chain::ModelLookup::Chain(error)) => {
				self.note(&error).await;
				ApiError::new(
					StatusCode::SERVICE_UNAVAILABLE,
					"api_error",
					"node_unreachable",
					format!("lost the Commons node while following job {job} ({error}); {follow}"),
				)
			},
			other => ApiError::new(
				StatusCode::BAD_GATEWAY,
				"api_error",
				"chain_error",
				format!("following job {job} failed: {other}; {follow}"),
			),
		}
		.about_job(job)
	}
}

fn now() -> u64 {
	SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0)
}

/// The `commons` object of a response: the job's receipt.
fn receipt_json(
	accepted: &Accepted,
	posted: &Posted,
	receipt: &Receipt,
	budget_left: u128,
) -> Value {
	json!({
		"job": receipt.job,
		"model_id": accepted.request.model,
		"outcome": receipt.outcome,
		"posted_block": posted.block,
		"settled_block": receipt.settled_block,
		"settled_block_hash": format!("{:?}", receipt.settled_hash),
		"output_hash": receipt.output_hashes.first().map(hex::encode),
		"agreeing_workers": receipt.agreeing_workers.iter().map(chain::ss58).collect::<Vec<_>>(),
		"verification": receipt.verification,
		"output_tokens": receipt.output,
		"price_per_replica": accepted.request.price.to_string(),
		"paid": receipt.paid.to_string(),
		"fee": receipt.fee.to_string(),
		"surcharge": posted.surcharge.to_string(),
		"transaction_fee": posted.tx_fee.to_string(),
		"refunded": receipt.refunded.to_string(),
		"deposit_held": posted.deposit.to_string(),
		"cost": cost(posted, receipt).to_string(),
		"budget_left": budget_left.to_string(),
	})
}

/// The error for a job that settled without an accepted answer.
fn not_accepted(
	accepted: &Accepted,
	posted: &Posted,
	receipt: &Receipt,
	budget_left: u128,
) -> ApiError {
	let why = match receipt.outcome {
		Outcome::NoQuorum => "its workers did not agree (no quorum)",
		Outcome::Expired => "no workers could be assigned before its deadline (expired)",
		Outcome::Cancelled => "it was cancelled",
		Outcome::Accepted => "its output is no longer stored",
	};
	let mut error = ApiError::new(
		StatusCode::BAD_GATEWAY,
		"api_error",
		"job_not_accepted",
		format!(
			"job {} settled in block #{} without an accepted answer: {why}; the escrow was \
			 refunded",
			receipt.job, receipt.settled_block
		),
	)
	.about_job(receipt.job);
	error.commons = Some(Box::new(receipt_json(accepted, posted, receipt, budget_left)));
	error
}

/// The answer's text and why generation stopped.
fn answer_text(accepted: &Accepted, tokens: &[u32]) -> Result<(String, &'static str), ApiError> {
	let text = accepted.tokenizer.decode(tokens).map_err(|error| {
		ApiError::new(
			StatusCode::INTERNAL_SERVER_ERROR,
			"api_error",
			"decode_failed",
			format!("the verified tokens do not decode: {error}"),
		)
	})?;
	let max_tokens = accepted.request.max_tokens as usize;
	Ok((text, if tokens.len() >= max_tokens { "length" } else { "stop" }))
}

fn usage(accepted: &Accepted, tokens: &[u32]) -> Value {
	json!({
		"prompt_tokens": accepted.prompt_tokens,
		"completion_tokens": tokens.len(),
		"total_tokens": accepted.prompt_tokens + tokens.len(),
	})
}

/// A `chat.completion` for a settled job.
fn completion(
	accepted: &Accepted,
	posted: &Posted,
	receipt: &Receipt,
	budget_left: u128,
) -> Result<Value, ApiError> {
	let (Outcome::Accepted, Some(tokens)) = (&receipt.outcome, &receipt.output) else {
		return Err(not_accepted(accepted, posted, receipt, budget_left));
	};
	let (text, finish_reason) = answer_text(accepted, tokens)?;
	Ok(json!({
		"id": format!("chatcmpl-commons-{}", receipt.job),
		"object": "chat.completion",
		"created": now(),
		"model": accepted.model_name,
		"choices": [{
			"index": 0,
			"message": { "role": "assistant", "content": text },
			"logprobs": null,
			"finish_reason": finish_reason,
		}],
		"usage": usage(accepted, tokens),
		"commons": receipt_json(accepted, posted, receipt, budget_left),
	}))
}

/// The job's progress as a chunk without choices, which OpenAI clients pass through.
fn stage_json(stage: &Stage) -> Value {
	match stage {
		Stage::Posted { job, block } => json!({ "stage": "posted", "job": job, "block": block }),
		Stage::Assigned { round, workers } => json!({
			"stage": "assigned",
			"round": round,
			"workers": workers.iter().map(chain::ss58).collect::<Vec<_>>(),
		}),
		Stage::Escalated { round, seats } => {
			json!({ "stage": "escalated", "round": round, "seats": seats })
		},
		Stage::AuditDecided { audited } => json!({ "stage": "audit_decided", "audited": audited }),
		Stage::Committed { done, of } => json!({ "stage": "committed", "done": done, "of": of }),
		Stage::Revealed { done, of } => json!({ "stage": "revealed", "done": done, "of": of }),
		Stage::Settled => json!({ "stage": "settled" }),
	}
}

/// Server-sent events: the job's stages as they happen, then the verified answer, then
/// `[DONE]`. Text is sent only once the job settles: before that no answer is verified.
fn stream(
	gateway: Arc<Gateway>,
	client: Client,
	following: market::Following,
	accepted: Accepted,
) -> impl IntoResponse {
	let (sender, receiver) = tokio::sync::mpsc::unbounded_channel::<Result<Event, Infallible>>();
	let posted = following.posted.clone();
	let id = format!("chatcmpl-commons-{}", posted.job);
	let chunk = {
		let (id, model) = (id.clone(), accepted.model_name.clone());
		move |choices: Value, extra: Option<(&str, Value)>| {
			let mut chunk = json!({
				"id": id,
				"object": "chat.completion.chunk",
				"created": now(),
				"model": model,
				"choices": choices,
			});
			if let Some((key, value)) = extra {
				chunk[key] = value;
			}
			Event::default().data(chunk.to_string())
		}
	};
	tokio::spawn(async move {
		let send = |event: Event| {
			let _ = sender.send(Ok(event));
		};
		let stage = Stage::Posted { job: posted.job, block: posted.block };
		send(chunk(json!([]), Some(("commons", stage_json(&stage)))));
		let followed = following
			.follow(&client, gateway.config.timeout, |stage| {
				send(chunk(json!([]), Some(("commons", stage_json(stage)))));
			})
			.await;
		let receipt = match followed {
			Ok(receipt) => receipt,
			Err(error) => {
				let error = gateway.lost(posted.job, error).await;
				send(Event::default().data(error.body().to_string()));
				return;
			},
		};
		let budget_left = gateway.settle(accepted.reserved, cost(&posted, &receipt));
		let answered = match (&receipt.outcome, &receipt.output) {
			(Outcome::Accepted, Some(tokens)) => {
				answer_text(&accepted, tokens).map(|(text, finish)| (text, finish, tokens))
			},
			_ => Err(not_accepted(&accepted, &posted, &receipt, budget_left)),
		};
		let (text, finish_reason, tokens) = match answered {
			Ok(answered) => answered,
			Err(error) => {
				send(Event::default().data(error.body().to_string()));
				return;
			},
		};
		let delta = json!([{
			"index": 0,
			"delta": { "role": "assistant", "content": text },
			"logprobs": null,
			"finish_reason": null,
		}]);
		send(chunk(delta, None));
		let last =
			json!([{ "index": 0, "delta": {}, "logprobs": null, "finish_reason": finish_reason }]);
		send(chunk(
			last,
			Some(("commons", receipt_json(&accepted, &posted, &receipt, budget_left))),
		));
		if accepted.chat.include_usage {
			send(chunk(json!([]), Some(("usage", usage(&accepted, tokens)))));
		}
		send(Event::default().data("[DONE]"));
	});
	Sse::new(UnboundedReceiverStream::new(receiver)).keep_alive(KeepAlive::default())
}
