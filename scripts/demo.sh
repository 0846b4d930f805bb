#!/usr/bin/env bash
# The Commons demo: builds the release binaries, starts a development chain, sends a transfer
# from Alice to Bob over RPC, prints both balances before and after, and stops the node.
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$REPO_ROOT/scripts/lib.sh"
cd "$REPO_ROOT"
echo "== building commons-node and commons (release)"
build_release
NODE="$COMMONS_BIN/commons-node"
CLI="$COMMONS_BIN/commons"

WORK="$(mktemp -d -t commons-demo.XXXXXX)"
RPC_PORT="$(free_port)"
"$NODE" --dev --tmp --rpc-port "$RPC_PORT" --port "$(free_port)" --prometheus-port "$(free_port)" \
	--no-telemetry --no-mdns >"$WORK/node.log" 2>&1 &
NODE_PID=$!
stop_node() {
	stop_process "$NODE_PID"
	rm -rf "$WORK"
}
trap stop_node EXIT

echo "== dev chain starting (ws://127.0.0.1:$RPC_PORT)"
if ! wait_finalised "$RPC_PORT" 1 $(($(date +%s) + 120)); then
	echo "the node did not finalise a block; its log ends:" >&2
	tail -n 30 "$WORK/node.log" >&2
	exit 1
fi
export COMMONS_RPC="ws://127.0.0.1:$RPC_PORT"

echo "== balances before"
"$CLI" balance //Alice
"$CLI" balance //Bob
echo "== Alice sends 25 CMN to Bob"
"$CLI" transfer --key //Alice --to //Bob --amount 25
echo "== balances after"
"$CLI" balance //Alice
"$CLI" balance //Bob
echo "== stopping the node"
