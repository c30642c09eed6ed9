#!/usr/bin/env bash
# docker/gpu/bundle/test-bare.sh -- prepares the bare environment in which
# tests/docker/test_gpu_bundle.py runs the GPU bundle's CPU path (make
# gpu-bundle-test; run on the host, as root):
#
#   build/gpu-bundle-test/root   a Debian bookworm made by `debootstrap
#       --variant=minbase`: glibc 2.36 and libstdc++ of GCC 12 (the Caffe
#       environment is bullseye, glibc 2.31), no Caffe libraries (no glog,
#       protobuf, boost, OpenBLAS, HDF5, LMDB), no Python: what the bundle
#       must bring, it must bring itself;
#   .../root/usr/local/lib/python3.11/dist-packages/nvidia/*/lib   the CUDA
#       libraries from NVIDIA's wheels only (docker/gpu/cuda-wheels.txt, roles
#       runtime and cudnn, the versions the bundle was built with), unpacked
#       by fetch_wheels.py (PyPI's JSON API, sha256-checked, cached in
#       ~/.cache/racnn/wheels): where a GPU machine's pip puts them.
#
# The folder lives under the checkout's build/ so that the test, which runs
# inside the Caffe environment (docker/run), sees it. Made once (under a
# temporary name, renamed when complete); `test-bare.sh --rebuild` again.
set -euo pipefail
cd "$(dirname "$0")/../../.."
dest=build/gpu-bundle-test/root
site=usr/local/lib/python3.11/dist-packages
[ "${1:-}" != --rebuild ] || rm -rf "$dest"
die() { echo "test-bare.sh: error: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (debootstrap)"

if [ ! -f "$dest/.racnn-bare-ready" ]; then
    command -v debootstrap >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq debootstrap; } >&2 \
        || die "debootstrap is missing and could not be installed"
    tmp=$dest.partial.$$
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$(dirname "$dest")"
    echo "test-bare.sh: debootstrap --variant=minbase bookworm -> $dest (~1 min)"
    mirror=()
    [ -z "${RACNN_DEBIAN_MIRROR:-}" ] || mirror=("$RACNN_DEBIAN_MIRROR")
    t=$(date +%s)
    debootstrap --variant=minbase bookworm "$tmp" "${mirror[@]}" > "$tmp.log" 2>&1 || {
        tail -n 15 "$tmp.log" >&2; die "debootstrap failed (log $tmp.log)"; }
    echo "  $(( $(date +%s) - t )) s, $(du -sh "$tmp" | cut -f1)"
    echo "test-bare.sh: CUDA libraries from NVIDIA's wheels -> /$site"
    python3 docker/gpu/bundle/fetch_wheels.py --roles runtime,cudnn \
        --cache "${RACNN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/racnn}/wheels" --site-packages "$tmp/$site"
    echo "  unpacked: $(du -sh "$tmp/$site" | cut -f1)"
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp.log"
    date -u +%Y-%m-%dT%H:%M:%SZ > "$tmp/.racnn-bare-ready"
    mv "$tmp" "$dest"
    trap - EXIT
fi
echo "test-bare.sh: bare environment ready: $dest ($(du -sh "$dest" | cut -f1))"
