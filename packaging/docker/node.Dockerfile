# commons-node in a container: a full node of a Commons chain, with the RPC the worker and the CLI
# use. The flags are those of packaging/systemd/commons-node.service, plus RPC and Prometheus on
# every interface of the container (publish the ports only where they should be reached) and
# `--rpc-cors all`, which also turns off the RPC's Host check: without it a client that reaches
# the node by container name or through a remapped port is refused ("Host header is not
# whitelisted"). Reached from outside, the RPC serves only its safe methods.
#
# Build, from the repository root (compiles the node and the wasm runtime: long):
#   docker build -f packaging/docker/node.Dockerfile -t commons-node \
#       --build-arg COMMONS_COMMIT="$(git rev-parse --short=11 HEAD)" .
# Run on the testnet (its raw chain spec, chain-spec/testnet-raw.json, is in the image):
#   docker run -d --name commons-node --stop-timeout 120 -p 30333:30333 -p 127.0.0.1:9944:9944 \
#       -v commons-node:/var/lib/commons-node commons-node
# Another chain: put its raw spec in the volume and pass the flags, e.g.
#   ... commons-node --chain /var/lib/commons-node/chain-spec-raw.json \
#       --base-path /var/lib/commons-node --rpc-external --rpc-cors all --prometheus-external
# --stop-timeout 120: the systemd unit's TimeoutStopSec, time to close the database cleanly.
# Files bind-mounted into /var/lib/commons-node must be writable by uid 10000 (user commons-node).

ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-bookworm AS builder
ARG RUST_VERSION
# What `commons-node --version` names (no .git in the build context).
ARG COMMONS_COMMIT=unknown
# rust-toolchain.toml names "stable": the image's toolchain, pinned by the tag, builds instead.
ENV RUSTUP_TOOLCHAIN=${RUST_VERSION} \
	SUBSTRATE_CLI_GIT_COMMIT_HASH=${COMMONS_COMMIT}
# The Debian packages of scripts/setup.sh that the build needs and the image lacks, and the wasm
# target and rust-src of rust-toolchain.toml for the runtime.
# DL3008 (pin apt versions) is off: Debian's security updates replace the pinned versions, and a
# pinned build then fails.
# hadolint ignore=DL3008
RUN apt-get update \
	&& apt-get install -y --no-install-recommends protobuf-compiler clang libclang-dev \
	&& rm -rf /var/lib/apt/lists/* \
	&& rustup target add wasm32v1-none \
	&& rustup component add rust-src
WORKDIR /build
# As scripts/env.sh does: the wasm runtime embeds source paths, mapped to a fixed name.
ENV WASM_BUILD_RUSTFLAGS="--remap-path-prefix=/build=/commons"
COPY . .
# Cache mounts keep the crates and the build between image builds; the binary is copied out of
# the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
	--mount=type=cache,target=/usr/local/cargo/git \
	--mount=type=cache,target=/build/target \
	cargo build --release --locked -p commons-node \
	&& cp target/release/commons-node /usr/local/bin/commons-node

FROM debian:bookworm-slim
# DL3008 is off for the reason given in the builder stage.
# hadolint ignore=DL3008
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& groupadd --system --gid 10000 commons-node \
	&& useradd --system --uid 10000 --gid commons-node --no-log-init \
		--home-dir /var/lib/commons-node --no-create-home commons-node \
	&& install -d -o commons-node -g commons-node /var/lib/commons-node
COPY --from=builder /usr/local/bin/commons-node /usr/local/bin/commons-node
# The committed raw chain specs: a raw spec fixes the genesis, whatever runtime the binary embeds.
COPY chain-spec/dev-raw.json chain-spec/local-raw.json chain-spec/testnet-raw.json \
	/usr/share/commons/chain-spec/
# commons-node, by number: a runtime that checks for a non-root user cannot resolve a name.
USER 10000:10000
WORKDIR /var/lib/commons-node
VOLUME /var/lib/commons-node
# p2p, RPC (WebSocket and HTTP), Prometheus.
EXPOSE 30333 9944 9615
# As the systemd unit: SIGINT, and the node closes its database before it exits.
STOPSIGNAL SIGINT
ENTRYPOINT ["commons-node"]
CMD ["--chain", "/usr/share/commons/chain-spec/testnet-raw.json", "--base-path", "/var/lib/commons-node", "--rpc-port", "9944", "--rpc-external", "--rpc-cors", "all", "--prometheus-external"]
