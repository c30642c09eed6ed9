#!/bin/sh
# Build the GPU Caffe of RACNN-Caffe: the very Caffe source Debian packages
# (BVLC Caffe 1.0, upstream git 99bd997, Debian revision -8 with its Python 3.9
# / OpenCV 4 / generic-BLAS patches) compiled with CUDA 13 from NVIDIA's PyPI
# wheels, into its own prefix, with pycaffe. The one build script of both GPU
# environments: docker/Dockerfile.gpu runs it, and so does docker/run for the
# GPU rootfs (RACNN_VARIANT=gpu). Run as root inside the environment that
# docker/provision.sh made (Debian bullseye with Debian's CPU Caffe), with this
# script's folder (patches/, gpu_check.c, caffe) beside it.
#
# Result:
#   $CAFFE_PREFIX/bin/caffe          checks -gpu ids (caffe-gpu-check), then runs caffe.bin
#   $CAFFE_PREFIX/lib/libcaffe.so*   $CAFFE_PREFIX/lib/python3/dist-packages/caffe (pycaffe)
#   $CUDA_PREFIX/lib                 cudart 13, cuBLAS/cuBLASLt 13, cuRAND 10 (and NCCL 2)
#   /etc/racnn-env                   PATH/PYTHONPATH/LD_LIBRARY_PATH lines docker/run passes in
#
# No cuDNN: Caffe 1.0's cuDNN layers are written against the cuDNN 5-7 API
# (cudnnSetConvolution2dDescriptor without math type, cudnnGetConvolution*Algorithm
# with preferences), which cuDNN 8 removed in part and cuDNN 9 (the only cuDNN for
# CUDA 13) entirely; Caffe's own CUDA kernels and cuBLAS do the work instead.
#
# Knobs (environment): CUDA_ARCH_BIN, CUDA_ARCH_PTX, JOBS, USE_NCCL (auto|ON|OFF),
# KEEP_TOOLKIT=1 (keep nvcc and headers), CUDA_WHEELS=DIR (install the wheels
# from DIR instead of PyPI), CUDA_FROM=system with CUDA_PREFIX=DIR (a toolkit
# already installed there, e.g. NVIDIA's CUDA 11.8 apt packages in
# /usr/local/cuda: docker/Dockerfile.gpu's CUDA_TOOLKIT=nvidia-apt-11.8,
# UNVERIFIED; no wheels are installed and the toolkit is left in place).
set -eu
export DEBIAN_FRONTEND=noninteractive

here=$(cd "$(dirname "$0")" && pwd)
CAFFE_DEBIAN_VERSION=${CAFFE_DEBIAN_VERSION:-1.0.0+git20180821.99bd997-8}
CAFFE_PREFIX=${CAFFE_PREFIX:-/opt/caffe-cuda}
CUDA_PREFIX=${CUDA_PREFIX:-/opt/cuda13}
# sm_75 (Turing) is the oldest architecture CUDA 13 compiles for; PTX 9.0 lets
# newer GPUs (Blackwell, ...) JIT-compile the kernels.
CUDA_ARCH_BIN=${CUDA_ARCH_BIN:-75 80 86 89 90}
CUDA_ARCH_PTX=${CUDA_ARCH_PTX:-90}
JOBS=${JOBS:-$(nproc)}
USE_NCCL=${USE_NCCL:-auto}
CUDA_FROM=${CUDA_FROM:-pypi}
# The CUDA 13.0 toolkit, and the cuBLAS / cuRAND / NCCL wheels released with it
# (a 13.0 driver, 580, runs them; later wheels may want newer drivers).
WHEELS="nvidia-cuda-nvcc==13.0.88 nvidia-cuda-crt==13.0.88 nvidia-cuda-cccl==13.0.85
        nvidia-cuda-runtime==13.0.96 nvidia-nvvm==13.0.88
        nvidia-cublas==13.0.2.14 nvidia-curand==10.4.0.35 nvidia-nccl-cu13==2.28.3"

step() { printf '\n==== build_caffe_gpu: %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
t0=$(date +%s)

# Work inside the environment's own /var/tmp: docker/run's rootfs shares the
# host's /tmp, where two builds could meet.
work=/var/tmp/racnn-caffe-build
mkdir -p "$work"

step "build dependencies of caffe=$CAFFE_DEBIAN_VERSION"
# What was installed by hand before the first attempt (a rerun keeps it).
[ -f "$work/manual-before" ] || apt-mark showmanual | sort > "$work/manual-before"
echo "deb-src http://deb.debian.org/debian bullseye main" > /etc/apt/sources.list.d/racnn-src.list
[ -z "${RACNN_DEBIAN_MIRROR:-}" ] || sed -i "s|http://deb.debian.org/debian|$RACNN_DEBIAN_MIRROR|" \
    /etc/apt/sources.list.d/racnn-src.list
apt-get update
apt-get install -y --no-install-recommends dpkg-dev build-essential cmake python3-pip
apt-get build-dep -y --no-install-recommends "caffe=$CAFFE_DEBIAN_VERSION"

if [ "$CUDA_FROM" = system ]; then
    step "CUDA toolkit already in $CUDA_PREFIX"
    [ -x "$CUDA_PREFIX/bin/nvcc" ] || { echo "build_caffe_gpu: CUDA_FROM=system, but there is no $CUDA_PREFIX/bin/nvcc" >&2; exit 1; }
    [ -f "$CUDA_PREFIX/include/nccl.h" ] || [ -f /usr/include/nccl.h ] || USE_NCCL=OFF
else
step "CUDA 13 wheels -> $CUDA_PREFIX"
wheels=$work/wheels
rm -rf "$wheels"
# pip trusts what the machine that started the build trusts: docker/run copies
# its CA bundle beside this script (a TLS-intercepting proxy's CA included).
cert=
[ -f "$here/host-ca-certificates.crt" ] && cert="--cert $here/host-ca-certificates.crt"
if [ -n "${CUDA_WHEELS:-}" ]; then
    # shellcheck disable=SC2086
    python3 -m pip install --no-deps --no-index --find-links "$CUDA_WHEELS" --target "$wheels" $WHEELS
else
    # shellcheck disable=SC2086
    python3 -m pip install $cert --no-deps --no-cache-dir --target "$wheels" $WHEELS
fi
rm -rf "$CUDA_PREFIX"
mkdir -p "$CUDA_PREFIX"
cp -a "$wheels/nvidia/cu13/." "$CUDA_PREFIX/"
cp -a "$wheels/nvidia/nccl/include/." "$CUDA_PREFIX/include/"
cp -a "$wheels/nvidia/nccl/lib/." "$CUDA_PREFIX/lib/"
rm -rf "$wheels"
# The layout CMake's FindCUDA and nvcc.profile expect of a toolkit: lib64,
# targets/x86_64-linux/{include,lib}, and unversioned .so links to link against.
ln -sfn lib "$CUDA_PREFIX/lib64"
mkdir -p "$CUDA_PREFIX/targets/x86_64-linux"
ln -sfn ../../include "$CUDA_PREFIX/targets/x86_64-linux/include"
ln -sfn ../../lib "$CUDA_PREFIX/targets/x86_64-linux/lib"
ln -sfn ../../lib "$CUDA_PREFIX/targets/x86_64-linux/lib64"
for so in "$CUDA_PREFIX"/lib/lib*.so.*; do
    base=${so%%.so.*}.so
    [ -e "$base" ] || ln -s "$(basename "$so")" "$base"
done
fi
"$CUDA_PREFIX/bin/nvcc" --version | tail -n 2

step "Caffe source $CAFFE_DEBIAN_VERSION and patches"
src=$work/src
rm -rf "$src"; mkdir -p "$src"; cd "$src"
apt-get source "caffe=$CAFFE_DEBIAN_VERSION"
cd caffe-*/
for p in "$here"/patches/*.patch; do
    echo "applying $(basename "$p")"
    patch -p1 --forward < "$p"
done

configure() {
    rm -rf build && mkdir build && cd build
    cmake .. -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$CAFFE_PREFIX" \
        -DCMAKE_INSTALL_RPATH="$CAFFE_PREFIX/lib;$CUDA_PREFIX/lib" \
        -DCPU_ONLY=OFF -DUSE_CUDNN=OFF -DUSE_NCCL="$1" -DBLAS=Generic \
        -DUSE_OPENCV=ON -DUSE_LMDB=ON -DUSE_LEVELDB=ON -DALLOW_LMDB_NOLOCK=OFF \
        -DBUILD_python=ON -DBUILD_python_layer=ON -Dpython_version=3 \
        -DBUILD_docs=OFF -DBUILD_matlab=OFF \
        -DCUDA_TOOLKIT_ROOT_DIR="$CUDA_PREFIX" -DCUDA_NVCC_FLAGS=-std=c++17 \
        -DCUDA_ARCH_NAME=Manual -DCUDA_ARCH_BIN="$CUDA_ARCH_BIN" -DCUDA_ARCH_PTX="$CUDA_ARCH_PTX" \
        -DNCCL_INCLUDE_DIR="$CUDA_PREFIX/include" -DNCCL_LIBRARIES="$CUDA_PREFIX/lib/libnccl.so"
}

step "configure (USE_NCCL=$USE_NCCL)"
nccl=OFF
if [ "$USE_NCCL" != OFF ]; then
    # parallel.cpp is Caffe's only user of the NCCL API: compile it alone first,
    # and fall back to a build without NCCL (single GPU) when it does not build.
    configure ON
    make -j"$JOBS" caffeproto       # the generated caffe.pb.h parallel.cpp includes
    if make -C src/caffe parallel.cpp.o; then
        nccl=ON
    elif [ "$USE_NCCL" = ON ]; then
        echo "build_caffe_gpu: USE_NCCL=ON, but src/caffe/parallel.cpp does not compile against NCCL" >&2
        exit 1
    else
        echo "build_caffe_gpu: NCCL does not build with this Caffe; building for one GPU (USE_NCCL=OFF)"
    fi
    [ "$nccl" = ON ] || cd ..
fi
[ "$nccl" = ON ] || configure OFF      # configure leaves us in build/

step "compile (make -j$JOBS; archs $CUDA_ARCH_BIN, PTX $CUDA_ARCH_PTX, NCCL $nccl)"
t1=$(date +%s)
make -j"$JOBS"
make install
echo "compile: $(( $(date +%s) - t1 )) s"

step "caffe wrapper and caffe-gpu-check"
mv "$CAFFE_PREFIX/bin/caffe" "$CAFFE_PREFIX/bin/caffe.bin"
install -m 755 "$here/caffe" "$CAFFE_PREFIX/bin/caffe"
min_cc=$(echo "$CUDA_ARCH_BIN" | tr ' ' '\n' | sort -n | head -n 1)
ncclflag=; [ "$nccl" = OFF ] || ncclflag=-DHAVE_NCCL
gcc -O2 -std=c99 -DMIN_CC="$min_cc" $ncclflag -I"$CUDA_PREFIX/include" "$here/gpu_check.c" \
    -o "$CAFFE_PREFIX/bin/caffe-gpu-check" -L"$CUDA_PREFIX/lib" -L"$CUDA_PREFIX/lib64" -lcudart \
    -Wl,-rpath,"$CUDA_PREFIX/lib:$CUDA_PREFIX/lib64"
cat > "$CAFFE_PREFIX/BUILD-INFO" <<INFO
caffe $CAFFE_DEBIAN_VERSION (Debian source) + $(ls "$here"/patches | tr '\n' ' ')
CUDA $("$CUDA_PREFIX/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p') from PyPI wheels: $(echo $WHEELS)
archs sm_$(echo "$CUDA_ARCH_BIN" | sed 's/ /, sm_/g') + PTX $CUDA_ARCH_PTX; cuDNN no; NCCL $nccl
INFO
cat > /etc/racnn-env <<ENV
PATH=$CAFFE_PREFIX/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PYTHONPATH=$CAFFE_PREFIX/lib/python3/dist-packages
LD_LIBRARY_PATH=$CAFFE_PREFIX/lib:$CUDA_PREFIX/lib:$CUDA_PREFIX/lib64
RACNN_CAFFE_GPU_BUILD=$CAFFE_PREFIX
ENV

step "clean up"
cd /
rm -rf "$src" /etc/apt/sources.list.d/racnn-src.list
if [ "${KEEP_TOOLKIT:-0}" != 1 ]; then
    # Only what Caffe loads at run time stays: the shared libraries.
    [ "$CUDA_FROM" = system ] || rm -rf "$CUDA_PREFIX/bin" "$CUDA_PREFIX/nvvm" "$CUDA_PREFIX/include" "$CUDA_PREFIX/targets" \
           "$CUDA_PREFIX"/lib/*.a "$CUDA_PREFIX"/lib/*.bc "$CUDA_PREFIX"/lib/*.ltoir \
           "$CUDA_PREFIX"/lib/libnvblas* "$CUDA_PREFIX"/lib/stubs
    # The build dependencies go again; Caffe's run-time libraries stay, as
    # dependencies of Debian's caffe package.
    apt-mark showmanual | sort | comm -13 "$work/manual-before" - | xargs -r apt-mark auto >/dev/null
    apt-get purge -y --auto-remove dpkg-dev build-essential cmake python3-pip >/dev/null || true
    apt-get autoremove -y --purge >/dev/null
fi
apt-get clean
rm -rf /var/lib/apt/lists/* "$work"
echo "build_caffe_gpu: done in $(( $(date +%s) - t0 )) s; $(du -sh "$CAFFE_PREFIX" | cut -f1) in $CAFFE_PREFIX, $(du -sh "$CUDA_PREFIX" | cut -f1) in $CUDA_PREFIX"
