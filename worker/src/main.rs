//! `commons-worker`: earn by serving Commons inference jobs (see [`commons_worker::cli`]).

#[tokio::main]
async fn main() -> std::process::ExitCode {
	commons_worker::cli::main().await
}
