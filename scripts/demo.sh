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
NODE="$COMMONS_BIN/commons-node"
CLI="$COMMONS_BIN/commons"
WORKER="$COMMONS_BIN/commons-worker"

WORK="$(mktemp -d -t commons-demo.XXXXXX)"
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do stop_process "$pid"; done
	rm -rf "$WORK"
}
trap cleanup EXIT

RPC_PORT="$(free_port)"
"$NODE" --dev --tmp --rpc-port "$RPC_PORT" --port "$(free_port)" --prometheus-port "$(free_port)" \
	--no-telemetry --no-mdns >"$WORK/node.log" 2>&1 &
PIDS+=($!)
echo "== dev chain starting (ws://127.0.0.1:$RPC_PORT)"
if ! wait_finalised "$RPC_PORT" 1 $(($(date +%s) + 120)); then
	echo "the node did not finalise a block; its log ends:" >&2
	tail -n 30 "$WORK/node.log" >&2
	exit 1
fi
export COMMONS_RPC="ws://127.0.0.1:$RPC_PORT"

echo "== the model registry"
"$CLI" models list

BACKENDS=(cpu cpu gpu)
ADDRESSES=()
for i in 0 1 2; do
	key="$WORK/worker$i.key"
	address="$("$WORKER" --json key generate --out "$key" | sed -n 's/.*"address":"\([^"]*\)".*/\1/p')"
	ADDRESSES+=("$address")
	echo "== worker $i: $address (${BACKENDS[$i]}): funded by Alice, registered with 1000 CMN stake"
	"$CLI" transfer --key //Alice --to "$address" --amount 1100 >/dev/null
	"$WORKER" register --key "$key" --stake 1000 --price 1 --model 0 >/dev/null
	# One engine thread each: three workers share this machine's cores.
	"$WORKER" run --key "$key" --models-dir models --backend "${BACKENDS[$i]}" --threads 1 \
		--metrics-port "$(free_port)" >"$WORK/worker$i.log" 2>&1 &
	PIDS+=($!)
done

balance() { "$CLI" --json balance "$1" | sed -n 's/.*"free":"\([0-9]*\)".*/\1/p'; }
cmn() { awk -v v="$1" 'BEGIN { printf "%+.6f CMN", v / 1e12 }'; }
BEFORE_ALICE="$(balance //Alice)"
BEFORE=()
for address in "${ADDRESSES[@]}"; do BEFORE+=("$(balance "$address")"); done

echo "== Alice asks: What is the capital of France? (3 replicas, 1 CMN each)"
"$CLI" infer --key //Alice --model 0 --prompt "What is the capital of France?" \
	--max-tokens 16 --replicas 3 --price 1 --models-dir models

echo "== balance changes"
echo "Alice (requester)   $(cmn $(($(balance //Alice) - BEFORE_ALICE)))"
for i in 0 1 2; do
	echo "worker $i (${BACKENDS[$i]})     $(cmn $(($(balance "${ADDRESSES[$i]}") - BEFORE[i])))"
done
echo "== stopping the workers and the node"
