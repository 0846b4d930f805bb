//! The `commons-worker` command line: earn by serving Commons inference jobs.
//!
//! Exit codes: 0 success, 1 other error, 2 bad input (a key file, an amount, a model), 3 node
//! unreachable, 5 transaction included but its call failed, 6 the chain's runtime is not one this
//! release can serve (it went offline).

use std::{
	net::{Ipv4Addr, SocketAddr},
	path::PathBuf,
	process::ExitCode,
	time::{Duration, Instant},
};

use crate::{
	config::{self, Config, ConfigError},
	key::{KeyError, KeyLock, WorkerKey},
	manage::{self, Refusal},
	models::BackendChoice,
	serve::{self, Settings, Stop, UnsupportedRuntime},
	store::StoreError,
};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use commons_client::chain::api::runtime_types::commons_primitives::Capacity;
use commons_client::{
	amount::{format_amount, parse_amount},
	chain::{self, api, ChainError, ModelLookup},
};
use commons_engine::{tokenizer::Role, Model, Sampling};
use figment::value::magic::RelativePathBuf;
use serde::Serialize;
use serde_json::json;

/// Serve inference jobs on a Commons chain and earn for verified results.
#[derive(Parser)]
#[command(name = "commons-worker", version, about)]
struct Cli {
	/// WebSocket RPC address of a Commons node [default: ws://127.0.0.1:9944] (`--rpc` is
	/// accepted too).
	#[arg(long, alias = "rpc", env = "COMMONS_RPC", global = true)]
	url: Option<String>,

	/// The config file [default: commons-worker.toml, when it exists].
	#[arg(long, env = "COMMONS_WORKER_CONFIG", global = true)]
	config: Option<PathBuf>,

	/// Print machine-readable JSON instead of text (errors too, with their exit code).
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
		#[command(flatten)]
		key: KeyArg,
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
		/// Tokens one slot processes per block until `run` measures the engine: the least, so
		/// that the worker is never seated beyond what a slow backend (lavapipe does about one
		/// a block) finishes before it has measured.
		#[arg(long, default_value_t = 1)]
		tokens_per_block: u32,
	},
	/// Start unbonding part of the stake; it can be withdrawn after the unbonding period.
	Unbond {
		#[command(flatten)]
		key: KeyArg,
		/// Amount to unbond, in CMN.
		#[arg(long, value_parser = parse_amount)]
		amount: u128,
	},
	/// Withdraw unbonded stake whose unbonding period has passed.
	Withdraw {
		#[command(flatten)]
		key: KeyArg,
	},
	/// Bond more stake from the free balance.
	BondExtra {
		#[command(flatten)]
		key: KeyArg,
		/// Amount to add, in CMN.
		#[arg(long, value_parser = parse_amount)]
		amount: u128,
	},
	/// Change the lowest price per job the worker serves for.
	SetPrice {
		#[command(flatten)]
		key: KeyArg,
		/// Price asked per job, in CMN.
		#[arg(long, value_parser = parse_amount)]
		price: u128,
	},
	/// Change the models served (the new list replaces the old one).
	SetModels {
		#[command(flatten)]
		key: KeyArg,
		/// A model to serve, by id or name (repeat for several).
		#[arg(long = "model", required = true)]
		models: Vec<String>,
	},
	/// Take new jobs again (`run` does this when it starts).
	GoOnline {
		#[command(flatten)]
		key: KeyArg,
	},
	/// Take no new jobs; seats already held must still be answered (`run` answers them, and
	/// stopping `run` with SIGINT or SIGTERM goes offline by itself).
	GoOffline {
		#[command(flatten)]
		key: KeyArg,
	},
	/// Name or withdraw the operator key: the key that runs the worker on the inference host and
	/// can only commit, reveal, go online or offline and declare capacity for it (a
	/// `WorkerOperation` proxy). Signed with the worker's own key, which then stays off the host.
	Operator {
		#[command(subcommand)]
		command: OperatorCommand,
	},
	/// Leave: go offline and unbond the whole stake (no seat may be held).
	Deregister {
		#[command(flatten)]
		key: KeyArg,
	},
	/// Show the worker's registration, stake and reputation.
	Status {
		#[command(flatten)]
		key: KeyArg,
	},
	/// Serve jobs: follow the chain, run assigned jobs, commit and reveal. Every setting can
	/// also come from the config file (`init` writes one).
	Run {
		#[command(flatten)]
		key: KeyArg,
		#[command(flatten)]
		settings: RunArgs,
		/// Cheat on purpose, to test that the chain catches it (fault-injection builds only).
		#[cfg(feature = "fault-injection")]
		#[arg(long, value_enum)]
		misbehave: Option<crate::faults::Fault>,
	},
	/// Print a completion script for a shell (`commons-worker completions bash >
	/// /etc/bash_completion.d/commons-worker`).
	Completions {
		/// The shell.
		shell: clap_complete::Shell,
	},
	/// Write a config file with every setting and what it does (flags given here are written
	/// into it).
	Init {
		/// The file to write; an existing file is never overwritten.
		#[arg(long, default_value = config::DEFAULT_FILE)]
		out: PathBuf,
		#[command(flatten)]
		key: KeyArg,
		#[command(flatten)]
		settings: RunArgs,
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

/// The worker's key file, from a flag, the environment or the config file.
#[derive(Args, Serialize)]
struct KeyArg {
	/// The worker's key file [config: key].
	#[arg(long, env = "COMMONS_WORKER_KEY")]
	#[serde(skip_serializing_if = "Option::is_none")]
	key: Option<PathBuf>,
}

#[derive(Subcommand)]
enum OperatorCommand {
	/// Let the key with this address operate the worker (holds a deposit of about 1 CMN from the
	/// worker's free balance while it stands).
	Add {
		#[command(flatten)]
		key: KeyArg,
		/// The operator key's address (`commons-worker key inspect operator.key`).
		#[arg(long)]
		operator: String,
	},
	/// Stop the key with this address from operating the worker.
	Remove {
		#[command(flatten)]
		key: KeyArg,
		/// The operator key's address.
		#[arg(long)]
		operator: String,
	},
}

/// The daemon's settings given as flags or environment variables; each one absent falls back to
/// the config file, then to the default (`commons-worker init` shows them all).
#[derive(Args, Serialize)]
struct RunArgs {
	/// Directory holding the model files (`.gguf`), matched to the registry by sha256
	/// [default: models].
	#[arg(long, env = "COMMONS_WORKER_MODELS_DIR")]
	#[serde(skip_serializing_if = "Option::is_none")]
	models_dir: Option<PathBuf>,
	/// Where the engine runs [default: auto].
	#[arg(long, value_enum, env = "COMMONS_WORKER_BACKEND")]
	#[serde(skip_serializing_if = "Option::is_none")]
	backend: Option<BackendChoice>,
	/// Engine threads (0: one per core) [default: 0].
	#[arg(long, env = "COMMONS_WORKER_THREADS")]
	#[serde(skip_serializing_if = "Option::is_none")]
	threads: Option<usize>,
	/// Serve for this registered worker (its stash account), as its operator: the key is then
	/// a `WorkerOperation` proxy of it (`commons-worker operator add`).
	#[arg(long, env = "COMMONS_WORKER_STASH")]
	#[serde(skip_serializing_if = "Option::is_none")]
	stash: Option<String>,
	/// The local database of commitments [default: the key file's path with `.redb`].
	#[arg(long, env = "COMMONS_WORKER_DATABASE")]
	#[serde(skip_serializing_if = "Option::is_none")]
	database: Option<PathBuf>,
	/// Serve Prometheus metrics on this port (0: no metrics) [default: 9616].
	#[arg(long, env = "COMMONS_WORKER_METRICS_PORT")]
	#[serde(skip_serializing_if = "Option::is_none")]
	metrics_port: Option<u16>,
	/// Serve metrics on every interface instead of 127.0.0.1 only.
	#[arg(long, env = "COMMONS_WORKER_METRICS_EXTERNAL")]
	#[serde(skip_serializing_if = "std::ops::Not::not")]
	metrics_external: bool,
	/// The longest wait between attempts to reach the node, in seconds [default: 10].
	#[arg(long, env = "COMMONS_WORKER_MAX_BACKOFF")]
	#[serde(skip_serializing_if = "Option::is_none")]
	max_backoff: Option<u64>,
	/// Jobs computed at once (each slot shares the engine threads) [default: 1].
	#[arg(long, env = "COMMONS_WORKER_SLOTS")]
	#[serde(skip_serializing_if = "Option::is_none")]
	slots: Option<u32>,
	/// Declare this many tokens per block and slot instead of measuring the engine.
	#[arg(long, env = "COMMONS_WORKER_TOKENS_PER_BLOCK")]
	#[serde(skip_serializing_if = "Option::is_none")]
	tokens_per_block: Option<u32>,
	/// Warn when the free balance pays the commit and reveal fees of fewer jobs than this
	/// [default: 100].
	#[arg(long, env = "COMMONS_WORKER_FEE_WARNING_JOBS")]
	#[serde(skip_serializing_if = "Option::is_none")]
	fee_warning_jobs: Option<u32>,
}

/// What the command line gives of the settings, in the config file's names.
#[derive(Serialize)]
struct Given<'a> {
	#[serde(skip_serializing_if = "Option::is_none")]
	url: Option<&'a String>,
	#[serde(flatten)]
	key: Option<&'a KeyArg>,
	#[serde(flatten)]
	settings: Option<&'a RunArgs>,
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
		let store_refused = matches!(
			error.downcast_ref::<StoreError>(),
			Some(
				StoreError::OtherChain { .. }
					| StoreError::OtherKey { .. }
					| StoreError::Newer { .. }
			)
		);
		let code = if error.downcast_ref::<UnsupportedRuntime>().is_some() {
			6
		} else if error.downcast_ref::<KeyError>().is_some()
			|| store_refused
			|| error.downcast_ref::<Refusal>().is_some()
			|| error.downcast_ref::<ConfigError>().is_some()
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

/// A management command's key and connection.
struct Session {
	key: WorkerKey,
	client: chain::Client,
}

impl Session {
	/// Reads the key the settings name and connects to their node.
	async fn open(config: &Config) -> Result<Self, Failure> {
		let key = WorkerKey::read(&config.key()?)?;
		let client = chain::connect(&config.url).await?;
		Ok(Self { key, client })
	}
}

async fn run(cli: Cli) -> Result<(), Failure> {
	let json = cli.json;
	let load = |key: Option<&KeyArg>, settings: Option<&RunArgs>| {
		Config::load(cli.config.as_deref(), Given { url: cli.url.as_ref(), key, settings })
	};
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
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
			let mut ids = Vec::new();
			for model in &models {
				ids.push(chain::resolve_model(&client, model).await?.0);
			}
			manage::check_register(&client, &key.account(), stake, price, &ids).await?;
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
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
			manage::check_unbond(&manage::registered(&client, &key.account()).await?, amount)?;
			chain::submit(&client, &key, &api::tx().workers().unbond(amount)).await?;
			print(
				json,
				json!({ "worker": key.address(), "unbonding": amount.to_string() }),
				|| format!("unbonding {} from {}", format_amount(amount), key.address()),
			);
		},
		Command::Withdraw { key } => {
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
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
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
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
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
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
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
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
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
			let info = manage::registered(&client, &key.account()).await?;
			manage::check_go_online(&client, &info).await?;
			chain::submit(&client, &key, &api::tx().workers().go_online()).await?;
			print(json, json!({ "worker": key.address(), "online": true }), || {
				format!("{} is online: it takes new jobs", key.address())
			});
		},
		Command::Operator { command } => {
			use api::runtime_types::commons_runtime::configs::proxy::ProxyType;
			let (key, operator, adding) = match command {
				OperatorCommand::Add { key, operator } => (key, operator, true),
				OperatorCommand::Remove { key, operator } => (key, operator, false),
			};
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
			manage::registered(&client, &key.account()).await?;
			let delegate = chain::account(
				&commons_client::keys::parse_account(&operator)
					.map_err(|_| Refusal::NotAnAddress(operator.clone()))?,
			);
			let address = subxt::utils::MultiAddress::Id(delegate.clone());
			let proxies = api::tx().proxy();
			if adding {
				let call = proxies.add_proxy(address, ProxyType::WorkerOperation, 0);
				chain::submit(&client, &key, &call).await?;
			} else {
				let call = proxies.remove_proxy(address, ProxyType::WorkerOperation, 0);
				chain::submit(&client, &key, &call).await?;
			}
			print(
				json,
				json!({ "worker": key.address(), "operator": chain::ss58(&delegate), "operates": adding }),
				|| {
					if adding {
						format!(
							"{} operates the worker {}: run `commons-worker run --key <its key \
							 file> --stash {}` on the inference host",
							chain::ss58(&delegate),
							key.address(),
							key.address()
						)
					} else {
						format!("{} no longer operates {}", chain::ss58(&delegate), key.address())
					}
				},
			);
		},
		Command::GoOffline { key } => {
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
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
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
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
			let Session { key, client } = Session::open(&load(Some(&key), None)?).await?;
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
			let job_fees = manage::job_fees(&client, &key, None).await?;
			let runway = manage::fee_runway(free, job_fees);
			let earnings =
				chain::view(&client, None, api::view_functions().rewards().earnings(key.account()))
					.await?;
			let unbonding: Vec<_> = info
				.unbonding
				.0
				.iter()
				.map(
					|chunk| json!({ "amount": chunk.amount.to_string(), "unlock_at": chunk.unlock_at }),
				)
				.collect();
			let eras: Vec<_> = earnings
				.iter()
				.map(|era| {
					json!({
						"era": era.era, "closed": era.closed, "paid": era.paid.to_string(),
						"fees": era.fees.to_string(), "emission": era.emission.to_string(),
					})
				})
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
					"no_show": reputation.no_show, "job_fees": job_fees.to_string(),
					"fee_runway_jobs": runway.to_string(), "earnings": eras,
				}),
				|| {
					let unbonding: u128 = info.unbonding.0.iter().map(|chunk| chunk.amount).sum();
					let mut text = format!(
						"worker     {}\nfree       {}\nbonded     {}\nunbonding  {}\nmodels     {:?}\n\
						 price      {}\ncapacity   {} slots of {} tokens a block\n\
						 online     {}\nseats held {:?}\nreputation {} accepted, {} wrong, {} no-show\n\
						 fees       {} a job (commit and reveal): the free balance pays {} more",
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
						reputation.no_show,
						format_amount(job_fees),
						runway
					);
					if earnings.is_empty() {
						text.push_str("\nearnings   none in the eras not yet paid out");
					}
					for era in &earnings {
						text.push_str(&format!(
							"\nera {:<6} {} for verified work, {} emission {}",
							era.era,
							format_amount(era.paid),
							format_amount(era.emission),
							if era.closed { "at its payout" } else { "so far (era open)" }
						));
					}
					text
				},
			);
		},
		Command::Run {
			key,
			settings,
			#[cfg(feature = "fault-injection")]
			misbehave,
		} => {
			let config = load(Some(&key), Some(&settings))?;
			let key_file = config.key()?;
			let database = config
				.database
				.as_ref()
				.map(RelativePathBuf::relative)
				.unwrap_or_else(|| key_file.with_extension("redb"));
			let key = WorkerKey::read(&key_file)?;
			// Held until the worker stops.
			let _serving = KeyLock::acquire(&key_file)?;
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
			let interface =
				if config.metrics_external { Ipv4Addr::UNSPECIFIED } else { Ipv4Addr::LOCALHOST };
			let stash = match config.stash.as_deref() {
				Some(text) => Some(chain::account(
					&commons_client::keys::parse_account(text)
						.map_err(|_| Refusal::NotAnAddress(text.to_string()))?,
				)),
				None => None,
			};
			let settings = Settings {
				rpc: config.url,
				key,
				stash,
				models_dir: config.models_dir.relative(),
				backend: config.backend.backend(),
				threads: config.threads,
				database,
				metrics: (config.metrics_port != 0)
					.then(|| SocketAddr::from((interface, config.metrics_port))),
				max_backoff: Duration::from_secs(config.max_backoff.max(1)),
				slots: config.slots,
				tokens_per_block: config.tokens_per_block,
				fee_warning_jobs: config.fee_warning_jobs,
				#[cfg(feature = "fault-injection")]
				fault: misbehave,
			};
			serve::run(settings, stopping).await?;
		},
		Command::Completions { shell } => {
			use clap::CommandFactory;
			let name = Cli::command().get_name().to_string();
			clap_complete::generate(shell, &mut Cli::command(), name, &mut std::io::stdout());
		},
		Command::Init { out, key, settings } => {
			let given = Given { url: cli.url.as_ref(), key: Some(&key), settings: Some(&settings) };
			Config::defaults_with(given)?.write_new(&out)?;
			print(json, json!({ "written": out }), || {
				format!(
					"wrote {}: every setting with what it does; `commons-worker run` reads it from \
					 the working directory, or from `--config {}`",
					out.display(),
					out.display()
				)
			});
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
				println!("{}", json!({ "error": format!("{error:#}"), "code": code }));
			} else {
				eprintln!("error: {error:#}");
			}
			ExitCode::from(code)
		},
	}
}
