#!/usr/bin/env bash
# The project's test command (README "Test"): builds or reuses the test control plane
# (etcd + kube-apiserver + kube-controller-manager from Go modules), then runs every test of
# the workspace, including the conformance suite on the memory backend and on the real API
# server, prints the simulation's figures (seeds per second, the bug table) and the three
# conformance reports by behaviour name (memory, real API server, and KubeStore over HTTP to the
# memory API server).
set -euo pipefail
cd "$(dirname "$0")/.."

# Every real-server test must run here: a control plane that cannot be had fails them loudly
# (a plain `cargo test` on a machine without Go reports them as NOT RUN instead).
export OPERATOR_RUNTIME_REQUIRE_CONTROL_PLANE=1

echo "==> building or reusing the test control plane"
bash backend-kube/controlplane/build.sh

# The simulation's two long tests run apart, with their output shown: seeds per second of the
# 10,000-seed DataCluster run and the bug table (how many seeds each bug needed).
SIMULATION=(datacluster_passes_every_seed every_buggy_operator_is_caught_and_every_twin_passes)

echo "==> cargo test --workspace"
cargo test --workspace -- "${SIMULATION[@]/#/--skip=}"

echo "==> deterministic simulation: DataCluster seeds per second and the bug table"
# One test at a time: each spreads its seeds over every core itself, and the DataCluster
# world's seeds per second are then its own, not shared with the bug table's.
cargo test --workspace --test simulation -- --nocapture --test-threads=1 "${SIMULATION[@]}"

echo "==> conformance reports (every behaviour by name, per backend)"
# --workspace (not -p): the same feature set as the run above, so nothing is rebuilt. The
# reports come in package order: kube (real API server), kube over HTTP to memory, memory.
cargo test --workspace --test conformance --test conformance_http conformance_report -- --nocapture
