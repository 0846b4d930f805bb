//! `commons-node`: the node of the Commons chain (Aura block authoring, GRANDPA finality,
//! ParityDB storage).

// `sc_cli::Error` is large, and every subcommand returns it; it is built once, on the way out.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod network;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	// RPC parameters and logs use the Commons address format, which is not in the public
	// registry, so it must be declared before anything parses an address.
	sp_core::crypto::set_default_ss58_version(sp_core::crypto::Ss58AddressFormat::custom(
		commons_runtime::currency::SS58_PREFIX,
	));
	command::run()
}
