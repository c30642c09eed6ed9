#!/bin/sh
# Build the GPU Caffe of RACNN-Caffe: the very Caffe source Debian packages
# (BVLC Caffe 1.0, upstream git 99bd997, Debian revision -8 with its Python 3.9
# / OpenCV 4 / generic-BLAS patches) plus docker/gpu/patches/, compiled with
# CUDA 13 from NVIDIA's PyPI wheels. The one build script of every GPU Caffe
# here, with a mode:
#
#   build_caffe_gpu.sh              (full) the GPU rootfs (docker/run,
#                                   RACNN_ENV=gpu) and image (docker/Dockerfile.gpu):
#                                   deps.sh, source, patches, configure, compile,
#                                   install into $CAFFE_PREFIX with pycaffe, clean up
#   build_caffe_gpu.sh bundle DIR   the bundle's Caffe (make gpu-bundle), inside the
#                                   gpu-build environment (RACNN_ENV=gpu-build, which
#                                   ran deps.sh): no pycaffe/OpenCV/LevelDB, cuDNN 9
#                                   compiled in (used only with RACNN_CUDNN=1, patch
#                                   05), installed into DIR/install with RPATH
#                                   $ORIGIN/../lib. DIR keeps the build tree: the
#                                   patched source is synced into DIR/src file by
#                                   file, so a changed patch recompiles only the
#                                   files it changes.
#   build_caffe_gpu.sh nocudnn DIR  the files the patches change compile in a build
#                                   without cuDNN too (what the full mode builds):
#                                   a second configure in DIR/build-nocudnn, only
#                                   those objects.
#
# Run as root inside the environment that docker/provision.sh made (Debian
# bullseye with Debian's CPU Caffe), with this script's folder (patches/,
# deps.sh, cuda-wheels.txt, caffe-gpu-check.c, caffe) beside it.
#
# Result of the full mode:
#   $CAFFE_PREFIX/bin/caffe          checks -gpu ids (caffe-gpu-check), then runs caffe.bin
#   $CAFFE_PREFIX/lib/libcaffe.so*   $CAFFE_PREFIX/lib/python3/dist-packages/caffe (pycaffe)
#   $CUDA_PREFIX/lib                 cudart 13, cuBLAS/cuBLASLt 13, cuRAND 10 (and NCCL 2)
#   /etc/racnn-env                   PATH/PYTHONPATH/LD_LIBRARY_PATH lines docker/run passes in
#
# cuDNN: the full mode builds without it (USE_CUDNN=OFF: Caffe's own CUDA
# kernels and cuBLAS, the exact default); USE_CUDNN=ON builds it in, with the
# cuDNN 9 port of patch 04 (docs/GPU.md). The bundle mode always builds it in.
#
# Knobs (environment): CUDA_ARCH_BIN, CUDA_ARCH_PTX, JOBS, USE_NCCL (auto|ON|OFF),
# USE_CUDNN (OFF|ON, full mode), KEEP_TOOLKIT=1 (keep nvcc and headers),
# CUDA_WHEELS=DIR (install the wheels from DIR instead of PyPI), CUDA_FROM=system
# with CUDA_PREFIX=DIR (a toolkit already installed there, e.g. NVIDIA's CUDA
# 11.8 apt packages in /usr/local/cuda: docker/Dockerfile.gpu's
# CUDA_TOOLKIT=nvidia-apt-11.8, UNVERIFIED; no wheels are installed and the
# toolkit is left in place).
set -eu
export DEBIAN_FRONTEND=noninteractive

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-full}
case $mode in
    full) ;;
    bundle|nocudnn) [ $# = 2 ] || { echo "usage: build_caffe_gpu.sh $mode DIR" >&2; exit 2; }
                    dir=$2 ;;
    *) echo "build_caffe_gpu.sh: unknown mode '$mode' (full, bundle DIR, nocudnn DIR)" >&2; exit 2 ;;
esac
CAFFE_DEBIAN_VERSION=${CAFFE_DEBIAN_VERSION:-1.0.0+git20180821.99bd997-8}
CAFFE_PREFIX=${CAFFE_PREFIX:-/opt/caffe-cuda}
CUDA_PREFIX=${CUDA_PREFIX:-/opt/cuda13}
# sm_75 (Turing) is the oldest architecture CUDA 13 compiles for; PTX 9.0 lets
# newer GPUs (Blackwell, ...) JIT-compile the kernels.
CUDA_ARCH_BIN=${CUDA_ARCH_BIN:-75 80 86 89 90}
CUDA_ARCH_PTX=${CUDA_ARCH_PTX:-90}
JOBS=${JOBS:-$(nproc)}
USE_NCCL=${USE_NCCL:-auto}
USE_CUDNN=${USE_CUDNN:-OFF}
CUDA_FROM=${CUDA_FROM:-pypi}

step() { printf '\n==== build_caffe_gpu: %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
t0=$(date +%s)

# configure SOURCE BUILD NCCL CUDNN PREFIX RPATH EXTRA...: CMake in BUILD (left there).
configure() {
    local_src=$1 local_build=$2 local_nccl=$3 local_cudnn=$4 local_prefix=$5 local_rpath=$6
    shift 6
    mkdir -p "$local_build" && cd "$local_build"
    cmake "$local_src" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$local_prefix" \
        -DCMAKE_INSTALL_RPATH="$local_rpath" \
        -DCPU_ONLY=OFF -DUSE_CUDNN="$local_cudnn" -DUSE_NCCL="$local_nccl" -DBLAS=Generic \
        -DUSE_LMDB=ON -DALLOW_LMDB_NOLOCK=OFF -DBUILD_docs=OFF -DBUILD_matlab=OFF \
        -DCUDA_TOOLKIT_ROOT_DIR="$CUDA_PREFIX" -DCUDA_NVCC_FLAGS=-std=c++17 \
        -DCUDA_ARCH_NAME=Manual -DCUDA_ARCH_BIN="$CUDA_ARCH_BIN" -DCUDA_ARCH_PTX="$CUDA_ARCH_PTX" \
        -DNCCL_INCLUDE_DIR="$CUDA_PREFIX/include" -DNCCL_LIBRARIES="$CUDA_PREFIX/lib/libnccl.so" \
        -DCUDNN_INCLUDE="$CUDA_PREFIX/include" -DCUDNN_LIBRARY="$CUDA_PREFIX/lib/libcudnn.so" \
        "$@"
}

# caffe-gpu-check (caffe-gpu-check.c) into $1, against the CUDA runtime; RPATH $2.
build_gpu_check() {
    min_cc=$(echo "$CUDA_ARCH_BIN" | tr ' ' '\n' | sort -n | head -n 1)
    ncclflag=; [ "$nccl" = OFF ] || ncclflag=-DHAVE_NCCL
    gcc -O2 -std=c99 -DMIN_CC="$min_cc" $ncclflag -I"$CUDA_PREFIX/include" "$here/caffe-gpu-check.c" \
        -o "$1" -L"$CUDA_PREFIX/lib" -L"$CUDA_PREFIX/lib64" -lcudart -Wl,-rpath,"$2"
}

build_info() {   # build_info CUDNN: the BUILD-INFO text
    cat <<INFO
caffe $CAFFE_DEBIAN_VERSION (Debian source) + $(ls "$here"/patches | tr '\n' ' ')
CUDA $("$CUDA_PREFIX/bin/nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p') from PyPI wheels: $(cat "$CUDA_PREFIX/WHEELS" 2>/dev/null | tr '\n' ' ')
archs sm_$(echo "$CUDA_ARCH_BIN" | sed 's/ /, sm_/g') + PTX $CUDA_ARCH_PTX; cuDNN $1; NCCL $nccl
INFO
}

# patched_source PRISTINE OUT: a copy of PRISTINE with patches/ applied.
patched_source() {
    rm -rf "$2"; cp -a "$1" "$2"
    for p in "$here"/patches/*.patch; do
        echo "applying $(basename "$p")"
        (cd "$2" && patch -p1 --forward --quiet < "$p")
    done
}

# sync_source NEW SRC: make SRC's files equal to NEW's, copying only the files
# whose contents differ (so they get a new mtime and make rebuilds them, and
# nothing else); files that NEW lacks are removed.
sync_source() {
    (cd "$1" && find . -type f) | while IFS= read -r f; do
        if ! cmp -s "$1/$f" "$2/$f"; then
            mkdir -p "$(dirname "$2/$f")"; cp "$1/$f" "$2/$f"; echo "  changed: ${f#./}"
        fi
    done > "$2.sync.log"
    if [ "$(wc -l < "$2.sync.log")" -gt 20 ]; then
        echo "  $(wc -l < "$2.sync.log") files copied (a first build; list in $2.sync.log)"
    else
        cat "$2.sync.log"
    fi
    (cd "$2" && find . -type f) | while IFS= read -r f; do
        [ -e "$1/$f" ] || { rm -f "$2/$f"; echo "  removed: ${f#./}"; }
    done
}

# compile_patched WHAT [EXTRA...]: in a configured build folder, compile the
# C++ files the patches change (and EXTRA, paths under src/caffe/) alone and
# first: a broken patch shows in a minute, not after the CUDA kernels' hour.
compile_patched() {
    what=$1; shift
    make caffeproto >/dev/null
    files=$( { cat "$here"/patches/*.patch | sed -n 's|^+++ b/src/caffe/\(.*\.cpp\)$|\1|p'
               for f in "$@"; do echo "$f"; done; } | sort -u)
    step "compile the patched C++ files first ($what): $(echo $files)"
    for f in $files; do
        make -C src/caffe "$f.o"
    done
}

if [ "$mode" != full ]; then
    # ---- bundle / nocudnn: in the gpu-build environment, build tree in $dir
    [ -n "${RACNN_GPU_BUILD_ENV:-}" ] && [ -d "${CAFFE_SOURCE_DIR:-/nonexistent}" ] || {
        echo "build_caffe_gpu.sh $mode: not inside the gpu-build environment (RACNN_ENV=gpu-build docker/run ...)" >&2
        exit 2; }
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    step "patched source -> $dir/src"
    patched_source "$CAFFE_SOURCE_DIR" "$dir/src.new"
    # The bundle's own C++ tools, built by Caffe's tools/CMakeLists.txt against
    # this libcaffe (tools/*.cpp each become a program).
    for t in "$here"/bundle/*.cpp; do [ ! -f "$t" ] || cp "$t" "$dir/src.new/tools/"; done
    mkdir -p "$dir/src"
    sync_source "$dir/src.new" "$dir/src"
    rm -rf "$dir/src.new"
    nccl=ON
    if [ "$mode" = nocudnn ]; then
        # What the full mode compiles (no cuDNN, with pycaffe's options), for
        # the files the patches touch: each must compile without cuDNN.
        step "configure without cuDNN ($dir/build-nocudnn)"
        [ -f "$dir/build-nocudnn/Makefile" ] || configure "$dir/src" "$dir/build-nocudnn" ON OFF \
            /nonexistent /nonexistent -DUSE_OPENCV=OFF -DUSE_LEVELDB=OFF -DBUILD_python=OFF \
            -DBUILD_python_layer=OFF >/dev/null
        cd "$dir/build-nocudnn"
        compile_patched "without cuDNN"
        echo "build_caffe_gpu: nocudnn: $(echo "$files" | wc -w) patched file(s) compile without cuDNN"
        exit 0
    fi
    step "configure ($dir/build; USE_CUDNN=ON, NCCL ON, archs $CUDA_ARCH_BIN + PTX $CUDA_ARCH_PTX)"
    # Reconfigured only when the options change (a new CMake cache rebuilds all).
    opts="$CUDA_ARCH_BIN|$CUDA_ARCH_PTX|$CUDA_PREFIX|$dir|1"
    if [ ! -f "$dir/build/Makefile" ] || [ "$(cat "$dir/build/.racnn-options" 2>/dev/null)" != "$opts" ]; then
        rm -rf "$dir/build"
        configure "$dir/src" "$dir/build" ON ON "$dir/install" '$ORIGIN/../lib' \
            -DUSE_OPENCV=OFF -DUSE_LEVELDB=OFF -DBUILD_python=OFF -DBUILD_python_layer=OFF
        echo "$opts" > "$dir/build/.racnn-options"
    fi
    cd "$dir/build"
    cmake . >/dev/null              # picks up tools/ files added since (racnn-numerics)
    compile_patched "with cuDNN, and every cuDNN layer" $(cd "$dir/src/src/caffe" && ls layers/cudnn_*.cpp util/cudnn.cpp)
    step "compile (make -j$JOBS)"
    t1=$(date +%s)
    make -j"$JOBS"
    echo "compile: $(( $(date +%s) - t1 )) s"
    step "install -> $dir/install"
    rm -rf "$dir/install"
    make install >/dev/null
    mv "$dir/install/bin/caffe" "$dir/install/bin/caffe.bin"
    build_gpu_check "$dir/install/bin/caffe-gpu-check" '$ORIGIN/../lib'
    build_info "$(sed -n 's/^#define CUDNN_MAJOR \([0-9]*\)/\1/p; s/^#define CUDNN_MINOR \([0-9]*\)/\1/p; s/^#define CUDNN_PATCHLEVEL \([0-9]*\)/\1/p' \
        "$CUDA_PREFIX/include/cudnn_version.h" | paste -sd.) compiled in (RACNN_CUDNN=1 uses it)" > "$dir/install/BUILD-INFO"
    echo "build_caffe_gpu: bundle done in $(( $(date +%s) - t0 )) s; $(du -sh "$dir/install" | cut -f1) in $dir/install"
    exit 0
fi

# ---- full mode: the GPU rootfs and image
# Work inside the environment's own /var/tmp: docker/run's rootfs shares the
# host's /tmp, where two builds could meet.
work=/var/tmp/racnn-caffe-build
mkdir -p "$work"

if [ "$CUDA_FROM" = system ]; then
    step "CUDA toolkit already in $CUDA_PREFIX"
    [ -x "$CUDA_PREFIX/bin/nvcc" ] || { echo "build_caffe_gpu: CUDA_FROM=system, but there is no $CUDA_PREFIX/bin/nvcc" >&2; exit 1; }
    [ -f "$CUDA_PREFIX/include/nccl.h" ] || [ -f /usr/include/nccl.h ] || USE_NCCL=OFF
    # build dependencies only: deps.sh without wheels
    CUDA_PREFIX=/var/tmp/racnn-no-wheels DEPS_NO_WHEELS=1 sh "$here/deps.sh"
else
    WITH_CUDNN=$([ "$USE_CUDNN" = ON ] && echo 1 || echo 0) CUDA_PREFIX=$CUDA_PREFIX sh "$here/deps.sh"
fi

step "Caffe source $CAFFE_DEBIAN_VERSION and patches"
src=$work/src
rm -rf "$src"; mkdir -p "$src"; cd "$src"
apt-get source "caffe=$CAFFE_DEBIAN_VERSION"
patched_source "$(ls -d "$src"/caffe-*/)" "$src/patched"
cd "$src/patched"

step "configure (USE_NCCL=$USE_NCCL, USE_CUDNN=$USE_CUDNN)"
full_configure() {
    rm -rf "$src/patched/build"
    configure "$src/patched" "$src/patched/build" "$1" "$USE_CUDNN" "$CAFFE_PREFIX" "$CAFFE_PREFIX/lib;$CUDA_PREFIX/lib" \
        -DUSE_OPENCV=ON -DUSE_LEVELDB=ON -DBUILD_python=ON -DBUILD_python_layer=ON -Dpython_version=3
}
nccl=OFF
if [ "$USE_NCCL" != OFF ]; then
    # parallel.cpp is Caffe's only user of the NCCL API: compile it alone first,
    # and fall back to a build without NCCL (single GPU) when it does not build.
    full_configure ON
    make -j"$JOBS" caffeproto       # the generated caffe.pb.h parallel.cpp includes
    if make -C src/caffe parallel.cpp.o; then
        nccl=ON
    elif [ "$USE_NCCL" = ON ]; then
        echo "build_caffe_gpu: USE_NCCL=ON, but src/caffe/parallel.cpp does not compile against NCCL" >&2
        exit 1
    else
        echo "build_caffe_gpu: NCCL does not build with this Caffe; building for one GPU (USE_NCCL=OFF)"
    fi
fi
[ "$nccl" = ON ] || full_configure OFF      # configure leaves us in build/

step "compile (make -j$JOBS; archs $CUDA_ARCH_BIN, PTX $CUDA_ARCH_PTX, NCCL $nccl, cuDNN $USE_CUDNN)"
t1=$(date +%s)
make -j"$JOBS"
make install
echo "compile: $(( $(date +%s) - t1 )) s"

step "caffe wrapper and caffe-gpu-check"
mv "$CAFFE_PREFIX/bin/caffe" "$CAFFE_PREFIX/bin/caffe.bin"
install -m 755 "$here/caffe" "$CAFFE_PREFIX/bin/caffe"
build_gpu_check "$CAFFE_PREFIX/bin/caffe-gpu-check" "$CUDA_PREFIX/lib:$CUDA_PREFIX/lib64"
build_info "$([ "$USE_CUDNN" = ON ] && echo "yes (RACNN_CUDNN=1 uses it)" || echo no)" > "$CAFFE_PREFIX/BUILD-INFO"
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
    apt-get purge -y --auto-remove dpkg-dev build-essential cmake python3-pip patchelf >/dev/null || true
    apt-get autoremove -y --purge >/dev/null
fi
apt-get clean
rm -rf /var/lib/apt/lists/* "$work"
echo "build_caffe_gpu: done in $(( $(date +%s) - t0 )) s; $(du -sh "$CAFFE_PREFIX" | cut -f1) in $CAFFE_PREFIX, $(du -sh "$CUDA_PREFIX" | cut -f1) in $CUDA_PREFIX"
