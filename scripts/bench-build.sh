#!/usr/bin/env bash
# Measures build times and the runtime's size, and prints a table for docs/benchmarks.md.
#
#   scripts/bench-build.sh          warm figures: no-op build, rebuild after touching one
#                                   runtime file, scripts/test.sh after touching one runtime file
#   scripts/bench-build.sh --cold   adds scripts/test.sh with an empty target directory (long)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

TOUCHED="runtime/src/configs/balances.rs"
rows=()
timed() {
	local label="$1"
	shift
	local start end
	start=$(date +%s)
	"$@" >/tmp/commons-bench.log 2>&1 || {
		tail -n 30 /tmp/commons-bench.log >&2
		exit 1
	}
	end=$(date +%s)
	rows+=("| $label | $((end - start)) s |")
}

if [[ "${1:-}" == "--cold" ]]; then
	COLD_TARGET="$(mktemp -d -t commons-cold-target.XXXXXX)"
	timed "scripts/test.sh, empty target directory" env CARGO_TARGET_DIR="$COLD_TARGET" bash scripts/test.sh
	rm -rf "$COLD_TARGET"
fi

timed "cargo build --release --workspace, nothing changed" cargo build --release --workspace
touch "$TOUCHED"
timed "cargo build --release --workspace, after touching $TOUCHED" cargo build --release --workspace
touch "$TOUCHED"
timed "scripts/test.sh, after touching $TOUCHED" bash scripts/test.sh

WASM_DIR="$CARGO_TARGET_DIR/release/wbuild/commons-runtime"
size() { stat -c %s "$1" 2>/dev/null || echo "?"; }
echo "| what | figure |"
echo "|---|---|"
printf '%s\n' "${rows[@]}"
echo "| wasm runtime, compact | $(size "$WASM_DIR/commons_runtime.compact.wasm") bytes |"
echo "| wasm runtime, compact and compressed | $(size "$WASM_DIR/commons_runtime.compact.compressed.wasm") bytes |"
echo "| commons-node binary | $(size "$COMMONS_BIN/commons-node") bytes |"
echo "| machine | $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB |"
