//! A typed JSON-RPC connection to a Commons node.

use std::time::{Duration, Instant};

use codec::{Decode, Encode};
use commons_runtime::{
	AccountId, Balance, Hash, Nonce, Runtime, RuntimeCall, RuntimeError, RuntimeEvent,
	UncheckedExtrinsic,
};
use frame_system::{AccountInfo, EventRecord, Phase};
use jsonrpsee::{
	core::{client::ClientT, params::ArrayParams, ClientError},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use pallet_balances::AccountData;
use serde::de::DeserializeOwned;
use sp_runtime::DispatchError;

use crate::{
	tx::{self, ChainContext, Lifetime},
	Error, Keypair, Result,
};

/// How many blocks a transaction built by [`Node::sign_and_submit`] stays valid.
const MORTALITY_PERIOD: u64 = 64;

/// An account's nonce and balances.
pub type Account = AccountInfo<Nonce, AccountData<Balance>>;

/// Where and how a transaction ended up.
#[derive(Debug, Clone)]
pub struct Inclusion {
	/// Number of the finalised block that included it.
	pub block_number: u32,
	/// Hash of that block.
	pub block_hash: Hash,
	/// Its index among the block's extrinsics.
	pub index: u32,
	/// The fee actually charged.
	pub fee: Balance,
	/// The events it emitted, in order.
	pub events: Vec<RuntimeEvent>,
	/// `Err` with the runtime's error when its call failed (see [`describe_dispatch_error`]).
	pub outcome: std::result::Result<(), DispatchError>,
}

/// A connection to a node.
pub struct Node {
	client: WsClient,
	chain: ChainContext,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeVersionJson {
	spec_version: u32,
	transaction_version: u32,
}

#[derive(serde::Deserialize)]
struct HeaderJson {
	number: String,
}

#[derive(serde::Deserialize)]
struct BlockJson {
	extrinsics: Vec<String>,
}

#[derive(serde::Deserialize)]
struct SignedBlockJson {
	block: BlockJson,
}

fn decode_hex(what: &'static str, text: &str) -> Result<Vec<u8>> {
	hex::decode(text.trim_start_matches("0x"))
		.map_err(|error| Error::Decode { what, detail: error.to_string() })
}

fn parse_number(text: &str) -> Result<u32> {
	u32::from_str_radix(text.trim_start_matches("0x"), 16)
		.map_err(|error| Error::Decode { what: "block number", detail: error.to_string() })
}

/// Names a dispatch error the way the runtime declares it (`Balances::InsufficientBalance`).
pub fn describe_dispatch_error(error: DispatchError) -> String {
	match RuntimeError::from_dispatch_error(error) {
		Some(named) => format!("{named:?}"),
		None => format!("{error:?}"),
	}
}

impl Node {
	/// Connects to the node at `url` (`ws://127.0.0.1:9944`).
	pub async fn connect(url: &str) -> Result<Self> {
		let unreachable = |source| Error::Unreachable { url: url.to_string(), source };
		let client = WsClientBuilder::default()
			.request_timeout(Duration::from_secs(30))
			.build(url)
			.await
			.map_err(unreachable)?;
		let mut node = Self {
			client,
			chain: ChainContext {
				genesis_hash: Hash::zero(),
				spec_version: 0,
				transaction_version: 0,
			},
		};
		let genesis_hash = node.block_hash(0).await?.ok_or_else(|| Error::Rpc {
			method: "chain_getBlockHash",
			message: "no genesis".into(),
		})?;
		let version: RuntimeVersionJson =
			node.call("state_getRuntimeVersion", rpc_params![]).await?;
		node.chain = ChainContext {
			genesis_hash,
			spec_version: version.spec_version,
			transaction_version: version.transaction_version,
		};
		Ok(node)
	}

	/// Connects, retrying until `timeout` passes: for a node that is still starting.
	pub async fn connect_with_retry(url: &str, timeout: Duration) -> Result<Self> {
		let deadline = Instant::now() + timeout;
		loop {
			match Self::connect(url).await {
				Ok(node) => return Ok(node),
				Err(error) if Instant::now() >= deadline => return Err(error),
				Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
			}
		}
	}

	/// The chain facts transactions are signed against.
	pub fn chain(&self) -> ChainContext {
		self.chain
	}

	async fn call<R: DeserializeOwned>(
		&self,
		method: &'static str,
		params: ArrayParams,
	) -> Result<R> {
		self.client.request(method, params).await.map_err(|error| match error {
			ClientError::Call(object) => Error::Rpc {
				method,
				message: match object.data() {
					Some(data) => format!("{}: {}", object.message(), data.get().trim_matches('"')),
					None => object.message().to_string(),
				},
			},
			other => Error::Rpc { method, message: other.to_string() },
		})
	}

	/// The runtime's spec version at the best block.
	pub async fn spec_version(&self) -> Result<u32> {
		let version: RuntimeVersionJson =
			self.call("state_getRuntimeVersion", rpc_params![]).await?;
		Ok(version.spec_version)
	}

	/// Every key and value of the state at block `at` (paged, as any client may read it), to
	/// check a runtime's invariants against a live chain's state.
	pub async fn state_pairs(&self, at: Hash) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
		const PAGE: u32 = 1000;
		let mut keys: Vec<sp_core::Bytes> = Vec::new();
		loop {
			let start = keys.last().cloned();
			let page: Vec<sp_core::Bytes> =
				self.call("state_getKeysPaged", rpc_params!["0x", PAGE, start, at]).await?;
			let done = page.len() < PAGE as usize;
			keys.extend(page);
			if done {
				break;
			}
		}
		#[derive(serde::Deserialize)]
		struct Changes {
			changes: Vec<(sp_core::Bytes, Option<sp_core::Bytes>)>,
		}
		let mut pairs = Vec::with_capacity(keys.len());
		for chunk in keys.chunks(PAGE as usize) {
			let answers: Vec<Changes> =
				self.call("state_queryStorageAt", rpc_params![chunk, at]).await?;
			for answer in answers {
				for (key, value) in answer.changes {
					if let Some(value) = value {
						pairs.push((key.0, value.0));
					}
				}
			}
		}
		Ok(pairs)
	}

	/// Hash of block `number` on the best chain, if it exists.
	pub async fn block_hash(&self, number: u32) -> Result<Option<Hash>> {
		self.call("chain_getBlockHash", rpc_params![number]).await
	}

	/// Number and hash of the last finalised block.
	pub async fn finalized_head(&self) -> Result<(u32, Hash)> {
		let hash: Hash = self.call("chain_getFinalizedHead", rpc_params![]).await?;
		let header: HeaderJson = self.call("chain_getHeader", rpc_params![hash]).await?;
		Ok((parse_number(&header.number)?, hash))
	}

	/// Waits until the finalised block number reaches `number`.
	pub async fn wait_finalized_number(&self, number: u32, timeout: Duration) -> Result<u32> {
		let deadline = Instant::now() + timeout;
		loop {
			let (head, _) = self.finalized_head().await?;
			if head >= number {
				return Ok(head);
			}
			if Instant::now() >= deadline {
				return Err(Error::Timeout(
					format!("finalised block #{number}"),
					timeout.as_secs(),
				));
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}

	/// The raw value at storage `key` in block `at` (the best block when `None`).
	pub async fn storage(&self, key: Vec<u8>, at: Option<Hash>) -> Result<Option<Vec<u8>>> {
		let key = format!("0x{}", hex::encode(key));
		let value: Option<String> = self.call("state_getStorage", rpc_params![key, at]).await?;
		value.map(|value| decode_hex("storage value", &value)).transpose()
	}

	/// Nonce and balances of `who` at block `at` (the best block when `None`).
	pub async fn account(&self, who: &AccountId, at: Option<Hash>) -> Result<Account> {
		let key = frame_system::Account::<Runtime>::hashed_key_for(who);
		match self.storage(key, at).await? {
			Some(bytes) => Account::decode(&mut &bytes[..])
				.map_err(|error| Error::Decode { what: "account", detail: error.to_string() }),
			None => Ok(Account::default()),
		}
	}

	/// Free balance of `who` at block `at`.
	pub async fn free_balance(&self, who: &AccountId, at: Option<Hash>) -> Result<Balance> {
		Ok(self.account(who, at).await?.data.free)
	}

	/// The next nonce of `who`, counting transactions still in the pool.
	pub async fn next_nonce(&self, who: &AccountId) -> Result<Nonce> {
		self.call("system_accountNextIndex", rpc_params![crate::keys::to_ss58(who)]).await
	}

	/// The time block `at` was authored, in milliseconds since the Unix epoch.
	pub async fn timestamp(&self, at: Hash) -> Result<u64> {
		let key = pallet_timestamp::Now::<Runtime>::hashed_key().to_vec();
		let bytes = self.storage(key, Some(at)).await?.unwrap_or_default();
		u64::decode(&mut &bytes[..])
			.map_err(|error| Error::Decode { what: "timestamp", detail: error.to_string() })
	}

	/// The events of block `at`.
	pub async fn events(&self, at: Hash) -> Result<Vec<EventRecord<RuntimeEvent, Hash>>> {
		// `System::Events` is private to its pallet; its key is the pallet and item prefixes.
		let key = [sp_crypto_hashing::twox_128(b"System"), sp_crypto_hashing::twox_128(b"Events")]
			.concat();
		match self.storage(key, Some(at)).await? {
			Some(bytes) => Vec::<EventRecord<RuntimeEvent, Hash>>::decode(&mut &bytes[..])
				.map_err(|error| Error::Decode { what: "events", detail: error.to_string() }),
			None => Ok(Vec::new()),
		}
	}

	/// The extrinsics of block `at`, as hex.
	pub async fn block_extrinsics(&self, at: Hash) -> Result<Vec<String>> {
		let block: SignedBlockJson = self.call("chain_getBlock", rpc_params![at]).await?;
		Ok(block.block.extrinsics)
	}

	/// Submits a signed extrinsic to the pool; the node checks it before accepting it.
	pub async fn submit(&self, extrinsic: &UncheckedExtrinsic) -> Result<Hash> {
		self.call("author_submitExtrinsic", rpc_params![tx::to_hex(extrinsic)]).await
	}

	/// Waits until `extrinsic` is in a finalised block after `from`, and reports its outcome.
	pub async fn wait_included(
		&self,
		extrinsic: &UncheckedExtrinsic,
		from: u32,
		timeout: Duration,
	) -> Result<Inclusion> {
		let wanted = tx::to_hex(extrinsic);
		let deadline = Instant::now() + timeout;
		let mut next = from.saturating_add(1);
		loop {
			let (head, _) = self.finalized_head().await?;
			while next <= head {
				let hash = self.block_hash(next).await?.ok_or_else(|| Error::Rpc {
					method: "chain_getBlockHash",
					message: format!("finalised block #{next} has no hash"),
				})?;
				let extrinsics = self.block_extrinsics(hash).await?;
				if let Some(index) = extrinsics.iter().position(|candidate| *candidate == wanted) {
					let index = u32::try_from(index).unwrap_or(u32::MAX);
					return self.inclusion(next, hash, index).await;
				}
				next = next.saturating_add(1);
			}
			if Instant::now() >= deadline {
				let hash = sp_crypto_hashing::blake2_256(&extrinsic.encode());
				return Err(Error::Timeout(format!("0x{}", hex::encode(hash)), timeout.as_secs()));
			}
			tokio::time::sleep(Duration::from_millis(250)).await;
		}
	}

	async fn inclusion(
		&self,
		block_number: u32,
		block_hash: Hash,
		index: u32,
	) -> Result<Inclusion> {
		let events: Vec<RuntimeEvent> = self
			.events(block_hash)
			.await?
			.into_iter()
			.filter(|record| record.phase == Phase::ApplyExtrinsic(index))
			.map(|record| record.event)
			.collect();
		let mut fee = 0;
		let mut outcome = Ok(());
		for event in &events {
			match event {
				RuntimeEvent::TransactionPayment(
					pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, .. },
				) => fee = *actual_fee,
				RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
					dispatch_error,
					..
				}) => outcome = Err(*dispatch_error),
				_ => {},
			}
		}
		Ok(Inclusion { block_number, block_hash, index, fee, events, outcome })
	}

	/// Signs `call` as `signer` (nonce from the node, valid for 64 blocks), submits it and waits
	/// for it to be finalised.
	pub async fn sign_and_submit(
		&self,
		call: RuntimeCall,
		signer: &Keypair,
		timeout: Duration,
	) -> Result<Inclusion> {
		let nonce = self.next_nonce(&signer.account_id()).await?;
		let (current, _) = self.finalized_head().await?;
		let birth = tx::era_birth(MORTALITY_PERIOD, current.into());
		let birth_hash = self
			.block_hash(u32::try_from(birth).unwrap_or(current))
			.await?
			.ok_or_else(|| Error::Rpc {
				method: "chain_getBlockHash",
				message: format!("block #{birth} has no hash"),
			})?;
		let lifetime =
			Lifetime::Mortal { period: MORTALITY_PERIOD, current: current.into(), birth_hash };
		let extrinsic = tx::sign(call, signer, nonce, 0, self.chain, lifetime);
		self.submit(&extrinsic).await?;
		self.wait_included(&extrinsic, current, timeout).await
	}
}
