//! `commons-worker-faulty`: `commons-worker` built with the `fault-injection` feature, whose
//! `run --misbehave …` cheats on purpose. For the fault tests; never shipped.

#[tokio::main]
async fn main() -> std::process::ExitCode {
	commons_worker::cli::main().await
}
