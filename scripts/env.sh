# Sourced by every script: one place for the build environment.
#
# The cargo target directory lives outside the clone so that every clone, CI run and session
# on this machine reuses one build. Override with CARGO_TARGET_DIR.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/commons/target}"
# The wasm runtime embeds source paths in its panic messages: the clone's path and the cargo
# home's (where the dependencies' sources are) are not ones a chain needs to carry, and would
# make the bytes depend on who built them, so they are mapped to fixed names.
CARGO_HOME_DIR="${CARGO_HOME:-$HOME/.cargo}"
export WASM_BUILD_RUSTFLAGS="--remap-path-prefix=$REPO_ROOT=/commons --remap-path-prefix=$CARGO_HOME_DIR=/cargo"
# Release binaries live here.
export COMMONS_BIN="$CARGO_TARGET_DIR/release"
# Python tools of the checks live in one virtualenv in the shared cache, filled by scripts/setup.sh:
# hadolint, for packaging/docker (its path is what node/tests/cli.rs runs).
export COMMONS_VENV="${COMMONS_VENV:-$HOME/.cache/commons/venv}"
export COMMONS_HADOLINT="${COMMONS_HADOLINT:-$COMMONS_VENV/bin/hadolint}"
