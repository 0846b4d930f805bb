//! `commons`: the command line for Commons requesters and token holders.
//!
//! Exit codes: 0 success, 1 other error, 2 bad input (nothing was signed), 3 node unreachable,
//! 4 transaction rejected by the node, 5 transaction included but its call failed, 6 a job settled
//! without an accepted answer (no quorum, expired; refunded), 7 a job did not settle in time,
//! 8 a receipt that does not verify (`job verify`).

mod commands;
mod gov_commands;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use commands::{report, Failure};

use clap::{Parser, Subcommand};
use commons_client::{
	amount::{format_amount, parse_amount},
	chain, governance, keys,
	market::{self, JobRequest},
	model_files, votes, wallet, Keypair, Scheme,
};
use commons_primitives::currency::Balance;
use serde_json::json;

/// Pay for inference, check balances and receipts on a Commons chain.
#[derive(Parser)]
#[command(name = "commons", version, about)]
struct Cli {
	/// WebSocket RPC address of a Commons node.
	#[arg(long, env = "COMMONS_RPC", default_value = "ws://127.0.0.1:9944", global = true)]
	url: String,

	/// Print machine-readable JSON instead of text.
	#[arg(long, env = "COMMONS_JSON", global = true)]
	json: bool,

	/// Where model files are looked for, to extract their tokenizers.
	#[arg(long, env = "COMMONS_MODELS_DIR", default_value = "models", global = true)]
	models_dir: PathBuf,

	/// Where tokenizers and model file hashes are cached (default:
	/// `$XDG_CACHE_HOME/commons/client`, or `~/.cache/commons/client`).
	#[arg(long, env = "COMMONS_CACHE_DIR", global = true)]
	cache_dir: Option<PathBuf>,

	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Show an account's free and held balance.
	Balance {
		/// SS58 address, 0x-hex account id, or a dev key such as //Alice.
		account: String,
	},
	/// Send CMN to another account and wait until the transfer is finalised. The sender keeps
	/// at least the existential deposit unless --allow-death is given.
	Transfer {
		/// The sender's key.
		#[command(flatten)]
		key: KeyArgs,
		/// Recipient: SS58 address, 0x-hex account id, or a dev key such as //Bob.
		#[arg(long)]
		to: String,
		/// Amount in CMN, with up to 12 decimals (`1.5`).
		#[arg(long, value_parser = parse_amount)]
		amount: Balance,
		/// Allow the transfer to take the sender below the existential deposit, which removes
		/// its account (and anything left in it).
		#[arg(long)]
		allow_death: bool,
		/// Check the transfer and print its fee; sign nothing.
		#[arg(long)]
		dry_run: bool,
	},
	/// Pay for an inference job and wait for the verified answer and its receipt.
	Infer {
		/// The model, by id or name (`commons models list`).
		#[arg(long)]
		model: String,
		/// The user message.
		#[arg(long)]
		prompt: String,
		/// A system message before it: the job then carries a conversation.
		#[arg(long)]
		system: Option<String>,
		/// Most tokens to generate.
		#[arg(long, default_value_t = 32)]
		max_tokens: u32,
		/// Sampling temperature, 0 (greedy, the default) to 4, with up to three decimals.
		#[arg(long, value_parser = parse_temperature, default_value = "0")]
		temperature: u32,
		/// With a temperature: sample among the this many likeliest tokens.
		#[arg(long, default_value_t = 40)]
		top_k: u32,
		/// With a temperature: the sampler's seed (random when omitted); the same seed gives
		/// the same answer.
		#[arg(long)]
		seed: Option<u64>,
		/// Workers that must run it and agree.
		#[arg(long, default_value_t = 3, conflicts_with = "audit_rate")]
		replicas: u32,
		/// Audited instead of replicated: one worker runs it and, at this rate, an auditor
		/// checks it (`5%`, `0.5%` or `50000ppm`; at least the governed MinAuditRate, 1 %).
		#[arg(long, value_parser = parse_rate)]
		audit_rate: Option<u32>,
		/// Price per replica, in CMN.
		#[arg(long, value_parser = parse_amount)]
		price: Balance,
		/// Blocks from now within which workers must be assigned, or the job expires.
		#[arg(long, default_value_t = 30)]
		deadline: u32,
		/// The requester's key.
		#[command(flatten)]
		key: KeyArgs,
		/// Seconds to wait for settlement.
		#[arg(long, default_value_t = 300)]
		timeout: u64,
		/// Check the request and print what posting it would hold and is expected to cost;
		/// sign nothing.
		#[arg(long)]
		dry_run: bool,
	},
	/// Jobs.
	Job {
		#[command(subcommand)]
		command: JobCommand,
	},
	/// The model registry, and the tokenizers that turn its models' answers into text.
	Models {
		#[command(subcommand)]
		command: ModelsCommand,
	},
	/// The worker registry.
	Workers {
		#[command(subcommand)]
		command: ListCommand,
	},
	/// Governance: propose parameter changes, vote, follow referenda.
	Gov {
		#[command(subcommand)]
		command: GovCommand,
	},
	/// Serve an OpenAI-style HTTP API (`/v1/chat/completions`, `/v1/models`) that pays for
	/// each completion from the key, within a per-job limit and a budget.
	Gateway(GatewayArgs),
	/// Print a completion script for a shell (`commons completions bash >
	/// /etc/bash_completion.d/commons`).
	Completions {
		/// The shell.
		shell: clap_complete::Shell,
	},
}

/// A governance refusal exits 2 (nothing signed); a chain failure as chain failures do.
fn vote_failure(error: votes::VoteError) -> Failure {
	match error {
		votes::VoteError::Chain(error) => error.into(),
		refused => Failure { code: 2, error: refused.into() },
	}
}

/// A track by name, among the chain's.
async fn track_arg(client: &chain::Client, name: &str) -> Result<u16, Failure> {
	let tracks = governance::tracks(client).await?;
	governance::track_id(&tracks, name).ok_or_else(|| {
		let names: Vec<&str> = tracks.iter().map(|(_, name)| name.as_str()).collect();
		Failure {
			code: 2,
			error: anyhow::anyhow!("unknown track `{name}`: {}", names.join(" or ")),
		}
	})
}

/// What `commons gateway` is asked.
#[derive(clap::Args)]
struct GatewayArgs {
	/// Address to listen on; anything beyond the loopback interface needs --api-key.
	#[arg(long, env = "COMMONS_GATEWAY_LISTEN", default_value = "127.0.0.1:8080")]
	listen: std::net::SocketAddr,
	/// The most one job may cost (escrow, surcharge and transaction fee), in CMN.
	#[arg(long, env = "COMMONS_GATEWAY_MAX_JOB_COST", value_parser = parse_amount)]
	max_job_cost: Balance,
	/// The most all jobs of this gateway process may cost together, in CMN.
	#[arg(long, env = "COMMONS_GATEWAY_BUDGET", value_parser = parse_amount)]
	budget: Balance,
	/// Workers that must run each job and agree.
	#[arg(long, default_value_t = 3, conflicts_with = "audit_rate")]
	replicas: u32,
	/// Audited jobs at this rate instead of replicated ones (`5%`, `50000ppm`).
	#[arg(long, value_parser = parse_rate)]
	audit_rate: Option<u32>,
	/// Price per replica in CMN (default: the lowest at which enough online workers serve the
	/// model).
	#[arg(long, value_parser = parse_amount)]
	price: Option<Balance>,
	/// Max tokens of a request that names none.
	#[arg(long, default_value_t = 64)]
	max_tokens: u32,
	/// Blocks within which workers must be assigned, or the job expires.
	#[arg(long, default_value_t = 30)]
	deadline: u32,
	/// Seconds a request waits for its job to settle.
	#[arg(long, default_value_t = 300)]
	timeout: u64,
	/// A bearer token clients must send (`Authorization: Bearer …`).
	#[arg(long, env = "COMMONS_GATEWAY_API_KEY", hide_env_values = true)]
	api_key: Option<String>,
	/// The key that pays.
	#[command(flatten)]
	key: KeyArgs,
}

/// A temperature in thousandths, from `0.7`.
fn parse_temperature(text: &str) -> Result<u32, String> {
	let milli = commons_client::amount::parse_decimal(text.trim(), 3)
		.map_err(|_| format!("{text:?} is not a temperature: write a number such as 0.7"))?;
	u32::try_from(milli)
		.ok()
		.filter(|milli| *milli <= commons_client::market::MAX_TEMPERATURE)
		.ok_or_else(|| format!("{text:?} is outside 0–4"))
}

/// An audit rate in parts per million, from `5%`, `0.5%` or `50000ppm`.
fn parse_rate(text: &str) -> Result<u32, String> {
	let bad =
		|| {
			format!("{text:?} is not a rate: write a percentage (`5%`) or parts per million (`50000ppm`)")
		};
	let ppm = if let Some(ppm) = text.strip_suffix("ppm") {
		ppm.trim().parse::<u32>().map_err(|_| bad())?
	} else if let Some(percent) = text.strip_suffix('%') {
		// A percentage with up to four decimals is a whole number of parts per million.
		let scaled = commons_client::amount::parse_decimal(percent.trim(), 4).map_err(|_| bad())?;
		u32::try_from(scaled).map_err(|_| bad())?
	} else {
		return Err(bad());
	};
	if ppm == 0 || ppm > 1_000_000 {
		return Err(format!("{text:?} is outside 0–100 %"));
	}
	Ok(ppm)
}

/// Who signs: a secret URI given directly, in the environment, or in a file.
#[derive(clap::Args)]
struct KeyArgs {
	/// Secret URI of the signer (//Alice, a mnemonic, or a 0x seed). On a shared machine
	/// prefer --key-file: a command line is visible to other users.
	#[arg(long, env = "COMMONS_KEY", hide_env_values = true, conflicts_with = "key_file")]
	key: Option<String>,
	/// A file holding the signer's secret URI, readable by its owner only (`-`: standard
	/// input).
	#[arg(long, env = "COMMONS_KEY_FILE")]
	key_file: Option<PathBuf>,
	/// Signature scheme of the key.
	#[arg(long, env = "COMMONS_KEY_SCHEME", value_enum, default_value = "sr25519")]
	scheme: Scheme,
}

impl KeyArgs {
	fn keypair(self) -> Result<Keypair, Failure> {
		let uri = match (self.key, self.key_file) {
			(Some(uri), _) => uri,
			(None, Some(path)) => keys::read_secret(&path)?,
			(None, None) => {
				return Err(Failure {
					code: 2,
					error: anyhow::anyhow!("a signing key is needed: --key or --key-file"),
				})
			},
		};
		Ok(Keypair::from_uri(&uri, self.scheme)?)
	}
}

#[derive(Subcommand)]
enum GovCommand {
	/// Propose a new value for a protocol parameter: notes the preimage, submits the referendum
	/// on the parameter's track and places the decision deposit.
	ProposeParam {
		/// The parameter (`commons gov params` lists them), such as MinWorkerStake.
		name: String,
		/// Its new value in the parameter's unit: CMN, blocks, a percentage or a count.
		value: String,
		#[command(flatten)]
		key: KeyArgs,
	},
	/// Vote on a referendum.
	Vote {
		/// The referendum's index.
		referendum: u32,
		/// For or against.
		#[arg(value_enum)]
		side: Side,
		/// 0: no lock, a tenth of a vote; 1–6: the balance is locked 1, 2, 4 … 32 lock periods
		/// after the end for 1x–6x the vote.
		#[arg(long, default_value_t = 0)]
		conviction: u8,
		/// The balance voted with, in CMN (locked, not spent).
		#[arg(long, value_parser = parse_amount)]
		amount: Balance,
		#[command(flatten)]
		key: KeyArgs,
	},
	/// One referendum, or all of them: state, track, proposal and tally.
	Status {
		/// The referendum's index (all when omitted).
		referendum: Option<u32>,
	},
	/// Every protocol parameter with its current value, track and range.
	Params,
	/// Remove a vote on a referendum, ongoing or ended, so that its lock can end.
	RemoveVote {
		/// The referendum's index.
		referendum: u32,
		#[command(flatten)]
		key: KeyArgs,
	},
	/// Release every voting lock whose period has ended.
	Unlock {
		#[command(flatten)]
		key: KeyArgs,
	},
	/// Refund the deposits an ended referendum still holds, to whoever placed them.
	RefundDeposits {
		/// The referendum's index.
		referendum: u32,
		#[command(flatten)]
		key: KeyArgs,
	},
	/// Let another account vote with this account's balance on one track.
	Delegate {
		/// The track: root or parameters.
		#[arg(long)]
		track: String,
		/// Who votes: SS58 address, 0x-hex account id, or a dev key such as //Bob.
		#[arg(long)]
		to: String,
		/// 0–6, as for a vote.
		#[arg(long, default_value_t = 0)]
		conviction: u8,
		/// The balance delegated, in CMN (locked, not spent).
		#[arg(long, value_parser = parse_amount)]
		amount: Balance,
		#[command(flatten)]
		key: KeyArgs,
	},
	/// End a delegation on one track.
	Undelegate {
		/// The track: root or parameters.
		#[arg(long)]
		track: String,
		#[command(flatten)]
		key: KeyArgs,
	},
}

/// A vote's side.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Side {
	/// For.
	Aye,
	/// Against.
	Nay,
}

#[derive(Subcommand)]
enum JobCommand {
	/// A job's status, seats and output.
	Show {
		/// The job id.
		id: u64,
	},
	/// Wait until a job settles, then show it.
	Wait {
		/// The job id.
		id: u64,
		/// Seconds to wait.
		#[arg(long, default_value_t = 300)]
		timeout: u64,
	},
	/// Cancel a job still waiting for workers: its escrow and deposit come back.
	Cancel {
		/// The job id.
		id: u64,
		/// The requester's key.
		#[command(flatten)]
		key: KeyArgs,
	},
	/// Check a settled job's receipt: the stored tokens hash to the accepted output hash, and
	/// that hash is what the agreeing seats revealed.
	Verify {
		/// The job id.
		id: u64,
	},
	/// The stored jobs an account posted.
	List {
		/// The requester: SS58 address, 0x-hex account id, or a dev key such as //Alice.
		#[arg(long)]
		requester: String,
	},
}

#[derive(Subcommand)]
enum ModelsCommand {
	/// List the registered models.
	List,
	/// Make a model's answers readable here: cache its tokenizer (a few MB), from a file given
	/// with --from, or from the model file in the models directory. The file is checked
	/// against the registry: the model file by its sha256, a tokenizer image by the
	/// registered tokenizer hash. The weights are not needed afterwards.
	Fetch {
		/// The model, by id or name.
		model: String,
		/// The model file, or its tokenizer image (a GGUF file without tensors).
		#[arg(long)]
		from: Option<PathBuf>,
	},
	/// Print the tokenizer hash of a model file: what its registration declares.
	TokenizerHash {
		/// The model file.
		file: PathBuf,
		/// Also write the tokenizer image here, for requesters who need only the tokenizer.
		#[arg(long)]
		write: Option<PathBuf>,
	},
}

#[derive(Subcommand)]
enum ListCommand {
	/// List them.
	List,
}

async fn run(cli: Cli) -> Result<(), Failure> {
	let cache_dir = cli.cache_dir.clone().unwrap_or_else(model_files::default_cache_dir);
	let tokenizers = model_files::Tokenizers::new(&cli.models_dir, &cache_dir);
	match cli.command {
		Command::Balance { account } => {
			let who = chain::account(&keys::parse_account(&account)?);
			let client = chain::connect(&cli.url).await?;
			let balances = wallet::balances(&client, &who).await?;
			if cli.json {
				println!(
					"{}",
					serde_json::json!({
						"account": chain::ss58(&who),
						"free": balances.free.to_string(),
						"held": balances.held.to_string(),
						"reserved": balances.held.to_string(),
						"frozen": balances.frozen.to_string(),
						"spendable": balances.spendable().to_string(),
						"nonce": balances.nonce,
					})
				);
			} else {
				println!("account   {}", chain::ss58(&who));
				println!("free      {}", format_amount(balances.free));
				println!("held      {} (escrow, deposits, stake)", format_amount(balances.held));
				println!("frozen    {} (of free: locked by votes)", format_amount(balances.frozen));
				println!("spendable {}", format_amount(balances.spendable()));
			}
		},
		Command::Transfer { key, to, amount, allow_death, dry_run } => {
			let signer = key.keypair()?;
			let dest = chain::account(&keys::parse_account(&to)?);
			let client = chain::connect(&cli.url).await?;
			let failed = |error: wallet::TransferError| match error {
				wallet::TransferError::Chain(error) => Failure::from(error),
				refused => Failure { code: 2, error: refused.into() },
			};
			if dry_run {
				let quote = wallet::check_transfer(&client, &signer, &dest, amount, allow_death)
					.await
					.map_err(failed)?;
				if cli.json {
					println!(
						"{}",
						serde_json::json!({
							"dry_run": true,
							"fee": quote.fee.to_string(),
							"spendable": quote.spendable.to_string(),
							"existential_deposit": quote.existential.to_string(),
						})
					);
				} else {
					println!("fee       {} (nothing was signed)", format_amount(quote.fee));
				}
				return Ok(());
			}
			let sent = wallet::transfer(&client, &signer, dest.clone(), amount, allow_death)
				.await
				.map_err(failed)?;
			let from = chain::ss58(&chain::account(&signer.account_id()));
			if cli.json {
				println!(
					"{}",
					serde_json::json!({
						"from": from,
						"to": chain::ss58(&dest),
						"amount": amount.to_string(),
						"fee": sent.fee.to_string(),
						"block": sent.block,
						"block_hash": format!("{:?}", sent.block_hash),
					})
				);
			} else {
				println!(
					"sent {} from {from} to {} in finalised block #{} (fee {})",
					format_amount(amount),
					chain::ss58(&dest),
					sent.block,
					format_amount(sent.fee)
				);
			}
		},
		Command::Infer {
			model,
			prompt,
			system,
			max_tokens,
			temperature,
			top_k,
			seed,
			replicas,
			audit_rate,
			price,
			deadline,
			key,
			timeout,
			dry_run,
		} => {
			use commons_primitives::prompt::{encode_conversation, Message, Role};
			let key = key.keypair()?;
			let client = chain::connect(&cli.url).await?;
			let prompt = match system {
				None => prompt.into_bytes(),
				Some(system) => encode_conversation(&[
					Message { role: Role::System, content: system.into_bytes() },
					Message { role: Role::User, content: prompt.into_bytes() },
				]),
			};
			let sampling = match temperature {
				0 => market::Sampling::Greedy,
				temperature => market::Sampling::TopK {
					temperature,
					top_k,
					seed: seed.unwrap_or_else(market::random_seed),
				},
			};
			let request = JobRequest {
				model: 0,
				prompt,
				max_tokens,
				sampling,
				replicas,
				audit_rate,
				price,
				deadline_blocks: deadline,
			};
			let args = commands::InferArgs {
				model,
				request,
				key,
				tokenizers,
				timeout: Duration::from_secs(timeout),
				dry_run,
			};
			commands::infer(&client, args, cli.json).await?;
		},
		Command::Job { command: JobCommand::Show { id } } => {
			let client = chain::connect(&cli.url).await?;
			commands::job_show(&client, &cli.url, &tokenizers, id, cli.json).await?;
		},
		Command::Job { command: JobCommand::Verify { id } } => {
			commands::job_verify(&chain::connect(&cli.url).await?, id, cli.json).await?;
		},
		Command::Job { command: JobCommand::Wait { id, timeout } } => {
			let client = chain::connect(&cli.url).await?;
			let settled = market::wait_settled(&client, id, Duration::from_secs(timeout)).await?;
			if settled.is_none() {
				return Err(Failure {
					code: 2,
					error: anyhow::anyhow!(
						"no job {id} is stored (never posted, or its record was removed)"
					),
				});
			}
			commands::job_show(&client, &cli.url, &tokenizers, id, cli.json).await?;
		},
		Command::Job { command: JobCommand::Cancel { id, key } } => {
			let key = key.keypair()?;
			let client = chain::connect(&cli.url).await?;
			let refunded = market::cancel(&client, &key, id).await?;
			if cli.json {
				println!("{}", serde_json::json!({ "job": id, "refunded": refunded.to_string() }));
			} else {
				println!("cancelled job {id}; {} came back", format_amount(refunded));
			}
		},
		Command::Job { command: JobCommand::List { requester } } => {
			let who = chain::account(&keys::parse_account(&requester)?);
			let client = chain::connect(&cli.url).await?;
			commands::job_list(&client, &who, cli.json).await?;
		},
		Command::Gateway(args) => {
			let config = commons_client::gateway::Config {
				listen: args.listen,
				url: cli.url.clone(),
				key: args.key.keypair()?,
				tokenizers,
				replicas: args.replicas,
				audit_rate: args.audit_rate,
				price: args.price,
				max_job_cost: args.max_job_cost,
				budget: args.budget,
				default_max_tokens: args.max_tokens,
				deadline_blocks: args.deadline,
				timeout: Duration::from_secs(args.timeout),
				api_key: args.api_key,
			};
			commons_client::gateway::serve(config).await?;
		},
		Command::Completions { shell } => {
			use clap::CommandFactory;
			clap_complete::generate(shell, &mut Cli::command(), "commons", &mut std::io::stdout());
		},
		Command::Models { command: ModelsCommand::List } => {
			commands::models_list(&chain::connect(&cli.url).await?, cli.json).await?;
		},
		Command::Models { command: ModelsCommand::Fetch { model, from } } => {
			let client = chain::connect(&cli.url).await?;
			commands::models_fetch(&client, &tokenizers, &model, from.as_deref(), cli.json).await?;
		},
		Command::Models { command: ModelsCommand::TokenizerHash { file, write } } => {
			commands::tokenizer_hash(&file, write.as_deref(), cli.json)?;
		},
		Command::Workers { command: ListCommand::List } => {
			commands::workers_list(&chain::connect(&cli.url).await?, cli.json).await?;
		},
		Command::Gov { command } => match command {
			GovCommand::ProposeParam { name, value, key } => {
				// The chain describes its parameters: check the value there before reading a key.
				let client = chain::connect(&cli.url).await?;
				let proposal = governance::proposal(&client, &name, &value).await?;
				let key = key.keypair()?;
				gov_commands::propose(&client, &key, &proposal, cli.json).await?;
			},
			GovCommand::Vote { referendum, side, conviction, amount, key } => {
				let key = key.keypair()?;
				let client = chain::connect(&cli.url).await?;
				let aye = matches!(side, Side::Aye);
				gov_commands::vote(&client, &key, referendum, aye, conviction, amount, cli.json)
					.await?;
			},
			GovCommand::Status { referendum } => {
				gov_commands::status(&chain::connect(&cli.url).await?, referendum, cli.json)
					.await?;
			},
			GovCommand::Params => {
				gov_commands::params(&chain::connect(&cli.url).await?, cli.json).await?;
			},
			GovCommand::RemoveVote { referendum, key } => {
				let key = key.keypair()?;
				let client = chain::connect(&cli.url).await?;
				let track =
					votes::remove_vote(&client, &key, referendum).await.map_err(vote_failure)?;
				report(
					cli.json,
					json!({ "referendum": referendum, "removed": true, "track": track }),
					|| {
						format!("removed the vote on referendum #{referendum}; `commons gov unlock` frees its lock once it ends")
					},
				);
			},
			GovCommand::Unlock { key } => {
				let key = key.keypair()?;
				let client = chain::connect(&cli.url).await?;
				let (before, after) = votes::unlock(&client, &key).await.map_err(vote_failure)?;
				report(
					cli.json,
					json!({ "frozen_before": before.to_string(), "frozen_after": after.to_string() }),
					|| format!("frozen {} -> {}", format_amount(before), format_amount(after)),
				);
			},
			GovCommand::RefundDeposits { referendum, key } => {
				let key = key.keypair()?;
				let client = chain::connect(&cli.url).await?;
				let refunded = votes::refund_deposits(&client, &key, referendum)
					.await
					.map_err(vote_failure)?;
				report(cli.json, json!({ "referendum": referendum, "refunded": refunded }), || {
					format!("refunded the {} of referendum #{referendum}", refunded.join(" and "))
				});
			},
			GovCommand::Delegate { track, to, conviction, amount, key } => {
				let key = key.keypair()?;
				let to = chain::account(&keys::parse_account(&to)?);
				let client = chain::connect(&cli.url).await?;
				let class = track_arg(&client, &track).await?;
				votes::delegate(&client, &key, class, to.clone(), conviction, amount)
					.await
					.map_err(vote_failure)?;
				let to = chain::ss58(&to);
				report(
					cli.json,
					json!({ "track": track, "to": to, "amount": amount.to_string() }),
					|| format!("delegated {} on track {track} to {to}", format_amount(amount)),
				);
			},
			GovCommand::Undelegate { track, key } => {
				let key = key.keypair()?;
				let client = chain::connect(&cli.url).await?;
				let class = track_arg(&client, &track).await?;
				votes::undelegate(&client, &key, class).await.map_err(vote_failure)?;
				report(cli.json, json!({ "track": track, "undelegated": true }), || {
					format!("undelegated on track {track}")
				});
			},
		},
	}
	Ok(())
}

/// Whether JSON output was asked for, read before the arguments parse: a usage error is then
/// reported as JSON too.
fn json_requested() -> bool {
	let flag = std::env::args().any(|arg| arg == "--json");
	let env = std::env::var("COMMONS_JSON")
		.is_ok_and(|value| !value.is_empty() && value != "0" && value != "false");
	flag || env
}

/// A closed pipe (`commons models list | head -1`) ends the program quietly, as it ends any
/// command-line tool, instead of panicking in `println!`.
fn exit_quietly_on_broken_pipe() {
	let default = std::panic::take_hook();
	std::panic::set_hook(Box::new(move |info| {
		let payload = info.payload();
		let message = payload
			.downcast_ref::<String>()
			.map(String::as_str)
			.or_else(|| payload.downcast_ref::<&str>().copied())
			.unwrap_or_default();
		if message.contains("Broken pipe") {
			// 128 + SIGPIPE: what a shell reports for a program the signal ended.
			std::process::exit(141);
		}
		default(info)
	}));
}

#[tokio::main]
async fn main() -> ExitCode {
	exit_quietly_on_broken_pipe();
	let cli = match Cli::try_parse() {
		Ok(cli) => cli,
		Err(error) => {
			use clap::error::ErrorKind;
			let shown = matches!(error.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
			if shown || !json_requested() {
				error.exit();
			}
			let message = error.render().to_string();
			let message = message.trim().trim_start_matches("error: ");
			println!("{}", serde_json::json!({ "error": message, "code": 2 }));
			return ExitCode::from(2);
		},
	};
	let json = cli.json;
	match run(cli).await {
		Ok(()) => ExitCode::SUCCESS,
		Err(Failure { code, error }) => {
			if json && code == commands::NOT_ACCEPTED {
				// The receipt printed on stdout already says how the job ended: one JSON
				// document per command.
			} else if json {
				println!("{}", serde_json::json!({ "error": format!("{error:#}"), "code": code }));
			} else {
				eprintln!("error: {error:#}");
			}
			ExitCode::from(code)
		},
	}
}

#[cfg(test)]
mod rate_tests {
	use super::parse_rate;

	#[test]
	fn audit_rates_read_as_percentages_or_parts_per_million() {
		assert_eq!(parse_rate("5%"), Ok(50_000));
		assert_eq!(parse_rate("0.5%"), Ok(5_000));
		assert_eq!(parse_rate("100%"), Ok(1_000_000));
		assert_eq!(parse_rate("0.0001%"), Ok(1));
		assert_eq!(parse_rate("50000ppm"), Ok(50_000));
		for bad in ["5", "0%", "101%", "0.00001%", "five%", "2000000ppm", "-1%"] {
			assert!(parse_rate(bad).is_err(), "{bad} was accepted");
		}
	}
}
