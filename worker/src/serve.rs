//! `commons-worker run`: follows the chain's best and finalised blocks, runs the jobs assigned to
//! this worker, commits, then reveals.
//!
//! At start-up the worker measures its engine on every model it serves and declares its capacity
//! (slots and tokens per block, a third of what it measured) when the chain's differs: the chain
//! seats it only in a free slot and sizes each commit window from that declaration, so a worker
//! that keeps it always makes its windows.
//!
//! Each block, the worker asks the chain for its duties (the `Jobs::duties` view function) and
//! starts one task per job that needs it and has none running. Commits act on best blocks: a
//! commit task runs the engine (one job per slot at a time, off the async runtime), writes the
//! record to the local database and only then sends the commitment, done once a best block
//! carries it; a fork that reverts it shows as the same duty at a later height, and the stored
//! commitment is sent again. Reveals act on finalised blocks only, so that every commitment of
//! the round is final before an output is shown (docs/protocol.md); a reveal task sends the
//! stored output and salt and forgets them once that is final. A task that fails is simply
//! started again at a later block while the duty stands. Commits and reveals that become due
//! together go in one transaction ([`commons_client::batch`]).

use std::{
	collections::{HashMap, HashSet},
	net::SocketAddr,
	path::PathBuf,
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};

use anyhow::{bail, Context};
use commons_engine::{tokenizer::Role, Backend, EngineError, Model, Sampling, ENGINE_VERSION};
use commons_primitives::{prompt::Prompt, JobId, ModelId};
use subxt::utils::AccountId32;
use tokio::{sync::watch, task::JoinSet};

use commons_client::{
	batch::{self, Batcher},
	chain::{
		self,
		api::{
			self,
			runtime_types::{
				bounded_collections::bounded_vec::BoundedVec,
				commons_primitives::Capacity,
				pallet_jobs::{
					pallet::Call as JobsCall,
					types::{Duty, Job, Sampling as JobSampling},
				},
				pallet_workers::pallet::Call as WorkersCall,
			},
		},
		BlockHash, Client, Inclusion,
	},
	model_files::LocalModels,
};

use commons_client::amount::{as_float, format_amount};

use crate::{
	key::WorkerKey,
	metrics::Metrics,
	store::{JobDigest, Record, Store, StoreError},
};

/// How `commons-worker run` is configured.
pub struct Settings {
	/// The node's WebSocket RPC address.
	pub rpc: String,
	/// The worker's key: the registered worker's own, or its operator's.
	pub key: WorkerKey,
	/// The registered worker `key` operates for as its `WorkerOperation` proxy, if it is not
	/// the registered worker itself.
	pub stash: Option<AccountId32>,
	/// Where model files are looked for.
	pub models_dir: PathBuf,
	/// Where the engine runs.
	pub backend: Backend,
	/// Engine threads (0: one per core).
	pub threads: usize,
	/// The local database of commitments.
	pub database: PathBuf,
	/// Where metrics are served, if anywhere.
	pub metrics: Option<SocketAddr>,
	/// The longest wait between reconnection attempts.
	pub max_backoff: Duration,
	/// Jobs computed at once.
	pub slots: u32,
	/// Tokens per block and slot to declare; measured on the engine when absent.
	pub tokens_per_block: Option<u32>,
	/// Warn when the free balance pays the fees of fewer jobs than this.
	pub fee_warning_jobs: u32,
	/// How this worker cheats, if it does (fault tests only).
	#[cfg(feature = "fault-injection")]
	pub fault: Option<crate::faults::Fault>,
}

/// State shared by the block loop and the job tasks.
struct Worker {
	/// The registered worker: the account seated in jobs and named in commitments.
	account: AccountId32,
	/// The operator key's account, when `key` operates for `account` (it signs and pays fees).
	operator: Option<AccountId32>,
	/// Signs fee estimates (the batcher signs what is sent).
	key: WorkerKey,
	store: Store,
	metrics: Option<Metrics>,
	local: LocalModels,
	backend: Backend,
	threads: usize,
	/// Engines by model id, loaded once.
	engines: Mutex<HashMap<ModelId, Model>>,
	/// Jobs with a task running.
	busy: Mutex<HashSet<JobId>>,
	/// Jobs whose commitment a best block carries, with that block's number
	/// ([`Worker::commit_due`]).
	committed: Mutex<HashMap<JobId, u32>>,
	/// The last best block seen: finalised blocks lag it, and a commitment sent before a
	/// restart may be in a best block that is not final yet.
	best: Mutex<Option<(BlockHash, u32)>>,
	/// One job runs on the engine per declared slot at a time.
	engine_turn: tokio::sync::Semaphore,
	/// Sends this worker's commits and reveals, batching those that are due together.
	batcher: Batcher,
	/// A `go_offline` is on its way; cleared when it fails, so that the next block sends again.
	going_offline: Arc<AtomicBool>,
	/// The fees of one job's commit and reveal, estimated by the node, with the finalised block
	/// they were last estimated at.
	job_fees: Mutex<Option<(u128, u32)>>,
	/// Warn when the free balance pays the fees of fewer jobs than this.
	fee_warning_jobs: u32,
	/// The finalised block of the last fee warning, so that it is repeated only now and then.
	warned_at: Mutex<Option<u32>>,
	#[cfg(feature = "fault-injection")]
	fault: Option<crate::faults::Fault>,
}

/// A block the worker acts on: a best block for commits, a finalised one for reveals.
#[derive(Clone, Copy)]
struct At {
	hash: BlockHash,
	number: u32,
	inclusion: Inclusion,
}

/// How far a stop has gone: the first SIGINT or SIGTERM drains, the second stops at once.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Stop {
	/// Serving.
	Run,
	/// Going offline on chain and answering every seat held, then exiting.
	Drain,
	/// Exiting now; what was committed is revealed on the next start.
	Now,
}

/// Serves until `stop` says so. On [`Stop::Drain`] the worker goes offline on chain first, so
/// that no new seat comes, answers every seat it holds (commits and reveals), and exits once the
/// chain lists it offline and no duty is left; on [`Stop::Now`] it exits at once.
pub async fn run(settings: Settings, mut stop: watch::Receiver<Stop>) -> anyhow::Result<()> {
	let signer = settings.key.account();
	let account = settings.stash.clone().unwrap_or_else(|| signer.clone());
	let operator = settings.stash.is_some().then_some(signer);
	let address = chain::ss58(&account);
	let metrics = settings.metrics.map(Metrics::serve).transpose()?;
	let batcher =
		Batcher::spawn_for(settings.key.clone(), settings.stash, batch::WINDOW, batch::MOST_CALLS);
	let store = Store::open(&settings.database)?;
	let local = LocalModels::scan(&settings.models_dir, None)?;
	if let Some(address) = settings.metrics {
		tracing::info!("metrics on http://{address}/metrics");
	}
	let worker = Arc::new(Worker {
		account,
		operator,
		key: settings.key,
		store,
		metrics,
		local,
		backend: settings.backend,
		threads: settings.threads,
		engines: Mutex::new(HashMap::new()),
		busy: Mutex::new(HashSet::new()),
		committed: Mutex::new(HashMap::new()),
		best: Mutex::new(None),
		engine_turn: tokio::sync::Semaphore::new(settings.slots.max(1) as usize),
		batcher,
		going_offline: Arc::new(AtomicBool::new(false)),
		job_fees: Mutex::new(None),
		fee_warning_jobs: settings.fee_warning_jobs,
		warned_at: Mutex::new(None),
		#[cfg(feature = "fault-injection")]
		fault: settings.fault,
	});
	#[cfg(feature = "fault-injection")]
	if let Some(fault) = worker.fault {
		tracing::warn!("fault injection: this worker cheats on purpose ({fault:?})");
	}
	tracing::info!("worker {address} starting; {} records pending", worker.store.jobs()?.len());

	let mut tasks = JoinSet::new();
	let mut checked = false;
	// The runtime could not be read at the last best block that may have changed it.
	let mut runtime_unsure = false;
	'serving: while *stop.borrow() != Stop::Now {
		let watching = stop.clone();
		let client = chain::connect_with_backoff(&settings.rpc, settings.max_backoff, || {
			*watching.borrow() == Stop::Now
		})
		.await;
		let client = match client {
			Ok(client) => client,
			Err(_) => break,
		};
		tracing::info!("connected to {}", settings.rpc);
		worker.record(|metrics| metrics.connected.set(1));
		// A release that cannot encode its calls for this runtime would be slashed for every
		// seat it holds: refuse to serve it, offline.
		worker.ensure_runtime_usable(&client).await?;
		worker.bind_store(&client)?;
		if !checked {
			// A worker that cannot serve what it registered for would be slashed for every job:
			// refuse to start instead.
			worker.check_registration(&client).await?;
			worker.declare_capacity(&client, settings.slots, settings.tokens_per_block).await?;
			checked = true;
		}
		let (mut best, mut finalized) = match (
			client.blocks().subscribe_best().await,
			client.blocks().subscribe_finalized().await,
		) {
			(Ok(best), Ok(finalized)) => (best, finalized),
			(Err(error), _) | (_, Err(error)) => {
				tracing::warn!("cannot follow the chain's blocks: {error}; reconnecting");
				continue;
			},
		};
		loop {
			let (inclusion, block) = tokio::select! {
				changed = stop.changed() => {
					match (changed, *stop.borrow()) {
						(Err(_), _) | (_, Stop::Now) => break 'serving,
						(_, Stop::Drain) => {
							tracing::info!(
								"stopping: going offline and answering the seats held \
								 (a second signal exits at once)"
							);
							continue;
						},
						(_, Stop::Run) => continue,
					}
				},
				block = best.next() => (Inclusion::Best, block),
				block = finalized.next() => (Inclusion::Finalized, block),
			};
			let block = match block {
				Some(Ok(block)) => block,
				Some(Err(error)) => {
					tracing::warn!("lost the node: {error}; reconnecting");
					worker.record(|metrics| metrics.connected.set(0));
					break;
				},
				None => {
					tracing::warn!("the node closed a block subscription; reconnecting");
					worker.record(|metrics| metrics.connected.set(0));
					break;
				},
			};
			let (number, hash) = (block.number(), block.hash());
			if inclusion == Inclusion::Best
				&& (runtime_unsure
					|| chain::changes_runtime(block.header())
					|| number % RUNTIME_CHECK_EVERY == 0)
			{
				// Blocks built on this one run its runtime: sign for it before acting on it.
				runtime_unsure = match chain::adopt_runtime_at(&client, hash).await {
					Ok(adopted) => {
						if let Some(version) = adopted {
							tracing::info!(
								"block #{number}: the runtime is now spec version {}; signing \
								 for it",
								version.spec_version
							);
							worker.ensure_runtime_usable(&client).await?;
						}
						false
					},
					Err(error) => {
						tracing::warn!("block #{number}: {error}; checking again next block");
						true
					},
				};
			}
			if inclusion == Inclusion::Finalized {
				worker.record(|metrics| metrics.finalized_block.set(u64::from(number)));
				if let Ok(events) = block.events().await {
					worker.note_events(&events);
				}
				if let Err(error) = worker.watch_account(&client, hash, number).await {
					tracing::warn!("block #{number}: {error:#}");
				}
			} else {
				worker.record(|metrics| metrics.best_block.set(u64::from(number)));
				*worker.best.lock().map_err(poisoned)? = Some((hash, number));
			}
			let at = At { hash, number, inclusion };
			let duties = match worker.clone().on_block(&client, at, &mut tasks).await {
				Ok(duties) => Some(duties),
				Err(error) => {
					tracing::warn!("block #{number}: {error}");
					None
				},
			};
			while tasks.try_join_next().is_some() {}
			worker.record(|metrics| metrics.tasks_running.set(tasks.len() as u64));
			if inclusion == Inclusion::Finalized && *stop.borrow() == Stop::Drain {
				match worker.drain(&client, hash, duties, tasks.len()).await {
					Ok(true) => {
						tracing::info!("offline on chain with no seat left to answer");
						break 'serving;
					},
					Ok(false) => {},
					Err(error) => tracing::warn!("block #{number}: {error:#}"),
				}
			}
		}
	}
	if *stop.borrow() == Stop::Now {
		tracing::info!(
			"stopping at once; {} running tasks dropped, their records stay in the database",
			tasks.len()
		);
		tasks.abort_all();
	} else if !tasks.is_empty() {
		tracing::info!("waiting for {} running tasks", tasks.len());
		let finish = async { while tasks.join_next().await.is_some() {} };
		if tokio::time::timeout(Duration::from_secs(30), finish).await.is_err() {
			tracing::warn!("tasks still running after 30 s; their records stay in the database");
		}
	}
	tracing::info!("stopped");
	Ok(())
}

impl Worker {
	/// Updates the metrics, when they are served.
	fn record(&self, update: impl FnOnce(&Metrics)) {
		if let Some(metrics) = &self.metrics {
			update(metrics);
		}
	}

	/// Reads the worker's record and balance at finalised block `at` into the metrics, and warns
	/// when the free balance is about to stop paying the fees of commits and reveals: a seat
	/// whose reveal cannot be paid is slashed as a no-show.
	async fn watch_account(
		&self,
		client: &Client,
		at: BlockHash,
		number: u32,
	) -> anyhow::Result<()> {
		let state = client.storage().at(at);
		let info = state
			.fetch(&api::storage().workers().workers(self.account.clone()))
			.await
			.context("reading the worker registry")?;
		let free = state
			.fetch(&api::storage().system().account(self.fee_payer().clone()))
			.await
			.context("reading the balance")?
			.map_or(0, |account| account.data.free);
		if let Some(info) = &info {
			let unbonding: u128 = info.unbonding.0.iter().map(|chunk| chunk.amount).sum();
			self.record(|metrics| {
				metrics.online.set(u64::from(info.online));
				metrics.bonded.set(as_float(info.bonded));
				metrics.unbonding.set(as_float(unbonding));
				metrics.seats_held.set(info.live_jobs.0.len() as u64);
			});
		}
		self.record(|metrics| metrics.free.set(as_float(free)));
		let job_fees = self.job_fees(client, number).await?;
		let runway = crate::manage::fee_runway(free, job_fees);
		let low = runway < u128::from(self.fee_warning_jobs);
		self.record(|metrics| {
			metrics.fee_runway_jobs.set(runway as f64);
			metrics.fee_runway_low.set(u64::from(low));
		});
		let mut warned_at = self.warned_at.lock().map_err(poisoned)?;
		let due = warned_at.is_none_or(|last| number.saturating_sub(last) >= FEE_WARNING_EVERY);
		if low && due {
			*warned_at = Some(number);
			tracing::warn!(
				"LOW BALANCE: the free balance of {} pays the commit and reveal fees of {} {} \
				 (about {} each); send CMN to {} before it runs out: a seat whose reveal cannot be \
				 paid is slashed as a no-show",
				format_amount(free),
				runway,
				if runway == 1 { "more job" } else { "more jobs" },
				format_amount(job_fees),
				chain::ss58(&self.account)
			);
		} else if !low {
			*warned_at = None;
		}
		Ok(())
	}

	/// [`crate::manage::job_fees`], estimated again every [`FEE_ESTIMATE_EVERY`] finalised blocks
	/// as the fee multiplier moves.
	async fn job_fees(&self, client: &Client, number: u32) -> anyhow::Result<u128> {
		if let Some((fees, at)) = *self.job_fees.lock().map_err(poisoned)? {
			if number.saturating_sub(at) < FEE_ESTIMATE_EVERY {
				return Ok(fees);
			}
		}
		let operating_for = self.operator.as_ref().map(|_| &self.account);
		let fees = crate::manage::job_fees(client, &self.key, operating_for).await?;
		*self.job_fees.lock().map_err(poisoned)? = Some((fees, number));
		Ok(fees)
	}

	/// Checks that this release can still send its calls to, and read its state from, the
	/// runtime `client` follows. When it cannot, goes offline on chain (so that no new seat is
	/// assigned to a worker that could not answer it) and fails with
	/// [`UnsupportedRuntime`].
	async fn ensure_runtime_usable(&self, client: &Client) -> anyhow::Result<()> {
		let operating = self.operator.is_some();
		let Err(reason) = usable(&client.metadata(), &self.account, operating) else {
			return Ok(());
		};
		let spec_version = client.runtime_version().spec_version;
		tracing::error!(
			"this worker release cannot serve the chain's runtime (spec version {spec_version}): \
			 {reason}; going offline"
		);
		// Sent by name and without arguments, which any runtime that still has the call accepts.
		let go_offline =
			subxt::dynamic::tx("Workers", "go_offline", Vec::<subxt::dynamic::Value>::new());
		let sent = match &self.operator {
			Some(_) => {
				let call = batch::AsOperator { real: self.account.clone(), call: go_offline };
				chain::send(client, &self.key, &call).await
			},
			None => chain::send(client, &self.key, &go_offline).await,
		};
		match sent {
			Ok(sent) => match sent.finalized().await {
				Ok(_) => tracing::info!("offline: no new jobs will be assigned"),
				Err(error) => tracing::warn!("going offline: {error}"),
			},
			Err(error) => tracing::warn!("could not go offline: {error}"),
		}
		Err(UnsupportedRuntime { spec_version, reason }.into())
	}

	/// The account whose free balance pays the transaction fees: the operator's, when there is
	/// one.
	fn fee_payer(&self) -> &AccountId32 {
		self.operator.as_ref().unwrap_or(&self.account)
	}

	/// Checks that `operator` is a `WorkerOperation` proxy of the registered worker, without a
	/// delay (a delayed proxy's calls wait for announcements, which would miss every window).
	async fn check_operator(&self, client: &Client, operator: &AccountId32) -> anyhow::Result<()> {
		use api::runtime_types::commons_runtime::configs::proxy::ProxyType;
		let at = client.storage().at_latest().await.context("reading the chain")?;
		let proxies = at
			.fetch(&api::storage().proxy().proxies(self.account.clone()))
			.await
			.context("reading the registered worker's proxies")?;
		let operates = proxies.is_some_and(|(proxies, _)| {
			proxies.0.iter().any(|proxy| {
				proxy.delegate == *operator
					&& proxy.delay == 0
					&& matches!(proxy.proxy_type, ProxyType::WorkerOperation | ProxyType::Any)
			})
		});
		if !operates {
			bail!(
				"{} is not an operator of the worker {}: with the worker's own key, run \
				 `commons-worker operator add --operator {}`",
				chain::ss58(operator),
				chain::ss58(&self.account),
				chain::ss58(operator)
			);
		}
		tracing::info!(
			"operating for the worker {} with the key {}",
			chain::ss58(&self.account),
			chain::ss58(operator)
		);
		Ok(())
	}

	/// Ties the database to the chain `client` is on, the first time, and refuses a database
	/// written for another chain or another key.
	fn bind_store(&self, client: &Client) -> anyhow::Result<()> {
		self.store.bind(client.genesis_hash().0, self.account.0)?;
		Ok(())
	}

	/// Checks that the account is registered and that a local file matches the registry's
	/// sha256 for every model it serves, loading each into the engine.
	async fn check_registration(&self, client: &Client) -> anyhow::Result<()> {
		let at = client.storage().at_latest().await.context("reading the chain")?;
		let info = at
			.fetch(&api::storage().workers().workers(self.account.clone()))
			.await
			.context("reading the worker registry")?;
		let Some(info) = info else {
			bail!(
				"{} is not a registered worker: run `commons-worker register` first",
				chain::ss58(&self.account)
			);
		};
		if let Some(operator) = &self.operator {
			self.check_operator(client, operator).await?;
		}
		for model in info.models.0 {
			self.engine(client, model).await?;
		}
		if !info.online {
			// Serving means taking jobs: a worker stopped gracefully is offline until it runs.
			// Awaited before anything else is sent, so that no other call races it for a nonce;
			// an offline worker holds no seat to answer meanwhile.
			for attempt in 1..=3 {
				let call = batch::Call::Workers(WorkersCall::go_online);
				match self.batcher.submit(client, call).await {
					Ok(_) => {
						tracing::info!("online: taking new jobs");
						break;
					},
					Err(error) => {
						tracing::warn!("could not go online (try {attempt} of 3): {error}")
					},
				}
			}
		}
		Ok(())
	}

	/// One finalised block of a graceful stop: sends `go_offline` while the chain lists this
	/// worker online (again if an earlier one failed); returns whether the stop is complete:
	/// offline at `at`, no duty left there (`duties`, `None` when unknown) and no task running.
	async fn drain(
		&self,
		client: &Client,
		at: BlockHash,
		duties: Option<usize>,
		running: usize,
	) -> anyhow::Result<bool> {
		let info = client
			.storage()
			.at(at)
			.fetch(&api::storage().workers().workers(self.account.clone()))
			.await
			.context("reading the worker registry")?;
		let online = info.is_some_and(|info| info.online);
		if online && !self.going_offline.swap(true, Ordering::SeqCst) {
			let (batcher, client) = (self.batcher.clone(), client.clone());
			let going_offline = self.going_offline.clone();
			tokio::spawn(async move {
				let call = batch::Call::Workers(WorkersCall::go_offline);
				match batcher.submit(&client, call).await {
					Ok(_) => tracing::info!("offline: no new jobs will be assigned"),
					Err(error) => {
						tracing::warn!("could not go offline: {error}; trying again");
						going_offline.store(false, Ordering::SeqCst);
					},
				}
			});
		}
		Ok(!online && duties == Some(0) && running == 0)
	}

	/// Declares `slots` slots of `tokens_per_block` tokens, or of a third of what the engine
	/// measured on the slowest model the worker serves, when the chain holds another capacity.
	async fn declare_capacity(
		&self,
		client: &Client,
		slots: u32,
		tokens_per_block: Option<u32>,
	) -> anyhow::Result<()> {
		let slots = slots.max(1);
		let tokens_per_block = match tokens_per_block {
			Some(declared) => declared.max(1),
			None => self.measure_tokens_per_block(client, slots).await?,
		};
		let at = client.storage().at_latest().await.context("reading the chain")?;
		let info = at
			.fetch(&api::storage().workers().workers(self.account.clone()))
			.await
			.context("reading the worker registry")?
			.context("this worker is no longer registered")?;
		let declared = Capacity { slots, tokens_per_block };
		if info.capacity.slots == slots && info.capacity.tokens_per_block == tokens_per_block {
			tracing::info!("capacity: {slots} slot(s) of {tokens_per_block} tokens a block");
			return Ok(());
		}
		// Sent beside the block loop, so that seats already held are served meanwhile.
		let (batcher, client) = (self.batcher.clone(), client.clone());
		let was = (info.capacity.slots, info.capacity.tokens_per_block);
		tokio::spawn(async move {
			let call = batch::Call::Workers(WorkersCall::set_capacity { capacity: declared });
			match batcher.submit(&client, call).await {
				Ok(_) => tracing::info!(
					"declared capacity: {slots} slot(s) of {tokens_per_block} tokens a block \
					 (was {} of {})",
					was.0,
					was.1
				),
				// Slots still computing jobs cannot be declared away: the next start declares.
				Err(error) => tracing::warn!("could not declare the measured capacity: {error}"),
			}
		});
		Ok(())
	}

	/// A third of the tokens per block one slot processes on the slowest served model: the
	/// engine's speed on a short prompt and decode, shared between `slots` slots, times the
	/// chain's block time. A third leaves room for longer contexts (attention grows with them),
	/// other work on the machine, and the time to learn of a seat and send its commitment.
	async fn measure_tokens_per_block(&self, client: &Client, slots: u32) -> anyhow::Result<u32> {
		let block_ms = client
			.constants()
			.at(&api::constants().timestamp().minimum_period())
			.context("reading the block time")?
			.saturating_mul(2);
		let engines: Vec<(ModelId, Model)> = self
			.engines
			.lock()
			.map_err(poisoned)?
			.iter()
			.map(|(model, engine)| (*model, engine.clone()))
			.collect();
		let mut slowest = f64::INFINITY;
		for (model, engine) in engines {
			let per_second = tokio::task::spawn_blocking(move || measure(&engine)).await??;
			tracing::info!("model {model}: {per_second:.1} tokens/s measured");
			slowest = slowest.min(per_second);
		}
		if !slowest.is_finite() {
			bail!("this worker serves no model to measure");
		}
		let per_block = slowest * block_ms as f64 / 1000.0 / f64::from(slots) / 3.0;
		Ok((per_block.floor() as u32).max(1))
	}

	/// The engine for `model`, loaded on first use after checking the file against the registry.
	async fn engine(&self, client: &Client, model: ModelId) -> anyhow::Result<Model> {
		if let Some(engine) = self.engines.lock().map_err(poisoned)?.get(&model) {
			return Ok(engine.clone());
		}
		let at = client.storage().at_latest().await.context("reading the chain")?;
		let info = at
			.fetch(&api::storage().models().models(model))
			.await
			.context("reading the model registry")?
			.with_context(|| format!("model {model} is not registered"))?;
		let spec = info.spec;
		let name = String::from_utf8_lossy(&spec.name.0).into_owned();
		if spec.engine_version != ENGINE_VERSION {
			bail!(
				"model {model} ({name}) needs engine version {}, this worker runs {ENGINE_VERSION}",
				spec.engine_version
			);
		}
		let Some(path) = self.local.find(&spec.weights_sha256) else {
			bail!(
				"REFUSING TO SERVE model {model} ({name}): the registry says its file has sha256 {}, \
				 and {}",
				hex::encode(spec.weights_sha256),
				self.local
			);
		};
		let (path, hash, backend, threads) =
			(path.to_path_buf(), spec.weights_sha256, self.backend.clone(), self.threads);
		let engine = tokio::task::spawn_blocking(move || {
			Model::load_verified(&path, &hash)?.with_threads(threads)?.with_backend(&backend)
		})
		.await??;
		tracing::info!("serving model {model} ({name}) on {}", engine.backend_description());
		self.engines.lock().map_err(poisoned)?.insert(model, engine.clone());
		Ok(engine)
	}

	/// Starts a task for every duty due at `at` that has none running; returns how many duties
	/// the worker has there. A best block starts commits only; a finalised block starts reveals,
	/// and commits that the best blocks missed.
	async fn on_block(
		self: Arc<Self>,
		client: &Client,
		at: At,
		tasks: &mut JoinSet<()>,
	) -> anyhow::Result<usize> {
		let duties = chain::view(
			client,
			Some(at.hash),
			api::view_functions().jobs().duties(self.account.clone()),
		)
		.await
		.context("reading this worker's duties")?;
		let count = duties.len();
		for (job, duty) in duties {
			let due = due(&duty, job, at, &mut *self.committed.lock().map_err(poisoned)?);
			#[cfg(feature = "fault-injection")]
			if matches!(duty, Duty::Reveal { .. })
				&& self.fault.is_some_and(crate::faults::Fault::withholds_reveal)
			{
				tracing::debug!("job {job}: fault injection: withholding the reveal");
				continue;
			}
			if !due || !self.busy.lock().map_err(poisoned)?.insert(job) {
				continue;
			}
			let (worker, client) = (self.clone(), client.clone());
			tasks.spawn(async move {
				let outcome = match duty {
					Duty::Commit { .. } => worker.commit(&client, at, job).await,
					Duty::Reveal { .. } => worker.reveal(&client, at.hash, job).await,
					Duty::Wait => Ok(()),
				};
				if let Err(error) = outcome {
					tracing::error!("job {job}: {error:#}");
				}
				if let Ok(mut busy) = worker.busy.lock() {
					busy.remove(&job);
				}
			});
		}
		Ok(count)
	}

	/// Runs the job (unless its record is already stored), stores the record, then commits.
	async fn commit(&self, client: &Client, at: At, job: JobId) -> anyhow::Result<()> {
		let Some(best) = *self.best.lock().map_err(poisoned)? else {
			// Finalised blocks can arrive first after a start: commits wait for a best block.
			return Ok(());
		};
		if let Some(number) = self.committed_in_best(client, at, best, job).await? {
			tracing::info!(
				"job {job}: this worker's commitment is already in best block #{number}; \
				 waiting for the reveal"
			);
			self.committed.lock().map_err(poisoned)?.insert(job, number);
			return Ok(());
		}
		let posted = read_job(client, at.hash, job).await?;
		let digest = job_digest(&posted);
		let record = match self.stored(job, &digest)? {
			Some(record) => {
				tracing::info!("job {job}: committing the stored output again");
				record
			},
			None => {
				#[cfg(feature = "fault-injection")]
				if self.fault == Some(crate::faults::Fault::CopyCommitment) {
					return self.copy_commitment(client, job, &posted).await;
				}
				#[allow(unused_mut)] // Changed only by fault injection.
				let mut record = self.run_job(client, job, &posted, digest).await?;
				#[cfg(feature = "fault-injection")]
				if self.fault == Some(crate::faults::Fault::WrongOutput) {
					crate::faults::falsify(&mut record.output);
					record.output_hash = commons_primitives::output_hash(
						ENGINE_VERSION,
						record.model,
						&record.output,
					);
					tracing::warn!("job {job}: fault injection: committing a wrong output");
				}
				self.store.put(job, &record)?;
				record
			},
		};
		let commitment =
			commons_primitives::commitment(&record.output_hash, &record.salt, &self.account);
		let number = self.commit_in_best_block(client, job, commitment).await?;
		tracing::info!(
			"job {job}: committed to {} in block #{number}",
			hex::encode(record.output_hash)
		);
		Ok(())
	}

	/// The number of the `best` block, when it is newer than `at` and already carries this
	/// worker's commitment to `job` in its current round. A worker restarted after committing
	/// acts on finalised blocks older than its commitment; committing again would fail, and
	/// running the job would only delay it: the reveal uses the stored record or recovers it.
	async fn committed_in_best(
		&self,
		client: &Client,
		at: At,
		(hash, number): (BlockHash, u32),
		job: JobId,
	) -> anyhow::Result<Option<u32>> {
		if number <= at.number {
			return Ok(None);
		}
		let posted = read_job(client, hash, job).await?;
		let committed = posted.seats.0.iter().any(|seat| {
			seat.worker == self.account && seat.round == posted.round && seat.commitment.is_some()
		});
		Ok(committed.then_some(number))
	}

	/// The stored record of `job` when it answers the job with `digest`. A record of another job
	/// under the same id, or one that cannot be read, is reported loudly and not used: the job
	/// is run afresh, and its salt derived again ([`WorkerKey::salt`]).
	fn stored(&self, job: JobId, digest: &JobDigest) -> anyhow::Result<Option<Record>> {
		match self.store.get(job) {
			Ok(Some(record)) if record.job.is_none_or(|answered| answered == *digest) => {
				Ok(Some(record))
			},
			Ok(Some(record)) => {
				tracing::error!(
					"job {job}: the stored record answers another job (digest 0x{}, the chain's is \
					 0x{}); not using it",
					hex::encode(record.job.unwrap_or_default()),
					hex::encode(digest)
				);
				Ok(None)
			},
			Ok(None) => Ok(None),
			Err(error @ StoreError::Unreadable { .. }) => {
				tracing::error!("{error}");
				Ok(None)
			},
			Err(error) => Err(error.into()),
		}
	}

	/// Fault injection: commits another seat's commitment without running the job, as a lazy
	/// worker would. Fails (and is tried again next block) while no other seat has committed.
	#[cfg(feature = "fault-injection")]
	async fn copy_commitment(
		&self,
		client: &Client,
		job: JobId,
		posted: &Job,
	) -> anyhow::Result<()> {
		let copied = posted
			.seats
			.0
			.iter()
			.filter(|seat| seat.worker != self.account)
			.find_map(|seat| seat.commitment)
			.context("fault injection: no other seat has committed yet")?;
		self.commit_in_best_block(client, job, copied).await?;
		tracing::warn!("job {job}: fault injection: committed a copy of {}", hex::encode(copied));
		Ok(())
	}

	/// Runs job `job`, as posted, on the engine.
	async fn run_job(
		&self,
		client: &Client,
		job: JobId,
		posted: &Job,
		digest: JobDigest,
	) -> anyhow::Result<Record> {
		let Job { model, engine_version, prompt, max_tokens, sampling, .. } = posted.clone();
		tracing::info!("job {job}: seated; running it on model {model}");
		if engine_version != ENGINE_VERSION {
			bail!(
				"the job needs engine version {engine_version}, this worker runs {ENGINE_VERSION}"
			);
		}
		let engine = self.engine(client, model).await?;
		let _turn = self.engine_turn.acquire().await?;
		let started = Instant::now();
		let output = tokio::task::spawn_blocking(move || {
			generate(&engine, &prompt.0, max_tokens, &sampling)
		})
		.await??;
		let seconds = started.elapsed().as_secs_f64();
		let tokens = output.len();
		tracing::info!(
			"job {job}: {tokens} tokens in {seconds:.2} s ({:.1} tokens/s)",
			tokens as f64 / seconds.max(1e-9)
		);
		self.record(|metrics| {
			metrics.tokens_generated.inc_by(tokens as u64);
			metrics.tokens_per_second.set(tokens as f64 / seconds.max(1e-9));
		});
		let salt = self.key.salt(&client.genesis_hash().0, job, &digest);
		let output_hash = commons_primitives::output_hash(ENGINE_VERSION, model, &output);
		Ok(Record { job: Some(digest), model, output, output_hash, salt })
	}

	/// Reveals the stored output and salt, then forgets them. Without a usable record (the
	/// database was lost, or the record cannot be read) the job is run again: the engine gives
	/// the same output and the key the same salt, so the commitment sent is met, which is
	/// checked against the chain's before anything is revealed.
	async fn reveal(&self, client: &Client, at: BlockHash, job: JobId) -> anyhow::Result<()> {
		let posted = read_job(client, at, job).await?;
		let digest = job_digest(&posted);
		let record = match self.stored(job, &digest)? {
			Some(record) => record,
			None => {
				tracing::warn!(
					"job {job}: no stored commitment to reveal; running the job again to \
					 recover it"
				);
				let record = self.run_job(client, job, &posted, digest).await?;
				let committed = posted
					.seats
					.0
					.iter()
					.filter(|seat| seat.worker == self.account && seat.round == posted.round)
					.find_map(|seat| seat.commitment);
				let recomputed = commons_primitives::commitment(
					&record.output_hash,
					&record.salt,
					&self.account,
				);
				if committed != Some(recomputed) {
					bail!(
						"the commitment on chain is not the one a fresh run gives (committed \
						 with a random salt by an older release, or by another engine): it cannot \
						 be revealed, and the seat will be counted as a no-show"
					);
				}
				tracing::info!("job {job}: recovered the committed output");
				record
			},
		};
		let call =
			JobsCall::reveal_result { job, output: BoundedVec(record.output), salt: record.salt };
		self.submit(client, call).await?;
		tracing::info!("job {job}: revealed");
		self.store.remove(job)?;
		self.committed.lock().map_err(poisoned)?.remove(&job);
		self.record(|metrics| metrics.jobs_served.inc());
		Ok(())
	}

	/// Sends the commitment (in a batch with the calls due with it) and waits until a best block
	/// carries it, whose number it notes and returns: the reveal waits for finality anyway, so
	/// waiting for it here would only delay the other seats' reveals.
	async fn commit_in_best_block(
		&self,
		client: &Client,
		job: JobId,
		commitment: [u8; 32],
	) -> anyhow::Result<u32> {
		let call = batch::Call::Jobs(JobsCall::commit_result { job, commitment });
		let block = self.batcher.submit_in_best_block(client, call).await?;
		let number =
			client.blocks().at(block).await.context("reading the commit's block")?.number();
		self.committed.lock().map_err(poisoned)?.insert(job, number);
		Ok(number)
	}

	/// Sends `call` (in a batch with the calls due with it) and waits until it is finalised.
	async fn submit(
		&self,
		client: &Client,
		call: JobsCall,
	) -> Result<BlockHash, chain::ChainError> {
		self.batcher.submit(client, batch::Call::Jobs(call)).await
	}

	/// Counts payments, emission and slashes of this worker in a finalised block's events.
	fn note_events(&self, events: &subxt::events::Events<chain::CommonsConfig>) {
		use api::{
			jobs::events::{JobAccepted, WorkerSlashed},
			rewards::events::RewardPaid,
		};
		for accepted in events.find::<JobAccepted>().flatten() {
			let agreeing = &accepted.agreeing_workers.0;
			if agreeing.contains(&self.account) {
				// Every agreeing seat is paid the same price per replica.
				let share = accepted.paid / agreeing.len().max(1) as u128;
				tracing::info!("job {}: accepted; earned {}", accepted.job, format_amount(share));
				self.record(|metrics| metrics.earned.inc_by(as_float(share)));
			}
		}
		for reward in events.find::<RewardPaid>().flatten() {
			if reward.worker == self.account {
				tracing::info!(
					"era {}: emission of {} minted to this worker",
					reward.era,
					format_amount(reward.amount)
				);
				self.record(|metrics| metrics.emission.inc_by(as_float(reward.amount)));
			}
		}
		for slashed in events.find::<WorkerSlashed>().flatten() {
			if slashed.worker == self.account {
				tracing::warn!(
					"job {}: slashed {} ({:?})",
					slashed.job,
					format_amount(slashed.amount),
					slashed.reason
				);
				self.record(|metrics| {
					metrics.slashes.inc();
					metrics.slashed.inc_by(as_float(slashed.amount));
				});
			}
		}
	}
}

/// Job `job` as the chain holds it at block `at`.
async fn read_job(client: &Client, at: BlockHash, job: JobId) -> anyhow::Result<Job> {
	chain::view(client, Some(at), api::view_functions().jobs().job(job))
		.await
		.context("reading the job")?
		.with_context(|| format!("job {job} is not stored"))
}

/// What identifies a job's question ([`JobDigest`]).
pub fn job_digest(job: &Job) -> JobDigest {
	use codec::Encode;
	let sampling = match job.sampling {
		JobSampling::Greedy => (0u8, 0u32, 0u32, 0u64),
		JobSampling::TopK { temperature, top_k, seed } => (1, temperature, top_k, seed),
	};
	let fields = (
		&job.requester.0,
		job.model,
		job.engine_version,
		&job.prompt.0,
		job.max_tokens,
		sampling,
		job.posted_at,
	);
	sp_crypto_hashing::blake2_256(&fields.encode())
}

/// The protocol's rule for turning a job into tokens (docs/protocol.md, "Prompts"): text prompt
/// bytes, read as UTF-8 (invalid sequences replaced), are one user message in the model's chat
/// template; a conversation's messages are its turns. A prompt too long for the context, or
/// whose tokens outnumber its bytes plus the template's allowance (`PROMPT_TEMPLATE_TOKENS`),
/// yields an empty output, which every honest worker agrees on. The second rule keeps a job's
/// work within the size the chain sized its windows by.
pub fn generate(
	engine: &Model,
	prompt: &[u8],
	max_tokens: u32,
	sampling: &JobSampling,
) -> anyhow::Result<Vec<u32>> {
	let tokens = match commons_primitives::prompt::parse(prompt) {
		Ok(Prompt::Text(bytes)) => {
			let text = String::from_utf8_lossy(bytes);
			engine.tokenizer().encode_chat(&[(Role::User, &text)], true)?
		},
		Ok(Prompt::Conversation(messages)) => {
			let turns: Vec<(Role, &str)> = messages
				.iter()
				.map(|message| {
					// The chain posts only conversations whose content is UTF-8.
					let content = std::str::from_utf8(&message.content).unwrap_or_default();
					(message.role.into(), content)
				})
				.collect();
			engine.tokenizer().encode_chat(&turns, true)?
		},
		// The chain refuses malformed conversations; were one stored, every worker agrees on
		// the empty output.
		Err(_) => return Ok(Vec::new()),
	};
	let allowed = prompt.len().saturating_add(commons_primitives::PROMPT_TEMPLATE_TOKENS as usize);
	if tokens.len() > allowed {
		return Ok(Vec::new());
	}
	let sampling = match *sampling {
		JobSampling::Greedy => Sampling::Greedy,
		JobSampling::TopK { temperature, top_k, seed } => {
			Sampling::TopK { k: top_k as usize, temperature_milli: temperature, seed }
		},
	};
	match engine.generate(&tokens, max_tokens as usize, &sampling, |_, _| {}) {
		Ok(generation) => Ok(generation.tokens),
		Err(EngineError::PromptTooLong { .. }) => Ok(Vec::new()),
		Err(error) => Err(error.into()),
	}
}

/// Whether `duty` of `job`, read at block `at`, starts a task. A reveal is due only at a
/// finalised block: every commitment of the round is final then, and a commitment a fork could
/// still revert cannot be replaced by a copy of what was revealed (docs/protocol.md). A commit is
/// due unless `committed` (the jobs whose commitment a best block carries, with its number) says
/// it was sent: a block below that number does not show it yet, but one at or above it that still
/// asks for it is on a chain without it (a fork reverted it), so it is due again.
fn due(duty: &Duty, job: JobId, at: At, committed: &mut HashMap<JobId, u32>) -> bool {
	match duty {
		Duty::Wait => false,
		Duty::Reveal { .. } => at.inclusion == Inclusion::Finalized,
		Duty::Commit { .. } => match committed.get(&job) {
			Some(&carried_at) if at.number < carried_at => false,
			Some(&carried_at) => {
				tracing::warn!(
					"job {job}: the commitment sent in block #{carried_at} is not on the chain at \
					 #{} (a fork reverted it); committing again",
					at.number
				);
				committed.remove(&job);
				true
			},
			None => true,
		},
	}
}

/// Best blocks between two checks of the runtime's version when no block has said it changed
/// (a block that did can be missed when the best chain jumps).
const RUNTIME_CHECK_EVERY: u32 = 30;

/// The chain runs a runtime this release cannot serve: a call it sends or state it reads
/// changed.
#[derive(Debug, thiserror::Error)]
#[error(
	"the chain's runtime (spec version {spec_version}) is not one this worker release can serve: \
	 {reason}. The worker went offline; install a release built for this runtime and run again \
	 (the commitments in its database are revealed then)"
)]
pub struct UnsupportedRuntime {
	/// The runtime's spec version.
	pub spec_version: u32,
	/// What no longer fits.
	pub reason: String,
}

/// Whether the calls this worker sends still encode for a runtime with `metadata`, and the state
/// and view functions it reads still have the types it decodes.
pub fn usable(
	metadata: &subxt::Metadata,
	account: &AccountId32,
	operating: bool,
) -> Result<(), String> {
	use subxt::ext::subxt_core::{storage, view_functions};
	let sent = [
		batch::Call::Jobs(JobsCall::commit_result { job: 0, commitment: [0; 32] }),
		batch::Call::Jobs(JobsCall::reveal_result {
			job: 0,
			output: BoundedVec(Vec::new()),
			salt: [0; 32],
		}),
		batch::Call::Workers(WorkersCall::go_online),
		batch::Call::Workers(WorkersCall::go_offline),
		batch::Call::Workers(WorkersCall::set_capacity {
			capacity: Capacity { slots: 1, tokens_per_block: 1 },
		}),
	];
	for call in &sent {
		batch::fits(call, metadata).map_err(|error| format!("{}: {error}", call_name(call)))?;
	}
	let empty_batch = batch::ForceBatch(Vec::new());
	subxt::tx::Payload::encode_call_data(&empty_batch, metadata)
		.map_err(|error| format!("Utility.force_batch: {error}"))?;
	if operating {
		let proxied = batch::AsOperator { real: account.clone(), call: empty_batch };
		subxt::tx::Payload::encode_call_data(&proxied, metadata)
			.map_err(|error| format!("Proxy.proxy: {error}"))?;
	}
	let (workers, system, models) =
		(api::storage().workers(), api::storage().system(), api::storage().models());
	let views = api::view_functions().jobs();
	let read = [
		("Workers.Workers", storage::validate(&workers.workers(account.clone()), metadata)),
		("System.Account", storage::validate(&system.account(account.clone()), metadata)),
		("Models.Models", storage::validate(&models.models(0), metadata)),
		("Jobs.duties", view_functions::validate(&views.duties(account.clone()), metadata)),
		("Jobs.job", view_functions::validate(&views.job(0), metadata)),
	];
	for (name, outcome) in read {
		outcome.map_err(|error| format!("{name}: {error}"))?;
	}
	Ok(())
}

fn call_name(call: &batch::Call) -> &'static str {
	match call {
		batch::Call::Jobs(JobsCall::commit_result { .. }) => "Jobs.commit_result",
		batch::Call::Jobs(JobsCall::reveal_result { .. }) => "Jobs.reveal_result",
		batch::Call::Workers(WorkersCall::go_online) => "Workers.go_online",
		batch::Call::Workers(WorkersCall::go_offline) => "Workers.go_offline",
		batch::Call::Workers(WorkersCall::set_capacity { .. }) => "Workers.set_capacity",
		_ => "a call",
	}
}

/// Finalised blocks between two estimates of a job's fees.
const FEE_ESTIMATE_EVERY: u32 = 100;

/// Finalised blocks between two warnings while the fee runway stays low (about two minutes).
const FEE_WARNING_EVERY: u32 = 60;

/// The prompt the engine is measured on: about 25 tokens with the chat template, so that a
/// slow backend (Mesa lavapipe: about one token a second) measures in half a minute.
const MEASURE_PROMPT: &str = "Say how the weather is today.";

/// Tokens generated when measuring.
const MEASURE_DECODE: usize = 8;

/// The tokens a second `engine` processes, prompt and generated together, on
/// [`MEASURE_PROMPT`].
pub fn measure(engine: &Model) -> anyhow::Result<f64> {
	let tokens = engine.tokenizer().encode_chat(&[(Role::User, MEASURE_PROMPT)], true)?;
	let started = Instant::now();
	let generation = engine.generate(&tokens, MEASURE_DECODE, &Sampling::Greedy, |_, _| {})?;
	let processed = tokens.len().saturating_add(generation.tokens.len());
	Ok(processed as f64 / started.elapsed().as_secs_f64().max(1e-9))
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> anyhow::Error {
	anyhow::anyhow!("a worker thread panicked")
}

#[cfg(test)]
mod tests {
	use super::*;

	fn at(number: u32, inclusion: Inclusion) -> At {
		At { hash: BlockHash::zero(), number, inclusion }
	}

	/// The runtime metadata the client was generated from, as frame-metadata's types.
	fn committed_metadata() -> frame_metadata::RuntimeMetadataPrefixed {
		let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../client/metadata/commons.scale");
		let bytes = std::fs::read(path).unwrap();
		codec::Decode::decode(&mut bytes.as_slice()).unwrap()
	}

	fn subxt_metadata(metadata: frame_metadata::RuntimeMetadataPrefixed) -> subxt::Metadata {
		subxt::Metadata::try_from(metadata).unwrap()
	}

	/// Renames variant `from` of pallet `pallet`'s call enum to `to`.
	fn rename_call(
		metadata: &mut frame_metadata::RuntimeMetadataPrefixed,
		pallet: &str,
		from: &str,
		to: &str,
	) {
		let frame_metadata::RuntimeMetadata::V16(v16) = &mut metadata.1 else {
			panic!("the committed metadata is v16")
		};
		let calls = v16.pallets.iter().find(|p| p.name == pallet).unwrap().calls.clone().unwrap();
		let ty = v16.types.types.iter_mut().find(|ty| ty.id == calls.ty.id).unwrap();
		let scale_info::TypeDef::Variant(variants) = &mut ty.ty.type_def else {
			panic!("a call enum is a variant type")
		};
		variants.variants.iter_mut().find(|variant| variant.name == from).unwrap().name =
			to.to_string();
	}

	#[test]
	fn a_runtime_that_changes_only_other_calls_is_served_and_one_that_changes_a_worker_call_is_not()
	{
		let account = AccountId32([1; 32]);
		assert_eq!(usable(&subxt_metadata(committed_metadata()), &account, true), Ok(()));

		// Another pallet's call changed: the batch still encodes, by names.
		let mut other = committed_metadata();
		rename_call(&mut other, "System", "remark", "remark_v2");
		let other = subxt_metadata(other);
		assert_eq!(usable(&other, &account, true), Ok(()));
		// The generated `force_batch`, checked against the whole call type, would have stopped.
		let generated = api::tx().utility().force_batch(Vec::new());
		assert!(subxt::ext::subxt_core::tx::validate(&generated, &other).is_err());

		let mut changed = committed_metadata();
		rename_call(&mut changed, "Jobs", "reveal_result", "reveal_result_v2");
		let reason = usable(&subxt_metadata(changed), &account, false).unwrap_err();
		assert!(reason.starts_with("Jobs.reveal_result"), "{reason}");
	}

	#[test]
	fn reveals_wait_for_finality_and_a_reverted_commitment_is_sent_again() {
		let mut committed = HashMap::new();
		let reveal = Duty::Reveal { from: 5, until: 20 };
		assert!(!due(&reveal, 1, at(9, Inclusion::Best), &mut committed));
		assert!(due(&reveal, 1, at(9, Inclusion::Finalized), &mut committed));
		assert!(!due(&Duty::Wait, 1, at(9, Inclusion::Finalized), &mut committed));

		let commit = Duty::Commit { until: 30 };
		assert!(due(&commit, 1, at(9, Inclusion::Best), &mut committed));
		// Sent; a best block at #10 carries it.
		committed.insert(1, 10);
		// A lagging (finalised) block before #10 does not show it yet: not sent again.
		assert!(!due(&commit, 1, at(8, Inclusion::Finalized), &mut committed));
		assert_eq!(committed.get(&1), Some(&10));
		// A block at #10 or later that still asks for it is on a branch without it.
		assert!(due(&commit, 1, at(11, Inclusion::Best), &mut committed));
		assert!(committed.is_empty());
	}
}
