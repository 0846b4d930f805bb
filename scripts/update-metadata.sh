#!/usr/bin/env bash
# Refreshes client/metadata/commons.scale, the runtime metadata (V16) that the CLI's and the
# worker's typed chain access (subxt) is generated from, after a change to the runtime's calls,
# storage, events or view functions. It asks a freshly built `commons-node --dev` for it over RPC
# (`Metadata_metadata_at_version(16)`), as any client would. runtime/tests/metadata.rs fails while
# the committed file is stale.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$REPO_ROOT/scripts/lib.sh"
cd "$REPO_ROOT"
cargo build --release --locked -p commons-node >&2
WORK="$(mktemp -d -t commons-metadata.XXXXXX)"
RPC_PORT="$(free_port)"
"$COMMONS_BIN/commons-node" --dev --tmp --rpc-port "$RPC_PORT" --port "$(free_port)" \
	--prometheus-port "$(free_port)" --no-telemetry --no-mdns >"$WORK/node.log" 2>&1 &
NODE_PID=$!
trap 'stop_process "$NODE_PID"; rm -rf "$WORK"' EXIT
wait_finalised "$RPC_PORT" 0 $(($(date +%s) + 120))
# The argument is SCALE u32 16; the answer is SCALE Option<Vec<u8>> holding the metadata.
rpc "$RPC_PORT" state_call '["Metadata_metadata_at_version", "0x10000000"]' | python3 -c '
import sys
raw = bytes.fromhex(sys.stdin.read().strip().strip("\"")[2:])
assert raw[0] == 1, "the runtime does not serve metadata V16"
mode = raw[1] & 3
length, start = {0: (raw[1] >> 2, 2), 1: (int.from_bytes(raw[1:3], "little") >> 2, 3),
                 2: (int.from_bytes(raw[1:5], "little") >> 2, 5)}[mode]
body = raw[start:start + length]
assert len(body) == length, "truncated metadata"
open(sys.argv[1], "wb").write(body)
' client/metadata/commons.scale
echo "client/metadata/commons.scale: $(stat -c %s client/metadata/commons.scale) bytes"
