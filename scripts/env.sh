# Sourced by every script: one place for the build environment.
#
# The cargo target directory lives outside the clone so that every clone, CI run and session
# on this machine reuses one build. Override with CARGO_TARGET_DIR.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/commons/target}"
# The wasm runtime embeds source paths in its panic messages; mapping the clone's path to a fixed
# name makes the runtime, and so the committed chain specs, the same bytes from any clone.
export WASM_BUILD_RUSTFLAGS="--remap-path-prefix=$REPO_ROOT=/commons"
# Release binaries live here.
export COMMONS_BIN="$CARGO_TARGET_DIR/release"
