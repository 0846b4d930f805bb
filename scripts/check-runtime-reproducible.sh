#!/usr/bin/env bash
# Is the runtime's wasm the same bytes when someone else builds it? Builds this tree's runtime
# (the shared target directory), then the same commit from a fresh clone at another path into
# another target directory, and prints the blake2-256 of each `commons_runtime.compact.compressed.wasm`:
# what a voter compares with a proposed upgrade's code hash. Exits 1 when they differ.
#
# The second build compiles every runtime dependency again: about 15 minutes on 2 cores.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO_ROOT"

if ! git diff --quiet HEAD -- . ':!docs' ':!*.md'; then
	echo "check-runtime-reproducible: the tree has uncommitted changes; commit them first" >&2
	exit 2
fi
WORK="${COMMONS_REPRODUCIBLE_DIR:-$HOME/.cache/commons/reproducible}"
WASM=release/wbuild/commons-runtime/commons_runtime.compact.compressed.wasm

cargo build --release --locked -p commons-runtime
ours=$(b2sum -l 256 "$CARGO_TARGET_DIR/$WASM" | cut -d' ' -f1)

clone="$WORK/elsewhere/commons"
rm -rf "$clone"
mkdir -p "$(dirname "$clone")"
git clone --quiet --no-local "$REPO_ROOT" "$clone"
git -C "$clone" checkout --quiet "$(git rev-parse HEAD)"
(
	# The clone's own env.sh maps the clone's path; a target directory of its own shares nothing.
	cd "$clone"
	export CARGO_TARGET_DIR="$WORK/target"
	unset REPO_ROOT WASM_BUILD_RUSTFLAGS
	source scripts/env.sh
	cargo build --release --locked -p commons-runtime
)
theirs=$(b2sum -l 256 "$WORK/target/$WASM" | cut -d' ' -f1)

printf '%-58s %s\n' "build" "blake2-256 of the compressed wasm"
printf '%-58s 0x%s\n' "$REPO_ROOT ($(rustc --version | cut -d' ' -f2))" "$ours"
printf '%-58s 0x%s\n' "$clone" "$theirs"
if [[ "$ours" != "$theirs" ]]; then
	echo "check-runtime-reproducible: the two builds differ" >&2
	exit 1
fi
echo "check-runtime-reproducible: the same bytes"
