#!/usr/bin/env bash
# The Commons demo: builds the release binaries, fetches the model, starts a development chain,
# funds and registers three workers (two on the CPU, one on wgpu: a GPU when there is one, Mesa
# lavapipe otherwise), posts "What is the capital of France?" with three replicas, and prints the
# verified answer, the receipt and each party's balance change. Stops everything it started.
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$REPO_ROOT/scripts/lib.sh"
cd "$REPO_ROOT"
echo "== building commons-node, commons-worker and commons (release)"
build_release
echo "== fetching the model"
bash scripts/fetch-model.sh
CLI="$COMMONS_BIN/commons"

WORK="$(mktemp -d -t commons-demo.XXXXXX)"
trap 'stop_started; rm -rf "$WORK"' EXIT

echo "== dev chain starting"
start_dev_node "$WORK"
echo "   $COMMONS_RPC"

echo "== the model registry"
"$CLI" models list

# One engine thread each: three workers share this machine's cores.
BACKENDS=(cpu cpu gpu)
ADDRESSES=()
for i in 0 1 2; do
	start_worker "$WORK" "worker$i" "${BACKENDS[$i]}"
	ADDRESSES+=("$WORKER_ADDRESS")
	echo "== worker $i: $WORKER_ADDRESS (${BACKENDS[$i]}): funded by Alice, registered with 1000 CMN stake"
done

balance() { "$CLI" --json balance "$1" | sed -n 's/.*"free":"\([0-9]*\)".*/\1/p'; }
cmn() { awk -v v="$1" 'BEGIN { printf "%+.6f CMN", v / 1e12 }'; }
BEFORE_ALICE="$(balance //Alice)"
BEFORE=()
for address in "${ADDRESSES[@]}"; do BEFORE+=("$(balance "$address")"); done

echo "== Alice asks: What is the capital of France? (3 replicas, 1 CMN each)"
"$CLI" infer --key //Alice --model 0 --prompt "What is the capital of France?" \
	--max-tokens 16 --replicas 3 --price 1 --models-dir models

echo "== anyone can check the receipt: the stored tokens hash to the accepted output"
"$CLI" job verify 0

echo "== balance changes"
echo "Alice (requester)   $(cmn $(($(balance //Alice) - BEFORE_ALICE)))"
for i in 0 1 2; do
	echo "worker $i (${BACKENDS[$i]})     $(cmn $(($(balance "${ADDRESSES[$i]}") - BEFORE[i])))"
done
echo "== stopping the workers and the node"
