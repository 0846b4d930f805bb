#!/usr/bin/env bash
# Runs the marketplace pallets' benchmarks and the governance guard's against the runtime built
# with `runtime-benchmarks` and regenerates each pallet's src/weights.rs (the guard's:
# runtime/src/weights/protocol_parameters.rs) from scripts/weight-template.hbs.
#
#   scripts/benchmark.sh [pallet ...]     default: models workers jobs rewards protocol_parameters
#
# The benchmark runtime is built in its own target directory so that the feature does not
# invalidate the main build; frame-omni-bencher is installed once under ~/.cache/commons/tools.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

OMNI_BENCHER_VERSION=0.28.0
TOOLS="$HOME/.cache/commons/tools"
BENCHER="$TOOLS/bin/frame-omni-bencher"
if ! "$BENCHER" --version 2>/dev/null | grep -q "$OMNI_BENCHER_VERSION"; then
	# Its own target directory keeps a partial build across runs (the first build is long).
	cargo install frame-omni-bencher --version "$OMNI_BENCHER_VERSION" --locked --root "$TOOLS" \
		--target-dir "$HOME/.cache/commons/target-tools"
fi

export CARGO_TARGET_DIR="$HOME/.cache/commons/target-bench"
cargo build --release --locked -p commons-runtime --features runtime-benchmarks
WASM="$CARGO_TARGET_DIR/release/wbuild/commons-runtime/commons_runtime.compact.compressed.wasm"

STEPS="${STEPS:-50}"
REPEAT="${REPEAT:-20}"
pallets=("$@")
[ ${#pallets[@]} -gt 0 ] || pallets=(models workers jobs rewards protocol_parameters)
for pallet in "${pallets[@]}"; do
	case "$pallet" in
		protocol_parameters) output="$REPO_ROOT/runtime/src/weights/protocol_parameters.rs" ;;
		*) output="$REPO_ROOT/pallets/$pallet/src/weights.rs" ;;
	esac
	echo "benchmarking pallet_$pallet"
	"$BENCHER" v1 benchmark pallet \
		--runtime "$WASM" \
		--genesis-builder-preset development \
		--pallet "pallet_$pallet" \
		--extrinsic '*' \
		--steps "$STEPS" \
		--repeat "$REPEAT" \
		--template "$REPO_ROOT/scripts/weight-template.hbs" \
		--output "$output"
done
