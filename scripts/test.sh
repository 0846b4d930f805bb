#!/usr/bin/env bash
# Installs what is missing, then checks formatting, lints, and runs every test.
# Everything is built once, in release mode, into the shared target directory; the wasm
# runtime is built once per run by the runtime's build script.
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

echo "== model file (the engine's tests read the real SmolLM2 GGUF)"
bash scripts/fetch-model.sh

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy (release, all targets, -D warnings)"
cargo clippy --release --workspace --all-targets --locked -- -D warnings

echo "== cargo clippy on the pallets with their benchmarks and try-runtime checks"
MARKET_PALLETS=(-p pallet-models -p pallet-workers -p pallet-jobs -p pallet-rewards)
cargo clippy --release --locked "${MARKET_PALLETS[@]}" --all-targets \
	--features runtime-benchmarks,try-runtime -- -D warnings

echo "== cargo clippy on the runtime with its try-runtime API (upgrades tested against live state)"
# Native only: the try-runtime build is never a chain's runtime, so its wasm is not built.
SKIP_WASM_BUILD=1 cargo clippy --release --locked -p commons-runtime --features try-runtime \
	-- -D warnings

echo "== cargo clippy on commons-worker with fault injection (the test-only cheating worker)"
cargo clippy --release --workspace --all-targets --locked \
	--features commons-worker/fault-injection -- -D warnings

echo "== cargo build (release): every binary, so that tests run the current ones"
cargo build --release --workspace --locked

echo "== commons-worker-faulty: the worker built with fault injection, for the fault tests only"
# Its own binary, so the commons-worker above stays free of the cheating code.
cargo build --release --workspace --locked --features commons-worker/fault-injection \
	--bin commons-worker-faulty

echo "== cargo test (release)"
cargo test --release --workspace --locked --no-fail-fast

echo "== the fault-injection unit tests of commons-worker"
cargo test --release --workspace --locked --features commons-worker/fault-injection --lib \
	-- faults::

echo "== pallet benchmarks, each run once as a test against its pallet's mock runtime"
cargo test --release --locked "${MARKET_PALLETS[@]}" --features runtime-benchmarks
