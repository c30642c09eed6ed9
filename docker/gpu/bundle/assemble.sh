#!/usr/bin/env bash
# docker/gpu/bundle/assemble.sh INSTALL SHARE BUNDLE_DIR -- the GPU bundle's
# folder and archive (BUNDLE_DIR and BUNDLE_DIR.tar.xz, one top folder
# racnn-gpu-bundle/ inside), from the bundle build's Caffe (INSTALL, made by
# build_caffe_gpu.sh bundle) and its nets and databases (SHARE, made by
# make_nets.py). Run inside the gpu-build environment (RACNN_ENV=gpu-build
# docker/run), where the libraries Caffe links are the ones it was built
# against; make gpu-bundle (docker/gpu/bundle/make-bundle.sh) calls it.
#
# The bundle carries caffe, libcaffe and racnn-numerics with their whole
# library closure except what every machine that can run CUDA 13 has or must
# bring itself: glibc and the compiler's runtime (libstdc++, libgcc_s), the
# NVIDIA driver (libcuda) and the CUDA libraries (cudart, cuBLAS, cuRAND,
# NCCL, cuDNN: NVIDIA's wheels on the GPU machine, found by bin/racnn-env.sh).
# Every bundled ELF gets RUNPATH $ORIGIN[/../lib], so the bundle's libraries
# find each other wherever it is unpacked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# = 3 ] || { echo "usage: assemble.sh INSTALL SHARE BUNDLE_DIR" >&2; exit 2; }
install=$(cd "$1" && pwd) share=$(cd "$2" && pwd) dest=$3
limit_mib=${BUNDLE_LIMIT_MIB:-40}
cuda=${CUDA_PREFIX:-/opt/cuda13}
die() { echo "assemble.sh: error: $*" >&2; exit 1; }
for f in bin/caffe.bin bin/caffe-gpu-check bin/racnn_numerics BUILD-INFO; do
    [ -e "$install/$f" ] || die "$install/$f is missing (build_caffe_gpu.sh bundle)"
done
command -v patchelf >/dev/null || die "patchelf is missing (the gpu-build environment has it)"

# Libraries left to the machine: glibc, the compiler runtime, driver, CUDA.
left_to_machine() {
    case $1 in
        linux-vdso*|ld-linux*|libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|libresolv.so.*|\
        libutil.so.*|libstdc++.so.*|libgcc_s.so.*|\
        libcuda.so.*|libcudart.so.*|libcublas.so.*|libcublasLt.so.*|libcurand.so.*|libnccl.so.*|\
        libcudnn*.so.*|libnvrtc*.so.*|libnvJitLink.so.*) return 0 ;;
    esac
    return 1
}

tmp=$dest.partial.$$
trap 'rm -rf "$tmp" "$dest.tar.xz.partial"' EXIT
rm -rf "$tmp"
top=$tmp/racnn-gpu-bundle
mkdir -p "$top/bin" "$top/libexec" "$top/lib"
echo "assemble: programs and libcaffe"
cp "$install/bin/caffe.bin" "$install/bin/caffe-gpu-check" "$top/libexec/"
cp "$install/bin/racnn_numerics" "$top/libexec/racnn-numerics"
install -m 755 "$here/../caffe" "$top/libexec/caffe"          # -gpu check, then caffe.bin
cp -P "$install"/lib/libcaffe.so* "$top/lib/"

echo "assemble: library closure"
export LD_LIBRARY_PATH=$install/lib:$cuda/lib
closure=$(for f in "$top"/libexec/caffe.bin "$top"/libexec/caffe-gpu-check "$top"/libexec/racnn-numerics \
                   "$install"/lib/libcaffe.so.*; do
              [ -L "$f" ] && continue
              ldd "$f" | awk '/=>/ {print $1, $3}'
          done | sort -u)
if echo "$closure" | grep -q ' not$\| not found'; then
    die "unresolved libraries: $(echo "$closure" | grep 'not' | tr '\n' ' ')"
fi
left=
while read -r name path; do
    [ -n "$name" ] || continue
    case $name in libcaffe.so*) continue ;; esac
    if left_to_machine "$name"; then left="$left $name"; continue; fi
    cp -L "$path" "$top/lib/$name"
done <<< "$closure"
chmod u+w "$top"/lib/* "$top"/libexec/*
for f in "$top"/lib/*; do
    [ -L "$f" ] || patchelf --set-rpath '$ORIGIN' "$f"
done
for f in "$top"/libexec/caffe.bin "$top"/libexec/caffe-gpu-check "$top"/libexec/racnn-numerics; do
    patchelf --set-rpath '$ORIGIN/../lib' "$f"
done
strip --strip-unneeded "$top"/libexec/caffe.bin "$top"/libexec/racnn-numerics "$top"/libexec/caffe-gpu-check 2>/dev/null || true

echo "assemble: launchers, run-check, nets and databases"
install -m 755 "$here/racnn-launch" "$top/bin/racnn-launch"
install -m 644 "$here/racnn-env.sh" "$top/bin/racnn-env.sh"
for p in caffe caffe-gpu-check racnn-numerics; do ln -s racnn-launch "$top/bin/$p"; done
install -m 755 "$here/run-check" "$top/run-check"
cp -a "$share" "$top/share"
{
    cat "$install/BUILD-INFO"
    echo "bundle: $(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown), made $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "left to the machine: glibc, libstdc++, libgcc_s, the NVIDIA driver, and the CUDA libraries $(echo $left | tr ' ' '\n' | grep -E 'cud|nccl|nvrtc|cublas|curand' | sort -u | paste -sd' ')"
} > "$top/BUILD-INFO"
cat > "$top/README.txt" <<'TXT'
RACNN-Caffe GPU bundle: the CUDA 13 build of Caffe 1.0 that RACNN-Caffe trains
with, and the one check that verifies it on a GPU machine.

  tar -xJf racnn-gpu-bundle.tar.xz && cd racnn-gpu-bundle
  ./run-check --out ~/racnn-check          # about 5 minutes on one H200
  cat ~/racnn-check/verdict.txt             # bring back results.tar.gz* and verdict.*

Needs: an NVIDIA driver of the 580 series or newer, a GPU of compute capability
7.5 or newer, and NVIDIA's CUDA 13 wheels in some Python's site-packages
(nvidia-cuda-runtime, nvidia-cublas, nvidia-curand, nvidia-nccl-cu13,
nvidia-cudnn-cu13: what PyTorch for CUDA 13 installs), or their folders named
with CUDA_LIBS=DIR[:DIR]. No root, no network, no Docker, no Python packages.
On a machine without a GPU, ./run-check --cpu --out DIR runs the CPU path.

bin/caffe is Caffe's own command line (caffe train -solver ... -gpu 0).
RACNN_CUDNN=1 lets DEFAULT-engine layers use cuDNN 9, RACNN_TF32=1 lets cuBLAS
and cuDNN use TF32 tensor cores; both are off by default (exact FP32, as the
paper's Caffe). docs/GPU.md in RACNN-Caffe says more.
TXT
(cd "$top" && find . -type f ! -name MANIFEST.sha256 | LC_ALL=C sort | xargs sha256sum > MANIFEST.sha256)

echo "assemble: $dest.tar.xz"
tar -C "$tmp" -cf - racnn-gpu-bundle | xz -T"${JOBS:-2}" -9 > "$dest.tar.xz.partial"
size=$(stat -c %s "$dest.tar.xz.partial")
[ "$size" -le $((limit_mib * 1024 * 1024)) ] || \
    die "the archive is $((size / 1024 / 1024)) MiB, over the ${limit_mib} MiB limit"
rm -rf "$dest"
mv "$top" "$dest"
mv "$dest.tar.xz.partial" "$dest.tar.xz"
echo "assemble: done: $dest ($(du -sm "$dest" | cut -f1) MiB, lib/ $(du -sm "$dest/lib" | cut -f1) MiB), $dest.tar.xz ($(awk -v s="$size" 'BEGIN {printf "%.1f", s / 1048576}') MiB)"
