#!/bin/sh
# docker/gpu/deps.sh -- what compiling the GPU Caffe needs, installed as root
# into the environment docker/provision.sh made (Debian bullseye with Debian's
# CPU Caffe): Debian's build dependencies of caffe (and cmake, patchelf), and
# CUDA 13.0 from NVIDIA's PyPI wheels (docker/gpu/cuda-wheels.txt) merged into
# one prefix, $CUDA_PREFIX, with the layout CMake's FindCUDA and nvcc.profile
# expect of a toolkit. Run by build_caffe_gpu.sh (the GPU rootfs and image)
# and by docker/run for the bundle's build environment (RACNN_ENV=gpu-build),
# whose cache is keyed by this file, cuda-wheels.txt and provision.sh.
#
# Knobs: CUDA_PREFIX (default /opt/cuda13), WITH_CUDNN=1 (the cudnn wheel too:
# headers and libraries to build and link cuDNN layers), CUDA_WHEELS=DIR
# (install the wheels from DIR instead of PyPI), DEPS_NO_WHEELS=1 (build
# dependencies only), CAFFE_SOURCE_DIR=DIR (keep the pristine Caffe source
# there), RACNN_GPU_ENV_FILE=1 (write docker/run's /etc/racnn-env and clean
# up: the gpu-build environment), CAFFE_DEBIAN_VERSION.
set -eu
export DEBIAN_FRONTEND=noninteractive
here=$(cd "$(dirname "$0")" && pwd)
CAFFE_DEBIAN_VERSION=${CAFFE_DEBIAN_VERSION:-1.0.0+git20180821.99bd997-8}
CUDA_PREFIX=${CUDA_PREFIX:-/opt/cuda13}
WITH_CUDNN=${WITH_CUDNN:-0}
work=${RACNN_GPU_WORK:-/var/tmp/racnn-caffe-build}
mkdir -p "$work"
step() { printf '\n==== deps: %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "build dependencies of caffe=$CAFFE_DEBIAN_VERSION"
# What was installed by hand before (build_caffe_gpu.sh's clean-up purges the rest).
[ -f "$work/manual-before" ] || apt-mark showmanual | sort > "$work/manual-before"
echo "deb-src http://deb.debian.org/debian bullseye main" > /etc/apt/sources.list.d/racnn-src.list
[ -z "${RACNN_DEBIAN_MIRROR:-}" ] || sed -i "s|http://deb.debian.org/debian|$RACNN_DEBIAN_MIRROR|" \
    /etc/apt/sources.list.d/racnn-src.list
apt-get update
apt-get install -y --no-install-recommends dpkg-dev build-essential cmake python3-pip patchelf xz-utils
apt-get build-dep -y --no-install-recommends "caffe=$CAFFE_DEBIAN_VERSION"

if [ "${DEPS_NO_WHEELS:-0}" = 1 ]; then
    echo "deps: DEPS_NO_WHEELS=1: build dependencies only (a CUDA toolkit is installed already)"
    exit 0
fi

roles="toolkit runtime"
[ "$WITH_CUDNN" != 1 ] || roles="$roles cudnn"
wheels_list=$(for r in $roles; do awk -v r="$r" '$1 == r {print $2}' "$here/cuda-wheels.txt"; done)
step "CUDA 13 wheels -> $CUDA_PREFIX: $(echo $wheels_list)"
wheels=$work/wheels
rm -rf "$wheels"
# pip trusts what the machine that started the build trusts: docker/run copies
# its CA bundle beside this script (a TLS-intercepting proxy's CA included).
cert=
[ -f "$here/host-ca-certificates.crt" ] && cert="--cert $here/host-ca-certificates.crt"
if [ -n "${CUDA_WHEELS:-}" ]; then
    # shellcheck disable=SC2086
    python3 -m pip install --no-deps --no-index --find-links "$CUDA_WHEELS" --target "$wheels" $wheels_list
else
    # shellcheck disable=SC2086
    python3 -m pip install $cert --no-deps --no-cache-dir --target "$wheels" $wheels_list
fi
rm -rf "$CUDA_PREFIX"
mkdir -p "$CUDA_PREFIX"
cp -a "$wheels/nvidia/cu13/." "$CUDA_PREFIX/"
for extra in nccl cudnn; do          # their own folders in the wheels: nvidia/<name>/{include,lib}
    [ -d "$wheels/nvidia/$extra" ] || continue
    cp -a "$wheels/nvidia/$extra/include/." "$CUDA_PREFIX/include/"
    cp -a "$wheels/nvidia/$extra/lib/." "$CUDA_PREFIX/lib/"
done
rm -rf "$wheels"
ln -sfn lib "$CUDA_PREFIX/lib64"
mkdir -p "$CUDA_PREFIX/targets/x86_64-linux"
ln -sfn ../../include "$CUDA_PREFIX/targets/x86_64-linux/include"
ln -sfn ../../lib "$CUDA_PREFIX/targets/x86_64-linux/lib"
ln -sfn ../../lib "$CUDA_PREFIX/targets/x86_64-linux/lib64"
for so in "$CUDA_PREFIX"/lib/lib*.so.*; do      # unversioned links to link against
    base=${so%%.so.*}.so
    [ -e "$base" ] || ln -s "$(basename "$so")" "$base"
done
"$CUDA_PREFIX/bin/nvcc" --version | tail -n 2
echo "$wheels_list" | tr ' ' '\n' > "$CUDA_PREFIX/WHEELS"

if [ -n "${CAFFE_SOURCE_DIR:-}" ]; then
    # The pristine source (Debian's patches applied on extraction), kept for
    # builds that patch a copy of it (build_caffe_gpu.sh bundle).
    step "Caffe source caffe=$CAFFE_DEBIAN_VERSION -> $CAFFE_SOURCE_DIR"
    rm -rf "$CAFFE_SOURCE_DIR.tmp"; mkdir -p "$CAFFE_SOURCE_DIR.tmp"
    (cd "$CAFFE_SOURCE_DIR.tmp" && apt-get source "caffe=$CAFFE_DEBIAN_VERSION")
    rm -rf "$CAFFE_SOURCE_DIR"
    mv "$CAFFE_SOURCE_DIR.tmp"/caffe-*/ "$CAFFE_SOURCE_DIR"
    rm -rf "$CAFFE_SOURCE_DIR.tmp"
    echo "$CAFFE_DEBIAN_VERSION" > "$CAFFE_SOURCE_DIR/DEBIAN-VERSION"
fi

if [ "${RACNN_GPU_ENV_FILE:-0}" = 1 ]; then
    # docker/run's gpu-build environment: what it hands every command there.
    cat > /etc/racnn-env <<ENV
PATH=$CUDA_PREFIX/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RACNN_GPU_BUILD_ENV=$CUDA_PREFIX
CUDA_PREFIX=$CUDA_PREFIX
CAFFE_SOURCE_DIR=${CAFFE_SOURCE_DIR:-}
ENV
    rm -f /etc/apt/sources.list.d/racnn-src.list
    apt-get clean
    rm -rf /var/lib/apt/lists/* "$work"
    echo "deps: done; $(du -sh "$CUDA_PREFIX" | cut -f1) in $CUDA_PREFIX"
fi
