# Shell helpers shared by the scripts: free ports, JSON-RPC over HTTP, waiting on a node.

# A TCP port on loopback that nothing listens on.
free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 40000))
		if ! (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}

# rpc PORT METHOD [PARAMS_JSON]: prints the JSON `result` of a call (empty on failure).
rpc() {
	local port="$1" method="$2" params="${3:-[]}"
	curl -sf --max-time 5 -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}" \
		"http://127.0.0.1:$port" 2>/dev/null |
		sed -n 's/.*"result":\(.*\)}$/\1/p'
}

# The number of the finalised block of the node on PORT (empty if unreachable).
finalised_number() {
	local port="$1" hash header
	hash="$(rpc "$port" chain_getFinalizedHead)" || return 0
	[[ -n "$hash" ]] || return 0
	header="$(rpc "$port" chain_getHeader "[$hash]")"
	local hex
	hex="$(sed -n 's/.*"number":"0x\([0-9a-fA-F]*\)".*/\1/p' <<<"$header")"
	[[ -n "$hex" ]] && echo $((16#$hex))
}

# wait_finalised PORT N TIMEOUT_SECONDS: waits until the node's finalised block reaches N.
wait_finalised() {
	local port="$1" target="$2" timeout="$3" start number
	start=$(date +%s)
	while :; do
		number="$(finalised_number "$port")"
		if [[ -n "$number" && "$number" -ge "$target" ]]; then
			return 0
		fi
		if (($(date +%s) - start >= timeout)); then
			return 1
		fi
		sleep 0.5
	done
}

# The release binary NAME, built if needed. COMMONS_NODE / COMMONS_CLI override the paths.
release_binary() {
	local name="$1" package="$2"
	if [[ ! -x "$COMMONS_BIN/$name" ]]; then
		echo "building $name (release)..." >&2
		cargo build --release --workspace --manifest-path "$REPO_ROOT/Cargo.toml" >&2
	fi
	echo "$COMMONS_BIN/$name"
}
