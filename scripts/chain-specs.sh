#!/usr/bin/env bash
# Regenerates chain-spec/{dev,local}{,-raw}.json from the runtime's genesis presets.
# A test fails when the committed files differ from what the current runtime generates.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$REPO_ROOT/scripts/lib.sh"

build_release
NODE="$COMMONS_BIN/commons-node"
mkdir -p "$REPO_ROOT/chain-spec"
for chain in dev local; do
	"$NODE" export-chain-spec --chain "$chain" --output "$REPO_ROOT/chain-spec/$chain.json"
	"$NODE" export-chain-spec --chain "$chain" --raw --output "$REPO_ROOT/chain-spec/$chain-raw.json"
done
