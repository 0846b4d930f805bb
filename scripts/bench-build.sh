#!/usr/bin/env bash
# Measures build times and the runtime's size, and prints a table for docs/benchmarks.md.
#
#   scripts/bench-build.sh          warm figures: no-op build, rebuild after touching one
#                                   runtime file, scripts/test.sh after touching one runtime file
#   scripts/bench-build.sh --cold   adds scripts/test.sh with an empty target directory (long)
#   scripts/bench-build.sh --client only the `commons` CLI (and gateway) from an empty target
#                                   directory: its build time, size and crate count
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

size() { stat -c %s "$1" 2>/dev/null || echo "?"; }

if [[ "${1:-}" == "--client" ]]; then
	CLIENT_TARGET="$(mktemp -d -t commons-client-target.XXXXXX)"
	timed "cargo build --release -p commons-client --bin commons, empty target directory" \
		env CARGO_TARGET_DIR="$CLIENT_TARGET" cargo build --release --locked -p commons-client --bin commons
	crates=$(cargo tree --locked -p commons-client -e normal,build --prefix none | sort -u | wc -l)
	runtime=$(cargo tree --locked -p commons-client -e normal,build -i commons-runtime >/dev/null 2>&1 && echo yes || echo no)
	wgpu=$(cargo tree --locked -p commons-client -e normal,build -i wgpu >/dev/null 2>&1 && echo yes || echo no)
	echo "| what | figure |"
	echo "|---|---|"
	printf '%s\n' "${rows[@]}"
	echo "| commons binary | $(size "$CLIENT_TARGET/release/commons") bytes |"
	echo "| crates it builds (cargo tree -e normal,build) | $crates |"
	echo "| links commons-runtime / wgpu | $runtime / $wgpu |"
	echo "| machine | $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB |"
	rm -rf "$CLIENT_TARGET"
	exit 0
fi

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
echo "| what | figure |"
echo "|---|---|"
printf '%s\n' "${rows[@]}"
echo "| wasm runtime, compact | $(size "$WASM_DIR/commons_runtime.compact.wasm") bytes |"
echo "| wasm runtime, compact and compressed | $(size "$WASM_DIR/commons_runtime.compact.compressed.wasm") bytes |"
echo "| commons-node binary | $(size "$COMMONS_BIN/commons-node") bytes |"
echo "| machine | $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB |"
