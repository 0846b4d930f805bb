# commons-worker in a container: serves Commons inference jobs and earns CMN (docs/worker.md).
#
# Build, from the repository root:
#   docker build -f packaging/docker/worker.Dockerfile -t commons-worker .
# A key in the worker's volume (then fund and register it: docs/worker.md):
#   docker run --rm -v commons-worker:/var/lib/commons-worker commons-worker \
#       key generate --out /var/lib/commons-worker/worker.key
# Run it beside a node (COMMONS_RPC defaults to ws://127.0.0.1:9944: the host's node with
# --network host; on a user network, -e COMMONS_RPC=ws://<node container>:9944):
#   docker run -d --name commons-worker --network host --stop-timeout 900 \
#       -v commons-worker:/var/lib/commons-worker \
#       -v "$PWD/models:/var/lib/commons-worker/models:ro" commons-worker
# --stop-timeout 900: on SIGTERM it goes offline and answers every seat held first (up to 10.5 min).
# On an NVIDIA GPU add `--gpus all` (the host needs the NVIDIA Container Toolkit); without a GPU,
# `--backend gpu` runs on Mesa's lavapipe and the default `--backend auto` on the CPU.
# Files bind-mounted into /var/lib/commons-worker must be writable by uid 10001 (user commons).

ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-bookworm AS builder
ARG RUST_VERSION
# rust-toolchain.toml names "stable": the image's toolchain, pinned by the tag, builds instead.
ENV RUSTUP_TOOLCHAIN=${RUST_VERSION}
# The worker uses the runtime's types, not its wasm blob: the wasm build is skipped, so the wasm
# target and rust-src are not needed here (node.Dockerfile has them).
ENV SKIP_WASM_BUILD=1
# The Debian packages of scripts/setup.sh that the build needs and the image lacks.
# DL3008 (pin apt versions) is off: Debian's security updates replace the pinned versions, and a
# pinned build then fails.
# hadolint ignore=DL3008
RUN apt-get update \
	&& apt-get install -y --no-install-recommends protobuf-compiler clang libclang-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY . .
# Cache mounts keep the crates and the build between image builds; the binary is copied out of
# the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
	--mount=type=cache,target=/usr/local/cargo/git \
	--mount=type=cache,target=/build/target \
	cargo build --release --locked -p commons-worker \
	&& cp target/release/commons-worker /usr/local/bin/commons-worker

FROM debian:bookworm-slim
# The Vulkan loader and Mesa's drivers (lavapipe, AMD, Intel) for the wgpu backend;
# libglvnd0 and libxext6, which NVIDIA's Vulkan driver (libGLX_nvidia.so.0, mounted by the NVIDIA
# runtime) links against, and its ICD file, for runtimes that mount the library but not the file.
# ca-certificates for a node behind wss://.
# DL3008 is off for the reason given in the builder stage.
# hadolint ignore=DL3008
RUN apt-get update \
	&& apt-get install -y --no-install-recommends \
		ca-certificates libvulkan1 mesa-vulkan-drivers libglvnd0 libxext6 \
	&& rm -rf /var/lib/apt/lists/* \
	&& mkdir -p /etc/vulkan/icd.d \
	&& printf '%s\n' '{"file_format_version": "1.0.0", "ICD": {"library_path": "libGLX_nvidia.so.0", "api_version": "1.3"}}' \
		> /etc/vulkan/icd.d/nvidia_icd.json \
	&& groupadd --system --gid 10001 commons \
	&& useradd --system --uid 10001 --gid commons --no-log-init \
		--home-dir /var/lib/commons-worker --no-create-home commons \
	&& install -d -o commons -g commons /var/lib/commons-worker /var/lib/commons-worker/models
COPY --from=builder /usr/local/bin/commons-worker /usr/local/bin/commons-worker
# The NVIDIA container runtime exposes the GPU to Vulkan only with the graphics capability.
# XDG_RUNTIME_DIR: Mesa's Wayland support prints an error at every adapter scan without one.
ENV NVIDIA_VISIBLE_DEVICES=all \
	NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics \
	XDG_RUNTIME_DIR=/tmp \
	COMMONS_RPC=ws://127.0.0.1:9944
# commons, by number: a runtime that checks for a non-root user cannot resolve a name.
USER 10001:10001
WORKDIR /var/lib/commons-worker
# The key, its database of commitments (worker.key.redb) and the models: kept across containers.
VOLUME /var/lib/commons-worker
# SIGTERM starts the graceful stop (offline, answer every seat held, exit); a second one exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["commons-worker"]
CMD ["run", "--key", "/var/lib/commons-worker/worker.key", "--models-dir", "/var/lib/commons-worker/models"]
