//! One signer's calls sent as few transactions: the calls queued while a batch gathers (a short
//! window after its first call) go in one `Utility.force_batch`, which pays one transaction's
//! base weight and fee however many calls it carries. Each call's outcome is reported on its own:
//! a call that fails does not stop the others (`force_batch` goes on past failures).
//!
//! A worker seated in many jobs sends the commits, then the reveals, that become due together
//! in one transaction each (docs/benchmarks.md: the base weight is about a quarter of a whole
//! job's).

use std::{
	sync::{Arc, Mutex},
	time::Duration,
};

use subxt::{tx::Signer, utils::AccountId32};
use tokio::sync::{mpsc, oneshot};

use crate::chain::{
	self,
	api::{self, runtime_types::commons_runtime::RuntimeCall},
	BlockHash, ChainError, Client, CommonsConfig, Inclusion,
};

/// A call of the runtime, as subxt encodes it.
pub type Call = RuntimeCall;

/// How long the first call of a batch waits for others: a small part of a block, so that calls
/// that become due together share a transaction without missing the block they would have
/// reached alone.
pub const WINDOW: Duration = Duration::from_millis(250);

/// The most calls in one batch. A settling reveal declares the worst case of its job (every seat
/// slashed but one); sixteen of them stay well within a block's normal-class weight.
pub const MOST_CALLS: usize = 16;

/// What a queued call waits for: the block that carried it, or why it failed.
type Outcome = Result<BlockHash, ChainError>;

struct Queued {
	client: Client,
	call: Call,
	/// Answered at the first best block that carries the call, or only once it is final.
	wait: Inclusion,
	done: oneshot::Sender<Outcome>,
}

/// Queues calls of one signer and sends them in batches.
#[derive(Clone)]
pub struct Batcher {
	queue: mpsc::UnboundedSender<Queued>,
}

impl Batcher {
	/// Starts the task that signs with `signer` and sends what is queued; it ends when every
	/// `Batcher` handle is dropped.
	pub fn spawn<S>(signer: S, window: Duration, most_calls: usize) -> Self
	where
		S: Signer<CommonsConfig> + Send + Sync + 'static,
	{
		Self::spawn_for(signer, None, window, most_calls)
	}

	/// The same, for `real` when it is given: each batch is sent as `Proxy.proxy` of `real`
	/// with the `WorkerOperation` proxy type, so that the calls act as `real` while `signer` (its
	/// operator) signs and pays the fees.
	pub fn spawn_for<S>(
		signer: S,
		real: Option<AccountId32>,
		window: Duration,
		most_calls: usize,
	) -> Self
	where
		S: Signer<CommonsConfig> + Send + Sync + 'static,
	{
		let (queue, queued) = mpsc::unbounded_channel();
		tokio::spawn(send_batches(signer, real, queued, window, most_calls.max(1)));
		Self { queue }
	}

	/// Queues `call` and waits until the transaction carrying it is finalised. A call the
	/// runtime refused is a [`ChainError::Dispatch`] naming the call and the runtime's error.
	pub async fn submit(&self, client: &Client, call: Call) -> Outcome {
		self.queue(client, call, Inclusion::Finalized).await
	}

	/// Queues `call` and waits until a block of the best chain carries it: sooner than
	/// [`Batcher::submit`], and a fork may still revert it, which the caller must detect (a call
	/// whose effect the chain no longer shows at a later block) and send again.
	pub async fn submit_in_best_block(&self, client: &Client, call: Call) -> Outcome {
		self.queue(client, call, Inclusion::Best).await
	}

	async fn queue(&self, client: &Client, call: Call, wait: Inclusion) -> Outcome {
		let (done, outcome) = oneshot::channel();
		let stopped = || {
			ChainError::other("queueing a call")(subxt::Error::Other("the sender stopped".into()))
		};
		let queued = Queued { client: client.clone(), call, wait, done };
		self.queue.send(queued).map_err(|_| stopped())?;
		outcome.await.map_err(|_| stopped())?
	}
}

/// The nonces of one signer's transactions. The chain's account nonce is read at the latest
/// finalised block, which does not count the signer's transactions still on their way; while
/// one is, the next transaction takes the nonce after the last one sent.
#[derive(Default, Debug)]
struct Nonces {
	/// The nonce after the last transaction sent.
	next: Option<u64>,
	/// Transactions sent and neither final nor failed yet.
	unsettled: usize,
}

impl Nonces {
	/// The nonce of the next transaction, given the account's nonce at the finalised block.
	fn choose(&self, finalized: u64) -> u64 {
		match self.next {
			Some(next) if self.unsettled > 0 => next.max(finalized),
			_ => finalized,
		}
	}

	/// A transaction could not be sent: the next nonce comes from the chain again.
	fn settled_unsent(&mut self) {
		self.next = None;
	}

	fn sent(&mut self, nonce: u64) {
		self.next = Some(nonce.saturating_add(1));
		self.unsettled = self.unsettled.saturating_add(1);
	}

	/// A transaction left the pool: final, or failed. After a failure (dropped, refused, a
	/// nonce the node did not accept) the next nonce comes from the chain again.
	fn settled(&mut self, failed: bool) {
		self.unsettled = self.unsettled.saturating_sub(1);
		if failed {
			self.next = None;
		}
	}
}

fn lock(nonces: &Mutex<Nonces>) -> std::sync::MutexGuard<'_, Nonces> {
	nonces.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Gathers queued calls into batches and sends each; a batch's outcome is awaited apart, so
/// that the next batch does not wait for the previous one's finality.
async fn send_batches<S: Signer<CommonsConfig>>(
	signer: S,
	real: Option<AccountId32>,
	mut queued: mpsc::UnboundedReceiver<Queued>,
	window: Duration,
	most_calls: usize,
) {
	let nonces = Arc::new(Mutex::new(Nonces::default()));
	let account = signer.account_id();
	while let Some(first) = queued.recv().await {
		let mut batch = vec![first];
		let gathering = tokio::time::sleep(window);
		tokio::pin!(gathering);
		while batch.len() < most_calls {
			tokio::select! {
				_ = &mut gathering => break,
				next = queued.recv() => match next {
					Some(next) => batch.push(next),
					None => break,
				},
			}
		}
		// Every call of a batch is sent through the connection of its latest caller.
		let Some(client) = batch.last().map(|queued| queued.client.clone()) else { continue };
		let (calls, waiting): (Vec<Call>, Vec<_>) =
			batch.into_iter().map(|queued| (queued.call, (queued.wait, queued.done))).unzip();
		let names: Vec<String> = calls.iter().map(|call| call_name(&client, call)).collect();
		let batch = ForceBatch(calls);
		let sent = match chain::finalized_nonce(&client, &account).await {
			Ok(finalized) => {
				let nonce = lock(&nonces).choose(finalized);
				let sent = match &real {
					Some(real) => {
						let call = AsOperator { real: real.clone(), call: batch };
						chain::send_at_nonce(&client, &signer, &call, nonce).await
					},
					None => chain::send_at_nonce(&client, &signer, &batch, nonce).await,
				};
				sent.map(|sent| (sent, nonce))
			},
			Err(error) => Err(error),
		};
		match sent {
			Ok((sent, nonce)) => {
				lock(&nonces).sent(nonce);
				tokio::spawn(follow(client, sent, names, waiting, nonces.clone()));
			},
			Err(error) => {
				lock(&nonces).settled_unsent();
				for (_, done) in waiting {
					let _ = done.send(Err(copy(&error)));
				}
			},
		}
	}
}

/// Follows a sent batch: answers the calls waiting for a best block at the first one that
/// carries the batch, and the rest once it is final (or all of them with the error that ended
/// the watch).
async fn follow(
	client: Client,
	mut sent: chain::Sent,
	names: Vec<String>,
	waiting: Vec<(Inclusion, oneshot::Sender<Outcome>)>,
	nonces: Arc<Mutex<Nonces>>,
) {
	let mut waiting: Vec<_> = waiting.into_iter().map(|(wait, done)| (wait, Some(done))).collect();
	loop {
		let (inclusion, outcomes) = match sent.next_block().await {
			Ok((inclusion, included)) => {
				if inclusion == Inclusion::Finalized {
					lock(&nonces).settled(false);
				}
				(inclusion, outcomes(&client, &included, &names))
			},
			Err(error) => {
				lock(&nonces).settled(true);
				(Inclusion::Finalized, names.iter().map(|_| Err(copy(&error))).collect())
			},
		};
		for ((wait, done), outcome) in waiting.iter_mut().zip(outcomes) {
			if inclusion == Inclusion::Finalized || *wait == Inclusion::Best {
				if let Some(done) = done.take() {
					let _ = done.send(outcome);
				}
			}
		}
		if inclusion == Inclusion::Finalized {
			return;
		}
	}
}

/// Each call's outcome from the batch's events: `force_batch` emits `ItemCompleted` or
/// `ItemFailed` for each call, in order.
fn outcomes(client: &Client, included: &chain::Included, names: &[String]) -> Vec<Outcome> {
	use api::utility::events::{ItemCompleted, ItemFailed};
	let mut outcomes = Vec::with_capacity(names.len());
	for event in included.events.iter() {
		let event = match event {
			Ok(event) => event,
			Err(error) => {
				let error = ChainError::other("reading a batch's events")(error);
				outcomes.resize_with(names.len(), || Err(copy(&error)));
				return outcomes;
			},
		};
		if event.as_event::<ItemCompleted>().ok().flatten().is_some() {
			outcomes.push(Ok(included.block));
		} else if event.as_event::<ItemFailed>().ok().flatten().is_some() {
			let call = names.get(outcomes.len()).cloned().unwrap_or_default();
			let error =
				subxt::error::DispatchError::decode_from(event.field_bytes(), client.metadata())
					.map(|error| chain::describe(&error))
					.unwrap_or_else(|error| format!("an error that does not decode ({error})"));
			outcomes.push(Err(ChainError::Dispatch { call, error }));
		}
	}
	// A batch sent through a proxy that the proxy pallet refused (a key that is not the
	// worker's operator): its `ProxyExecuted` event carries the error of every call.
	if outcomes.is_empty() {
		if let Some(error) = proxy_refusal(client, included) {
			return names
				.iter()
				.map(|call| Err(ChainError::Dispatch { call: call.clone(), error: error.clone() }))
				.collect();
		}
	}
	// A batch whose events do not account for every call (it never happens with `force_batch`)
	// reports the missing ones as failed rather than leaving their callers waiting.
	while outcomes.len() < names.len() {
		let call = names.get(outcomes.len()).cloned().unwrap_or_default();
		outcomes.push(Err(ChainError::Dispatch {
			call,
			error: "no outcome in the batch's events".into(),
		}));
	}
	outcomes
}

/// `Utility.force_batch(calls)`, encoded in the terms of the node's metadata of the moment.
///
/// The generated `force_batch` payload would be checked against a hash of the whole
/// `RuntimeCall` type, which changes whenever any pallet adds or changes a call: every runtime
/// upgrade would stop the sender. Here each call is encoded by its pallet's and call's names
/// against the metadata in force (refused if its own fields no longer fit), so only a change to
/// the calls sent stops it.
pub struct ForceBatch(pub Vec<Call>);

impl subxt::tx::Payload for ForceBatch {
	fn encode_call_data_to(
		&self,
		metadata: &subxt::Metadata,
		out: &mut Vec<u8>,
	) -> Result<(), subxt::ext::subxt_core::Error> {
		use codec::{Compact, Encode};
		use subxt::ext::{scale_encode::EncodeAsType, subxt_core::error::MetadataError};
		let utility = metadata.pallet_by_name_err("Utility")?;
		let force_batch = utility
			.call_variant_by_name("force_batch")
			.ok_or_else(|| MetadataError::CallNameNotFound("force_batch".into()))?;
		let call_index = force_batch.index;
		utility.index().encode_to(out);
		call_index.encode_to(out);
		Compact(self.0.len() as u32).encode_to(out);
		let call_type = metadata.outer_enums().call_enum_ty();
		for call in &self.0 {
			call.encode_as_type_to(call_type, metadata.types(), out)?;
		}
		Ok(())
	}
}

/// `Proxy.proxy(real, Some(WorkerOperation), call)`: `call` made by `real`'s operator key, in
/// the terms of the node's metadata of the moment (names, like [`ForceBatch`]).
pub struct AsOperator<P> {
	/// The account the call acts as: the registered worker.
	pub real: AccountId32,
	/// The call.
	pub call: P,
}

impl<P: subxt::tx::Payload> subxt::tx::Payload for AsOperator<P> {
	fn encode_call_data_to(
		&self,
		metadata: &subxt::Metadata,
		out: &mut Vec<u8>,
	) -> Result<(), subxt::ext::subxt_core::Error> {
		use subxt::ext::{
			scale_encode::EncodeAsType, scale_value::Value, subxt_core::error::MetadataError,
		};
		let proxy = metadata.pallet_by_name_err("Proxy")?;
		let call = proxy
			.call_variant_by_name("proxy")
			.ok_or_else(|| MetadataError::CallNameNotFound("proxy".into()))?;
		let field = |name: &str| {
			call.fields
				.iter()
				.find(|field| field.name.as_deref() == Some(name))
				.map(|field| field.ty.id)
				.ok_or_else(|| MetadataError::CallNameNotFound(format!("proxy's {name}")))
		};
		let (real_type, proxy_type) = (field("real")?, field("force_proxy_type")?);
		out.push(proxy.index());
		out.push(call.index);
		let real = Value::unnamed_variant("Id", [Value::from_bytes(self.real.0)]);
		real.encode_as_type_to(real_type, metadata.types(), out)?;
		let operation = Value::unnamed_variant(
			"Some",
			[Value::unnamed_variant(WORKER_OPERATION, Vec::<Value>::new())],
		);
		operation.encode_as_type_to(proxy_type, metadata.types(), out)?;
		// A boxed call is encoded as the call itself.
		self.call.encode_call_data_to(metadata, out)
	}
}

/// The proxy type of a worker's operator key (`commons_runtime::configs::proxy::ProxyType`).
pub const WORKER_OPERATION: &str = "WorkerOperation";

/// Whether `call` can be sent to a runtime with `metadata`: its pallet and call still exist
/// under their names and its fields still fit.
pub fn fits(call: &Call, metadata: &subxt::Metadata) -> Result<(), String> {
	use subxt::ext::scale_encode::EncodeAsType;
	call.encode_as_type(metadata.outer_enums().call_enum_ty(), metadata.types())
		.map(|_| ())
		.map_err(|error| error.to_string())
}

/// The error of a `Proxy.proxy` that failed, from its `ProxyExecuted { result }` event.
fn proxy_refusal(client: &Client, included: &chain::Included) -> Option<String> {
	included.events.iter().flatten().find_map(|event| {
		if event.pallet_name() != "Proxy" || event.variant_name() != "ProxyExecuted" {
			return None;
		}
		// `Result<(), DispatchError>`: 0 for `Ok`, 1 then the error.
		match event.field_bytes() {
			[1, error @ ..] => Some(
				subxt::error::DispatchError::decode_from(error, client.metadata())
					.map(|error| chain::describe(&error))
					.unwrap_or_else(|error| format!("an error that does not decode ({error})")),
			),
			_ => None,
		}
	})
}

/// `Pallet.call` for a runtime call, from the node's metadata.
fn call_name(client: &Client, call: &Call) -> String {
	use subxt::ext::scale_encode::EncodeAsType;
	let metadata = client.metadata();
	let call_type = metadata.outer_enums().call_enum_ty();
	let encoded = call.encode_as_type(call_type, metadata.types()).unwrap_or_default();
	let named = match encoded.as_slice() {
		[pallet, call, ..] => metadata.pallet_by_index(*pallet).and_then(|pallet| {
			let name = pallet.call_variant_by_index(*call)?.name.clone();
			Some(format!("{}.{name}", pallet.name()))
		}),
		_ => None,
	};
	named.unwrap_or_else(|| "call".to_string())
}

/// The same error for each call of a batch that failed as a whole.
fn copy(error: &ChainError) -> ChainError {
	match error {
		ChainError::Dispatch { call, error } => {
			ChainError::Dispatch { call: call.clone(), error: error.clone() }
		},
		other => ChainError::Other {
			context: "sending a batch of calls".into(),
			source: Box::new(subxt::Error::Other(other.to_string())),
		},
	}
}

#[cfg(test)]
mod tests {
	use super::Nonces;

	#[test]
	fn a_transaction_on_its_way_moves_the_next_nonce_past_the_finalised_one() {
		let mut nonces = Nonces::default();
		assert_eq!(nonces.choose(7), 7);
		nonces.sent(7);
		// The finalised block does not show nonce 7 used yet.
		assert_eq!(nonces.choose(7), 8);
		nonces.sent(8);
		assert_eq!(nonces.choose(7), 9);
		// Another sender of the same key moved the chain past what was sent from here.
		assert_eq!(nonces.choose(12), 12);
		nonces.settled(false);
		nonces.settled(false);
		// Everything sent is final: the chain's nonce is the truth again.
		assert_eq!(nonces.choose(9), 9);
	}

	#[test]
	fn after_a_failure_the_nonce_comes_from_the_chain_again() {
		let mut nonces = Nonces::default();
		nonces.sent(3);
		nonces.sent(4);
		// Nonce 3 was dropped: 4 can never be included, and 5 would wait behind it.
		nonces.settled(true);
		assert_eq!(nonces.choose(3), 3);
		nonces.sent(3);
		nonces.settled_unsent();
		assert_eq!(nonces.choose(3), 3);
	}
}
