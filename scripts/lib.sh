# Shell helpers shared by the scripts: free ports, JSON-RPC over HTTP, waiting on and stopping
# nodes.

# Ports handed out by free_port in this shell: several nodes started in a row have not bound
# theirs yet, so "nothing listens" alone would hand the same port out twice.
CHOSEN_PORTS=" "

# A TCP port on loopback that nothing listens on and that this shell has not handed out.
free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 40000))
		[[ "$CHOSEN_PORTS" == *" $port "* ]] && continue
		if ! (: </dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
			CHOSEN_PORTS+="$port "
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
	local port="$1" hash header hex
	hash="$(rpc "$port" chain_getFinalizedHead)"
	[[ -n "$hash" ]] || return 0
	header="$(rpc "$port" chain_getHeader "[$hash]")"
	hex="$(sed -n 's/.*"number":"0x\([0-9a-fA-F]*\)".*/\1/p' <<<"$header")"
	[[ -n "$hex" ]] && echo $((16#$hex))
}

# wait_finalised PORT N DEADLINE: waits until the node's finalised block reaches N, or until
# the wall clock passes DEADLINE (seconds since the epoch).
wait_finalised() {
	local port="$1" target="$2" deadline="$3" number
	while :; do
		number="$(finalised_number "$port")"
		if [[ -n "$number" && "$number" -ge "$target" ]]; then
			return 0
		fi
		if (($(date +%s) >= deadline)); then
			return 1
		fi
		sleep 0.5
	done
}

# stop_process PID: Ctrl-C, then up to 20 s for a clean exit, then SIGKILL.
stop_process() {
	local pid="$1" waited=0
	kill -INT "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null && ((waited < 40)); do
		sleep 0.5
		waited=$((waited + 1))
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# The release binaries, rebuilt when the sources changed (a no-op otherwise).
build_release() {
	cargo build --release --workspace --manifest-path "$REPO_ROOT/Cargo.toml" >&2
}
