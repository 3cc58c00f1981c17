#!/usr/bin/env bash
# The project's test command (README "Test"): builds or reuses the test control plane
# (etcd + kube-apiserver + kube-controller-manager from Go modules), then runs every test of
# the workspace, including the conformance suite on the memory backend and on the real API
# server, and prints the three conformance reports by behaviour name (memory, real API server,
# and KubeStore over HTTP to the memory API server).
set -euo pipefail
cd "$(dirname "$0")/.."

# Every real-server test must run here: a control plane that cannot be had fails them loudly
# (a plain `cargo test` on a machine without Go reports them as NOT RUN instead).
export OPERATOR_RUNTIME_REQUIRE_CONTROL_PLANE=1

echo "==> building or reusing the test control plane"
bash backend-kube/controlplane/build.sh

echo "==> cargo test --workspace"
cargo test --workspace

echo "==> conformance reports (every behaviour by name, per backend)"
# --workspace (not -p): the same feature set as the run above, so nothing is rebuilt. The
# reports come in package order: kube (real API server), kube over HTTP to memory, memory.
cargo test --workspace --test conformance --test conformance_http conformance_report -- --nocapture
