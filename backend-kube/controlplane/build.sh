#!/usr/bin/env bash
# Builds (or reuses) the test control plane: etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler from the Go mains in this directory, pinned by go.mod (k8s.io/kubernetes v1.37.2).
# Fake nodes (pods Pending -> Running -> Ready without containers) are not Go: they are a small
# node agent in Rust (backend-kube/src/testenv/nodes.rs).
#
# Output: ${OPERATOR_RUNTIME_CACHE:-$HOME/.cache/operator-runtime}/k8s-v1.37.2/{etcd,kube-apiserver,kube-controller-manager,kube-scheduler}
# Prints that directory on stdout (the last line), progress on stderr.
#
# Idempotent: a stamp file records a hash of go.mod, go.sum and every .go file; when it matches
# and all three binaries are present, nothing is built (well under a second). Otherwise `go build`
# runs (minutes when the Go caches are cold, seconds when only a main changed).
set -euo pipefail

K8S_VERSION="v1.37.2"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler)
SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${OPERATOR_RUNTIME_CACHE:-${HOME:?HOME is not set}/.cache/operator-runtime}"
OUT_DIR="${CACHE_ROOT}/k8s-${K8S_VERSION}"
STAMP="${OUT_DIR}/.source-hash"

fail() {
    echo "build.sh: ERROR: $*" >&2
    exit 1
}

source_hash() {
    (cd "$SRC_DIR" && find . -name '*.go' -o -name go.mod -o -name go.sum | LC_ALL=C sort | xargs sha256sum) |
        sha256sum | cut -d' ' -f1
}

command -v go >/dev/null 2>&1 ||
    fail "the Go toolchain ('go') is not on PATH; it is needed to build the test control plane (k8s ${K8S_VERSION}) from Go modules"

want="$(source_hash)-$(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
all_present=true
for b in "${BINARIES[@]}"; do
    [[ -x "${OUT_DIR}/${b}" ]] || all_present=false
done
if $all_present && [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$want" ]]; then
    echo "build.sh: control plane k8s ${K8S_VERSION} is up to date in ${OUT_DIR}" >&2
    echo "$OUT_DIR"
    exit 0
fi

mkdir -p "$OUT_DIR" || fail "cannot create the cache directory ${OUT_DIR}"
echo "build.sh: building ${BINARIES[*]} (k8s ${K8S_VERSION}) into ${OUT_DIR}" >&2
echo "build.sh: a cold build downloads ~700 MB of modules and takes several minutes" >&2
start=$SECONDS
# Build into a temporary directory and move into place, so an interrupted build never leaves
# a half-written binary behind a valid stamp.
tmp_out="$(mktemp -d "${OUT_DIR}/.build.XXXXXX")"
trap 'rm -rf "$tmp_out"' EXIT
pkgs=()
for b in "${BINARIES[@]}"; do pkgs+=("./${b}"); done
# Stamp the Kubernetes version in (a plain `go build` reports v0.0.0-master to /version).
v=k8s.io/component-base/version
minor="${K8S_VERSION#v1.}"
minor="${minor%%.*}"
ldflags="-X ${v}.gitVersion=${K8S_VERSION} -X ${v}.gitMajor=1 -X ${v}.gitMinor=${minor} -X ${v}.gitTreeState=clean"
if ! (cd "$SRC_DIR" && CGO_ENABLED=0 go build -ldflags="$ldflags" -o "${tmp_out}/" "${pkgs[@]}"); then
    fail "'CGO_ENABLED=0 go build -ldflags=\"${ldflags}\" -o ${OUT_DIR}/ ${pkgs[*]}' failed in ${SRC_DIR} (see the Go errors above)"
fi
for b in "${BINARIES[@]}"; do
    [[ -x "${tmp_out}/${b}" ]] || fail "go build succeeded but ${b} was not produced"
    mv -f "${tmp_out}/${b}" "${OUT_DIR}/${b}"
done
echo "$want" >"$STAMP"
echo "build.sh: built in $((SECONDS - start)) s" >&2
echo "$OUT_DIR"
