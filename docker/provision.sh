#!/bin/sh
# The one provisioning script of the Caffe environment. Both the Docker image
# (docker/Dockerfile) and the Docker-less rootfs (docker/run) run it inside a
# fresh Debian bullseye, as root, so the two are the same environment.
# The rootfs cache is keyed by the hash of this file's non-comment lines:
# editing a command rebuilds the cache, editing a comment does not.
set -eu
export DEBIAN_FRONTEND=noninteractive

apt-get update
# gcc compiles racnn/resize/_resize.c, the MATLAB-exact resize kernel (racnn/resize/compiled.py;
# without a compiler the kernel runs in numpy, about 2x slower).
# Everything Python comes from Debian, not PyPI: pycaffe is built against
# Debian's numpy 1.19 and protobuf 3.12, and PyPI wheels would not match.
apt-get install -y --no-install-recommends \
    caffe python3-caffe \
    libopenblas0-pthread libblas3 \
    python3-numpy python3-protobuf python3-lmdb python3-opencv \
    python3-scipy python3-matplotlib python3-pil python3-pydot graphviz \
    python3-tqdm python3-pytest \
    make git ca-certificates time procps \
    gcc libc6-dev

# The reference BLAS (libblas3) is ~20x slower than OpenBLAS for Caffe's GEMMs:
# it is installed only so bench/bench_env.sh can measure that; libblas.so.3 is
# pinned to OpenBLAS here.
# The alternatives are named per architecture (libblas.so.3-x86_64-linux-gnu,
# libblas.so.3-aarch64-linux-gnu, ...): take whichever this system has.
for name in $(update-alternatives --get-selections | awk '$1 ~ /^(libblas|liblapack)[.]so[.]3-/ {print $1}'); do
    cand=$(update-alternatives --list "$name" | grep openblas | head -n 1 || true)
    if [ -n "$cand" ]; then update-alternatives --set "$name" "$cand"; fi
done

apt-get clean
rm -rf /var/lib/apt/lists/*

# Marker that tells the Makefile and docker/run they are inside the environment.
echo "racnn-caffe environment (Debian bullseye, BVLC Caffe 1.0)" > /etc/racnn-caffe-env
