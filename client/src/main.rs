//! `commons`: the command line for Commons requesters and token holders.
//!
//! Exit codes: 0 success, 1 other error, 2 bad input, 3 node unreachable, 4 transaction
//! rejected by the node, 5 transaction included but its call failed.

use std::{process::ExitCode, time::Duration};

use clap::{Parser, Subcommand};
use commons_client::{keys, rpc::describe_dispatch_error, tx, Error, Keypair, Node, Scheme};
use commons_runtime::{
	currency::{TOKEN_DECIMALS, TOKEN_SYMBOL, UNIT},
	Balance,
};

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
	/// Send CMN to another account and wait until the transfer is finalised.
	Transfer {
		/// Secret URI of the sender (//Alice, a mnemonic, or a 0x seed).
		#[arg(long, env = "COMMONS_KEY")]
		key: String,
		/// Signature scheme of the sender's key.
		#[arg(long, env = "COMMONS_KEY_SCHEME", value_enum, default_value = "sr25519")]
		scheme: Scheme,
		/// Recipient: SS58 address, 0x-hex account id, or a dev key such as //Bob.
		#[arg(long)]
		to: String,
		/// Amount in CMN, with up to 12 decimals (`1.5`).
		#[arg(long, value_parser = parse_amount)]
		amount: Balance,
	},
}

/// Parses a decimal CMN amount into the smallest unit, refusing more than 12 decimals.
fn parse_amount(text: &str) -> Result<Balance, String> {
	let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
	if whole.is_empty() && fraction.is_empty() {
		return Err("an amount is a number of CMN such as 10 or 0.5".into());
	}
	if fraction.len() > usize::from(TOKEN_DECIMALS) {
		return Err(format!("CMN has {TOKEN_DECIMALS} decimals; `{text}` has more"));
	}
	let digits = |part: &str| -> Result<Balance, String> {
		if part.is_empty() {
			return Ok(0);
		}
		if !part.bytes().all(|byte| byte.is_ascii_digit()) {
			return Err(format!("`{text}` is not a number"));
		}
		part.parse::<Balance>().map_err(|_| format!("`{text}` is too large"))
	};
	// The fraction has at most 12 digits, checked above.
	let scale = 10u128.pow(u32::from(TOKEN_DECIMALS) - fraction.len() as u32);
	let (whole, fraction) = (digits(whole)?, digits(fraction)?);
	whole
		.checked_mul(UNIT)
		.and_then(|units| units.checked_add(fraction.checked_mul(scale)?))
		.ok_or_else(|| format!("`{text}` is too large"))
}

/// Formats an amount in the smallest unit as CMN.
fn format_amount(amount: Balance) -> String {
	let whole = amount / UNIT;
	let fraction = amount % UNIT;
	if fraction == 0 {
		return format!("{whole} {TOKEN_SYMBOL}");
	}
	let fraction = format!("{fraction:012}");
	format!("{whole}.{} {TOKEN_SYMBOL}", fraction.trim_end_matches('0'))
}

fn exit_code(error: &Error) -> u8 {
	match error {
		Error::InvalidKey(..) => 2,
		Error::Unreachable { .. } => 3,
		Error::Rpc { method: "author_submitExtrinsic", .. } => 4,
		Error::DispatchFailed { .. } => 5,
		_ => 1,
	}
}

async fn run(cli: Cli) -> Result<(), Error> {
	match cli.command {
		Command::Balance { account } => {
			let who = keys::parse_account(&account)?;
			let node = Node::connect(&cli.url).await?;
			let info = node.account(&who, None).await?;
			if cli.json {
				println!(
					"{}",
					serde_json::json!({
						"account": keys::to_ss58(&who),
						"free": info.data.free.to_string(),
						"reserved": info.data.reserved.to_string(),
						"nonce": info.nonce,
					})
				);
			} else {
				println!("account   {}", keys::to_ss58(&who));
				println!("free      {}", format_amount(info.data.free));
				println!("held      {}", format_amount(info.data.reserved));
			}
		},
		Command::Transfer { key, scheme, to, amount } => {
			let signer = Keypair::from_uri(&key, scheme)?;
			let dest = keys::parse_account(&to)?;
			let node = Node::connect(&cli.url).await?;
			let inclusion = node
				.sign_and_submit(
					tx::transfer(dest.clone(), amount),
					&signer,
					Duration::from_secs(60),
				)
				.await?;
			if let Err(error) = inclusion.outcome {
				let error = describe_dispatch_error(error);
				return Err(Error::DispatchFailed { block: inclusion.block_number, error });
			}
			if cli.json {
				println!(
					"{}",
					serde_json::json!({
						"from": keys::to_ss58(&signer.account_id()),
						"to": keys::to_ss58(&dest),
						"amount": amount.to_string(),
						"fee": inclusion.fee.to_string(),
						"block": inclusion.block_number,
						"block_hash": format!("{:?}", inclusion.block_hash),
					})
				);
			} else {
				println!(
					"sent {} from {} to {} in finalised block #{} (fee {})",
					format_amount(amount),
					keys::to_ss58(&signer.account_id()),
					keys::to_ss58(&dest),
					inclusion.block_number,
					format_amount(inclusion.fee)
				);
			}
		},
	}
	Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
	let cli = Cli::parse();
	let json = cli.json;
	match run(cli).await {
		Ok(()) => ExitCode::SUCCESS,
		Err(error) => {
			if json {
				println!("{}", serde_json::json!({ "error": error.to_string() }));
			} else {
				eprintln!("error: {error}");
			}
			ExitCode::from(exit_code(&error))
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn amounts_parse_in_cmn() {
		assert_eq!(parse_amount("1"), Ok(UNIT));
		assert_eq!(parse_amount("0.5"), Ok(UNIT / 2));
		assert_eq!(parse_amount("2.000000000001"), Ok(2 * UNIT + 1));
		assert_eq!(parse_amount(".25"), Ok(UNIT / 4));
	}

	#[test]
	fn bad_amounts_are_refused_with_a_reason() {
		assert!(parse_amount("").unwrap_err().contains("amount"));
		assert!(parse_amount("1.0000000000001").unwrap_err().contains("decimals"));
		assert!(parse_amount("-1").unwrap_err().contains("not a number"));
		assert!(parse_amount("1e5").unwrap_err().contains("not a number"));
		assert!(parse_amount("999999999999999999999999999999").unwrap_err().contains("too large"));
	}

	#[test]
	fn amounts_format_without_trailing_zeros() {
		assert_eq!(format_amount(UNIT), "1 CMN");
		assert_eq!(format_amount(UNIT + UNIT / 2), "1.5 CMN");
		assert_eq!(format_amount(1), "0.000000000001 CMN");
	}
}
