#!/usr/bin/env bash
# Refreshes client/metadata/commons.scale, the runtime metadata (V16) that the CLI's and the
# worker's typed chain access (subxt) is generated from, after a change to the runtime's calls,
# storage, events or view functions. It asks a freshly built `commons-node --dev` for it over RPC
# (`Metadata_metadata_at_version(16)`), as any client would. runtime/tests/metadata.rs fails while
# the committed file is stale.
#
# client/metadata/spec-versions.txt records the metadata of every spec version (its blake2-256):
# a metadata that differs from the one recorded for the runtime's spec_version is refused until
# spec_version moves up, so that no two runtimes with different calls, storage or events share a
# version (clients and workers sign for it and decode by it).
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
' "$WORK/commons.scale"
SPEC="$(sed -n 's/^[[:space:]]*spec_version: \([0-9]*\),.*/\1/p' runtime/src/lib.rs)"
HASH="$(python3 -c 'import hashlib, sys
print(hashlib.blake2b(open(sys.argv[1], "rb").read(), digest_size=32).hexdigest())' \
	"$WORK/commons.scale")"
VERSIONS=client/metadata/spec-versions.txt
RECORDED="$(awk -v spec="$SPEC" '$1 == spec { print $2 }' "$VERSIONS")"
if [ -n "$RECORDED" ] && [ "$RECORDED" != "$HASH" ]; then
	echo "the runtime's metadata changed, but spec_version is still $SPEC, whose metadata is" \
		"recorded in $VERSIONS: move spec_version up in runtime/src/lib.rs and run this again" >&2
	exit 1
fi
if [ -z "$RECORDED" ]; then
	LAST="$(awk '$1 ~ /^[0-9]+$/ { last = $1 } END { print last }' "$VERSIONS")"
	if [ "$SPEC" -le "$LAST" ]; then
		echo "spec_version $SPEC is not above the last recorded one ($LAST)" >&2
		exit 1
	fi
	echo "$SPEC $HASH" >>"$VERSIONS"
fi
cp "$WORK/commons.scale" client/metadata/commons.scale
echo "client/metadata/commons.scale: $(stat -c %s client/metadata/commons.scale) bytes, spec $SPEC"
