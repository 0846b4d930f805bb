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

# Processes started by start_dev_node and start_worker, stopped by stop_started in reverse
# order: the workers first, each going offline and answering its seats while the node still runs.
STARTED_PIDS=()
stop_started() {
	local index
	for ((index = ${#STARTED_PIDS[@]} - 1; index >= 0; index--)); do
		stop_process "${STARTED_PIDS[$index]}"
	done
}

# start_dev_node DIR: starts `commons-node --dev --tmp` on free ports (log: DIR/node.log) and
# exports COMMONS_RPC once it has finalised a block; prints the log's end and fails otherwise.
start_dev_node() {
	local dir="$1" port
	port="$(free_port)"
	"${NODE_BIN:-$COMMONS_BIN/commons-node}" --dev --tmp --rpc-port "$port" --port "$(free_port)" \
		--prometheus-port "$(free_port)" --no-telemetry --no-mdns >"$dir/node.log" 2>&1 &
	STARTED_PIDS+=($!)
	if ! wait_finalised "$port" 1 $(($(date +%s) + 120)); then
		echo "the node did not finalise a block; its log ends:" >&2
		tail -n 30 "$dir/node.log" >&2
		return 1
	fi
	export COMMONS_RPC="ws://127.0.0.1:$port"
}

# start_worker DIR NAME BACKEND: a new worker key DIR/NAME.key, funded by Alice with 1100 CMN,
# registered for model 0 with 1000 CMN of stake at 1 CMN a replica, then `commons-worker run`
# with one engine thread (log: DIR/NAME.log). Sets WORKER_ADDRESS and METRICS_PORT.
start_worker() {
	local dir="$1" name="$2" backend="$3" key="$1/$2.key"
	WORKER_ADDRESS="$("$COMMONS_BIN/commons-worker" --json key generate --out "$key" |
		sed -n 's/.*"address":"\([^"]*\)".*/\1/p')"
	"$COMMONS_BIN/commons" transfer --key //Alice --to "$WORKER_ADDRESS" --amount 1100 >/dev/null
	"$COMMONS_BIN/commons-worker" register --key "$key" --stake 1000 --price 1 --model 0 >/dev/null
	METRICS_PORT="$(free_port)"
	"${WORKER_BIN:-$COMMONS_BIN/commons-worker}" run --key "$key" --models-dir "$REPO_ROOT/models" \
		--backend "$backend" --threads 1 --metrics-port "$METRICS_PORT" >"$dir/$name.log" 2>&1 &
	STARTED_PIDS+=($!)
	# The worker measures its engine, then declares the capacity it measured. Until then the
	# chain sizes its commit windows by the registration's guess, and a job posted meanwhile can
	# be more than a slow backend (lavapipe) finishes in time: its seat would be a no-show.
	local deadline=$(($(date +%s) + 180))
	until grep -q "capacity: " "$dir/$name.log" 2>/dev/null; do
		if (($(date +%s) > deadline)); then
			echo "start_worker: $name declared no capacity within 180 s (see $dir/$name.log)" >&2
			break
		fi
		sleep 1
	done
}
