//! The `commons-worker` command line: earn by serving Commons inference jobs.
//!
//! Exit codes: 0 success, 1 other error, 2 bad input (a key file, an amount, a model), 3 node
//! unreachable, 5 transaction included but its call failed.

use std::{
	net::{Ipv4Addr, SocketAddr},
	path::PathBuf,
	process::ExitCode,
	time::{Duration, Instant},
};

use crate::{
	key::{KeyError, WorkerKey},
	manage::{self, Refusal},
	models::BackendChoice,
	serve::{self, Settings, Stop},
};
use anyhow::Context;
use clap::{Parser, Subcommand};
use commons_client::chain::api::runtime_types::commons_primitives::Capacity;
use commons_client::{
	amount::{format_amount, parse_amount},
	chain::{self, api, ChainError, ModelLookup},
};
use commons_engine::{tokenizer::Role, Model, Sampling};
use serde_json::json;

/// Serve inference jobs on a Commons chain and earn for verified results.
#[derive(Parser)]
#[command(name = "commons-worker", version, about)]
struct Cli {
	/// WebSocket RPC address of a Commons node (`--rpc` is accepted too).
	#[arg(
		long = "url",
		alias = "rpc",
		env = "COMMONS_RPC",
		default_value = "ws://127.0.0.1:9944",
		global = true
	)]
	rpc: String,

	/// Print machine-readable JSON instead of text.
	#[arg(long, global = true)]
	json: bool,

	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Create or show the worker's ed25519 key.
	Key {
		#[command(subcommand)]
		command: KeyCommand,
	},
	/// Register as a worker: bond stake, declare the models served, the price per job and a
	/// first capacity (`run` measures the engine and declares what it measured).
	Register {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
		/// Stake to bond, in CMN.
		#[arg(long, value_parser = parse_amount)]
		stake: u128,
		/// Price asked per job, in CMN.
		#[arg(long, value_parser = parse_amount)]
		price: u128,
		/// A model to serve, by id or name (repeat for several).
		#[arg(long = "model", required = true)]
		models: Vec<String>,
		/// Jobs computed at once.
		#[arg(long, default_value_t = 1)]
		slots: u32,
		/// Tokens one slot processes per block until `run` measures the engine: low, so that
		/// the worker is never seated beyond what it can do before it runs.
		#[arg(long, default_value_t = 4)]
		tokens_per_block: u32,
	},
	/// Start unbonding part of the stake; it can be withdrawn after the unbonding period.
	Unbond {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
		/// Amount to unbond, in CMN.
		#[arg(long, value_parser = parse_amount)]
		amount: u128,
	},
	/// Withdraw unbonded stake whose unbonding period has passed.
	Withdraw {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
	},
	/// Bond more stake from the free balance.
	BondExtra {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
		/// Amount to add, in CMN.
		#[arg(long, value_parser = parse_amount)]
		amount: u128,
	},
	/// Change the lowest price per job the worker serves for.
	SetPrice {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
		/// Price asked per job, in CMN.
		#[arg(long, value_parser = parse_amount)]
		price: u128,
	},
	/// Change the models served (the new list replaces the old one).
	SetModels {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
		/// A model to serve, by id or name (repeat for several).
		#[arg(long = "model", required = true)]
		models: Vec<String>,
	},
	/// Take new jobs again (`run` does this when it starts).
	GoOnline {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
	},
	/// Take no new jobs; seats already held must still be answered (`run` answers them, and
	/// stopping `run` with SIGINT or SIGTERM goes offline by itself).
	GoOffline {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
	},
	/// Leave: go offline and unbond the whole stake (no seat may be held).
	Deregister {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
	},
	/// Show the worker's registration, stake and reputation.
	Status {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
	},
	/// Serve jobs: follow finalised blocks, run assigned jobs, commit and reveal.
	Run {
		/// The worker's key file.
		#[arg(long, env = "COMMONS_WORKER_KEY")]
		key: PathBuf,
		/// Directory holding the model files (`.gguf`), matched to the registry by sha256.
		#[arg(long, default_value = "models")]
		models_dir: PathBuf,
		/// Where the engine runs.
		#[arg(long, value_enum, default_value = "auto")]
		backend: BackendChoice,
		/// Engine threads (0: one per core).
		#[arg(long, default_value_t = 0)]
		threads: usize,
		/// The local database of commitments (default: the key file's path with `.redb`).
		#[arg(long)]
		database: Option<PathBuf>,
		/// Serve Prometheus metrics on this local port (0: no metrics).
		#[arg(long, default_value_t = 9616)]
		metrics_port: u16,
		/// The longest wait between attempts to reach the node, in seconds.
		#[arg(long, default_value_t = 10)]
		max_backoff: u64,
		/// Jobs computed at once (each slot shares the engine threads).
		#[arg(long, default_value_t = 1)]
		slots: u32,
		/// Declare this many tokens per block and slot instead of measuring the engine.
		#[arg(long)]
		tokens_per_block: Option<u32>,
		/// Cheat on purpose, to test that the chain catches it (fault-injection builds only).
		#[cfg(feature = "fault-injection")]
		#[arg(long, value_enum)]
		misbehave: Option<crate::faults::Fault>,
	},
	/// Answer a prompt locally with the engine (no chain): check a model file and its speed.
	Infer {
		/// The GGUF model file.
		#[arg(long)]
		model: PathBuf,
		/// The user message, in the model's chat template.
		#[arg(long)]
		prompt: String,
		/// Most tokens to generate.
		#[arg(long, default_value_t = 64)]
		max_tokens: usize,
		/// Where the engine runs.
		#[arg(long, value_enum, default_value = "auto")]
		backend: BackendChoice,
		/// Engine threads (0: one per core).
		#[arg(long, default_value_t = 0)]
		threads: usize,
	},
}

#[derive(Subcommand)]
enum KeyCommand {
	/// Create a new key in a file only its owner can read, and print its address.
	Generate {
		/// The file to create; an existing file is never overwritten.
		#[arg(long)]
		out: PathBuf,
	},
	/// Print the address of a key file.
	Inspect {
		/// The key file.
		#[arg(long)]
		key: PathBuf,
	},
}

/// A failure with the exit code it maps to.
struct Failure {
	code: u8,
	error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
	fn from(error: E) -> Self {
		let error = error.into();
		let code = if error.downcast_ref::<KeyError>().is_some()
			|| error.downcast_ref::<Refusal>().is_some()
		{
			2
		} else if let Some(error) = error.downcast_ref::<ChainError>() {
			match error {
				ChainError::Unreachable { .. } => 3,
				ChainError::Dispatch { .. } => 5,
				ChainError::Other { .. } => 1,
			}
		} else if let Some(lookup) = error.downcast_ref::<ModelLookup>() {
			match lookup {
				ModelLookup::Unknown(_) => 2,
				ModelLookup::Chain(ChainError::Unreachable { .. }) => 3,
				ModelLookup::Chain(_) => 1,
			}
		} else {
			1
		};
		Self { code, error }
	}
}

fn print(json: bool, value: serde_json::Value, text: impl FnOnce() -> String) {
	if json {
		println!("{value}");
	} else {
		println!("{}", text());
	}
}

async fn run(cli: Cli) -> Result<(), Failure> {
	let json = cli.json;
	match cli.command {
		Command::Key { command: KeyCommand::Generate { out } } => {
			let key = WorkerKey::generate()?;
			key.write_new(&out)?;
			print(
				json,
				json!({ "address": key.address(), "public": key.public_hex(), "file": out }),
				|| {
					format!(
						"address {}\npublic  {}\nwritten {}",
						key.address(),
						key.public_hex(),
						out.display()
					)
				},
			);
		},
		Command::Key { command: KeyCommand::Inspect { key } } => {
			let key = WorkerKey::read(&key)?;
			print(json, json!({ "address": key.address(), "public": key.public_hex() }), || {
				format!("address {}\npublic  {}", key.address(), key.public_hex())
			});
		},
		Command::Register { key, stake, price, models, slots, tokens_per_block } => {
			let key = WorkerKey::read(&key)?;
			let client = chain::connect(&cli.rpc).await?;
			let mut ids = Vec::new();
			for model in &models {
				ids.push(chain::resolve_model(&client, model).await?.0);
			}
			manage::check_register(&client, &cli.rpc, &key.account(), stake, price, &ids).await?;
			let call = api::tx().workers().register(
				stake,
				api::runtime_types::bounded_collections::bounded_vec::BoundedVec(ids.clone()),
				price,
				Capacity { slots, tokens_per_block },
			);
			let included = chain::submit(&client, &key, &call).await?;
			print(
				json,
				json!({
					"worker": key.address(), "stake": stake.to_string(), "price": price.to_string(),
					"models": ids, "slots": slots, "tokens_per_block": tokens_per_block,
					"block": format!("{:?}", included.block),
				}),
				|| {
					format!(
						"registered {} with {} stake at {} per job for models {ids:?}",
						key.address(),
						format_amount(stake),
						format_amount(price)
					)
				},
			);
		},
		Command::Unbond { key, amount } => {
			let key = WorkerKey::read(&key)?;
			let client = chain::connect(&cli.rpc).await?;
			manage::check_unbond(&manage::registered(&client, &key.account()).await?, amount)?;
			chain::submit(&client, &key, &api::tx().workers().unbond(amount)).await?;
			print(
				json,
				json!({ "worker": key.address(), "unbonding": amount.to_string() }),
				|| format!("unbonding {} from {}", format_amount(amount), key.address()),
			);
		},
		Command::Withdraw { key } => {
			let key = WorkerKey::read(&key)?;
			let client = chain::connect(&cli.rpc).await?;
			let info = manage::registered(&client, &key.account()).await?;
			let (now, _) = commons_client::market::finalized_head(&client).await?;
			manage::check_withdraw(&info, now)?;
			let included =
				chain::submit(&client, &key, &api::tx().workers().withdraw_unbonded()).await?;
			let withdrawn: u128 = included
				.events
				.find::<api::workers::events::StakeWithdrawn>()
				.flatten()
				.map(|event| event.amount)
				.sum();
			print(
				json,
				json!({ "worker": key.address(), "withdrawn": withdrawn.to_string() }),
				|| format!("withdrew {} to {}", format_amount(withdrawn), key.address()),
			);
		},
		Command::BondExtra { key, amount } => {
			let key = WorkerKey::read(&key)?;
			let client = chain::connect(&cli.rpc).await?;
			manage::registered(&client, &key.account()).await?;
			if amount == 0 {
				return Err(Refusal::Zero("amount").into());
			}
			manage::check_free(&client, &key.account(), amount).await?;
			chain::submit(&client, &key, &api::tx().workers().bond_extra(amount)).await?;
			print(
				json,
				json!({ "worker": key.address(), "bonded_extra": amount.to_string() }),
				|| format!("bonded {} more to {}", format_amount(amount), key.address()),
			);
		},
		Command::SetPrice { key, price } => {
			let key = WorkerKey::read(&key)?;
			let client = chain::connect(&cli.rpc).await?;
			manage::registered(&client, &key.account()).await?;
			if price == 0 {
				return Err(Refusal::Zero("price").into());
			}
			chain::submit(&client, &key, &api::tx().workers().set_price(price)).await?;
			print(json, json!({ "worker": key.address(), "price": price.to_string() }), || {
				format!("{} now asks {} per job", key.address(), format_amount(price))
			});
		},
		Command::SetModels { key, models } => {
			let key = WorkerKey::read(&key)?;
			let client = chain::connect(&cli.rpc).await?;
			manage::registered(&client, &key.account()).await?;
			let mut ids = Vec::new();
			for model in &models {
				ids.push(chain::resolve_model(&client, model).await?.0);
			}
			manage::check_models(&ids)?;
			let call = api::tx().workers().set_models(
				api::runtime_types::bounded_collections::bounded_vec::BoundedVec(ids.clone()),
			);
			chain::submit(&client, &key, &call).await?;
			print(json, json!({ "worker": key.address(), "models": ids }), || {
				format!("{} now serves models {ids:?}", key.address())
			});
		},
		Command::GoOnline { key } => {
			let key = WorkerKey::read(&key)?;
			let client = chain::connect(&cli.rpc).await?;
			let info = manage::registered(&client, &key.account()).await?;
			manage::check_go_online(&info, &cli.rpc).await?;
			chain::submit(&client, &key, &api::tx().workers().go_online()).await?;
			print(json, json!({ "worker": key.address(), "online": true }), || {
				format!("{} is online: it takes new jobs", key.address())
			});
		},
		Command::GoOffline { key } => {
			let key = WorkerKey::read(&key)?;
			let client = chain::connect(&cli.rpc).await?;
			let info = manage::registered(&client, &key.account()).await?;
			manage::check_go_offline(&info)?;
			chain::submit(&client, &key, &api::tx().workers().go_offline()).await?;
			let live = info.live_jobs.0;
			print(
				json,
				json!({ "worker": key.address(), "online": false, "live_jobs": live }),
				|| {
					format!(
						"{} is offline: no new jobs; {} seat(s) still to answer (keep `run` going \
					 until they settle)",
						key.address(),
						live.len()
					)
				},
			);
		},
		Command::Deregister { key } => {
			let key = WorkerKey::read(&key)?;
			let client = chain::connect(&cli.rpc).await?;
			manage::check_deregister(&manage::registered(&client, &key.account()).await?)?;
			let included = chain::submit(&client, &key, &api::tx().workers().deregister()).await?;
			let unlock_at = included
				.events
				.find_first::<api::workers::events::WorkerDeregistered>()
				.ok()
				.flatten()
				.map(|event| event.unlock_at);
			print(json, json!({ "worker": key.address(), "unlock_at": unlock_at }), || {
				format!(
					"{} deregistered; its stake unbonds until block #{}, then `withdraw`",
					key.address(),
					unlock_at.map_or("?".into(), |block| block.to_string())
				)
			});
		},
		Command::Status { key } => {
			let key = WorkerKey::read(&key)?;
			let client = chain::connect(&cli.rpc).await?;
			let at = client.storage().at_latest().await.map_err(ChainError::other("reading"))?;
			let info = at
				.fetch(&api::storage().workers().workers(key.account()))
				.await
				.map_err(ChainError::other("reading the worker registry"))?;
			let Some(info) = info else {
				print(json, json!({ "worker": key.address(), "registered": false }), || {
					format!("{} is not registered", key.address())
				});
				return Ok(());
			};
			let free = commons_client::market::free_balance(&client, &key.account()).await?;
			let unbonding: Vec<_> = info
				.unbonding
				.0
				.iter()
				.map(
					|chunk| json!({ "amount": chunk.amount.to_string(), "unlock_at": chunk.unlock_at }),
				)
				.collect();
			let reputation = &info.reputation;
			print(
				json,
				json!({
					"worker": key.address(), "registered": true, "free": free.to_string(),
					"bonded": info.bonded.to_string(), "unbonding": unbonding,
					"models": info.models.0, "price": info.price.to_string(),
					"online": info.online, "live_jobs": info.live_jobs.0,
					"slots": info.capacity.slots,
					"tokens_per_block": info.capacity.tokens_per_block,
					"accepted": reputation.accepted, "wrong": reputation.wrong,
					"no_show": reputation.no_show,
				}),
				|| {
					let unbonding: u128 = info.unbonding.0.iter().map(|chunk| chunk.amount).sum();
					format!(
						"worker     {}\nfree       {}\nbonded     {}\nunbonding  {}\nmodels     {:?}\nprice      {}\n\
						 capacity   {} slots of {} tokens a block\n\
						 online     {}\nlive jobs  {:?}\nreputation {} accepted, {} wrong, {} no-show",
						key.address(),
						format_amount(free),
						format_amount(info.bonded),
						format_amount(unbonding),
						info.models.0,
						format_amount(info.price),
						info.capacity.slots,
						info.capacity.tokens_per_block,
						info.online,
						info.live_jobs.0,
						reputation.accepted,
						reputation.wrong,
						reputation.no_show
					)
				},
			);
		},
		Command::Run {
			key,
			models_dir,
			backend,
			threads,
			database,
			metrics_port,
			max_backoff,
			slots,
			tokens_per_block,
			#[cfg(feature = "fault-injection")]
			misbehave,
		} => {
			let database = database.unwrap_or_else(|| key.with_extension("redb"));
			let key = WorkerKey::read(&key)?;
			let (stop, stopping) = tokio::sync::watch::channel(Stop::Run);
			let mut signals = Signals::listen()?;
			tokio::spawn(async move {
				signals.next().await;
				let _ = stop.send(Stop::Drain);
				signals.next().await;
				let _ = stop.send(Stop::Now);
				// Keeps the sender until the worker has seen it.
				stop.closed().await;
			});
			let settings = Settings {
				rpc: cli.rpc,
				key,
				models_dir,
				backend: backend.backend(),
				threads,
				database,
				metrics: (metrics_port != 0)
					.then(|| SocketAddr::from((Ipv4Addr::LOCALHOST, metrics_port))),
				max_backoff: Duration::from_secs(max_backoff.max(1)),
				slots,
				tokens_per_block,
				#[cfg(feature = "fault-injection")]
				fault: misbehave,
			};
			serve::run(settings, stopping).await?;
		},
		Command::Infer { model, prompt, max_tokens, backend, threads } => {
			let engine =
				Model::load(&model)?.with_threads(threads)?.with_backend(&backend.backend())?;
			let tokens = engine.tokenizer().encode_chat(&[(Role::User, &prompt)], true)?;
			let started = Instant::now();
			let generation =
				engine.generate(&tokens, max_tokens, &Sampling::Greedy, |_, piece| {
					if !json {
						print!("{piece}");
						let _ = std::io::Write::flush(&mut std::io::stdout());
					}
				})?;
			let seconds = started.elapsed().as_secs_f64();
			let speed = generation.tokens.len() as f64 / seconds.max(1e-9);
			print(
				json,
				json!({
					"text": generation.text, "tokens": generation.tokens,
					"tokens_per_second": speed, "backend": engine.backend_description(),
				}),
				|| {
					format!(
						"\n{} tokens in {seconds:.2} s: {speed:.1} tokens/s on {}",
						generation.tokens.len(),
						engine.backend_description()
					)
				},
			);
		},
	}
	Ok(())
}

/// SIGINT and SIGTERM, listened to from start-up so that none is missed between two waits.
struct Signals {
	interrupt: tokio::signal::unix::Signal,
	terminate: tokio::signal::unix::Signal,
}

impl Signals {
	fn listen() -> anyhow::Result<Self> {
		use tokio::signal::unix::{signal, SignalKind};
		Ok(Self {
			interrupt: signal(SignalKind::interrupt()).context("listening for SIGINT")?,
			terminate: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
		})
	}

	/// Resolves on the next SIGINT or SIGTERM.
	async fn next(&mut self) {
		tokio::select! {
			_ = self.interrupt.recv() => {},
			_ = self.terminate.recv() => {},
		}
	}
}

/// Parses the command line, runs the command and maps its failure to an exit code.
pub async fn main() -> ExitCode {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
		)
		.with_writer(std::io::stderr)
		.init();
	let cli = Cli::parse();
	let json = cli.json;
	match run(cli).await {
		Ok(()) => ExitCode::SUCCESS,
		Err(Failure { code, error }) => {
			if json {
				println!("{}", json!({ "error": format!("{error:#}") }));
			} else {
				eprintln!("error: {error:#}");
			}
			ExitCode::from(code)
		},
	}
}
