#!/usr/bin/env bash
# Starts the four validators of the local testnet (Alice, Bob, Charlie, Dave) on loopback with
# free ports, waits until all four report the same finalised block >= 3, prints their RPC
# endpoints, and keeps them running until Ctrl-C.
#
#   scripts/testnet.sh           run until Ctrl-C
#   scripts/testnet.sh --check   the same, then stop and exit 0 (finalising) or 1 (not)
#
# COMMONS_NODE overrides the node binary; the chain is chain-spec/local-raw.json.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$REPO_ROOT/scripts/lib.sh"

CHECK=false
[[ "${1:-}" == "--check" ]] && CHECK=true
TIMEOUT="${COMMONS_TESTNET_TIMEOUT:-180}"

if [[ -z "${COMMONS_NODE:-}" ]]; then
	build_release
	COMMONS_NODE="$COMMONS_BIN/commons-node"
fi
NODE="$COMMONS_NODE"
SPEC="$REPO_ROOT/chain-spec/local-raw.json"
WORK="$(mktemp -d -t commons-testnet.XXXXXX)"
NAMES=(alice bob charlie dave)
PIDS=()
RPC_PORTS=()

stop_all() {
	for pid in "${PIDS[@]}"; do stop_process "$pid"; done
	rm -rf "$WORK"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Fixed network keys make the peer ids known in advance, so the others can dial Alice.
ALICE_P2P="$(free_port)"
ALICE_PEER_ID="12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp" # node key 0x..01
BOOTNODE="/ip4/127.0.0.1/tcp/$ALICE_P2P/p2p/$ALICE_PEER_ID"

for i in "${!NAMES[@]}"; do
	name="${NAMES[$i]}"
	rpc_port="$(free_port)"
	p2p_port="$ALICE_P2P"
	((i > 0)) && p2p_port="$(free_port)"
	node_key="$(printf '%064x' $((i + 1)))"
	"$NODE" --chain "$SPEC" --"$name" --base-path "$WORK/$name" \
		--node-key "$node_key" --port "$p2p_port" --rpc-port "$rpc_port" \
		--prometheus-port "$(free_port)" --no-telemetry --no-mdns \
		--bootnodes "$BOOTNODE" >"$WORK/$name.log" 2>&1 &
	PIDS+=("$!")
	RPC_PORTS+=("$rpc_port")
done

echo "waiting for the four validators to finalise block #3 (up to ${TIMEOUT}s)..."
ok=true
deadline=$(($(date +%s) + TIMEOUT))
for i in "${!NAMES[@]}"; do
	if ! wait_finalised "${RPC_PORTS[$i]}" 3 "$deadline"; then
		echo "${NAMES[$i]} did not finalise block #3; its log ends:" >&2
		tail -n 20 "$WORK/${NAMES[$i]}.log" >&2
		ok=false
	fi
done

if $ok; then
	# The lowest finalised number is final on every node; all must agree on its hash.
	lowest=""
	for port in "${RPC_PORTS[@]}"; do
		number="$(finalised_number "$port")"
		if [[ -z "$lowest" || "$number" -lt "$lowest" ]]; then lowest="$number"; fi
	done
	hashes="$(for port in "${RPC_PORTS[@]}"; do rpc "$port" chain_getBlockHash "[$lowest]" | tr -d '"'; echo; done | sort -u)"
	if [[ $(wc -l <<<"$hashes") -ne 1 ]]; then
		echo "the validators disagree on block #$lowest: $hashes" >&2
		ok=false
	else
		echo "all four validators finalised block #$lowest ($hashes)"
	fi
fi

for i in "${!NAMES[@]}"; do
	echo "  ${NAMES[$i]}: ws://127.0.0.1:${RPC_PORTS[$i]}"
done

if $CHECK; then
	$ok && exit 0 || exit 1
fi
$ok || exit 1
echo "running; press Ctrl-C to stop all four"
wait
