//! `commons-node`: the node of the Commons chain (Aura block authoring, GRANDPA finality,
//! ParityDB storage).

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
