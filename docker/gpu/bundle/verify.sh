#!/usr/bin/env bash
# docker/gpu/bundle/verify.sh DIR [CPU_DIR] -- make gpu-bundle-verify: the
# SMOKE stages that the bundle's run-check trained on a GPU (DIR: its --out
# folder, or a folder with the results.tar.gz[.NN] it wrote) against the same
# seeded stages trained on the CPU by the same bundle (CPU_DIR; made here when
# not given: run-check --cpu --parts smoke, in the gpu-build environment,
# whose /opt/cuda13/lib holds the CUDA libraries it loads), both evaluated
# with tools/eval_per_class.py in the CPU environment (verify.py).
# Output: build/gpu-bundle-verify/<name of DIR>/verify.md and verify.json.
set -euo pipefail
cd "$(dirname "$0")/../../.."
[ -n "${1:-}" ] || { echo "usage: make gpu-bundle-verify DIR=run-check-folder [CPU_DIR=...]" >&2; exit 2; }
gpu_run=$(cd "$1" && pwd) || exit 2
bundle=build/racnn-gpu-bundle
[ -x "$bundle/run-check" ] || { echo "verify.sh: $bundle is missing: make gpu-bundle" >&2; exit 2; }
out=build/gpu-bundle-verify/$(basename "$gpu_run")
mkdir -p "$out"
export RACNN_BACKEND=${RACNN_BACKEND:-rootfs}
if [ -n "${2:-}" ]; then
    cpu_run=$(cd "$2" && pwd)
else
    cpu_run=$PWD/build/gpu-bundle-verify/cpu-run
    if [ ! -f "$cpu_run/verdict.json" ]; then
        rm -rf "$cpu_run"
        echo "verify.sh: the CPU reference: $bundle/run-check --cpu --parts smoke --out $cpu_run"
        rc=0
        RACNN_ENV=gpu-build docker/run env CUDA_LIBS=/opt/cuda13/lib \
            "$bundle/run-check" --cpu --parts smoke --out "$cpu_run" > "$out/cpu-run.log" 2>&1 || rc=$?
        [ $rc = 2 ] || { tail -n 20 "$out/cpu-run.log" >&2
            echo "verify.sh: the CPU reference run failed (exit $rc, log $out/cpu-run.log)" >&2; exit 1; }
    fi
fi
RACNN_ENV=cpu docker/run python3 docker/gpu/bundle/verify.py --gpu-run "$gpu_run" --cpu-run "$cpu_run" \
    --bundle "$bundle" --out "$out"
