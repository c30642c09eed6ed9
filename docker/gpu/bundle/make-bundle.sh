#!/usr/bin/env bash
# docker/gpu/bundle/make-bundle.sh -- make gpu-bundle: the self-contained GPU
# bundle build/racnn-gpu-bundle/ and its archive build/racnn-gpu-bundle.tar.xz
# (docs/GPU.md, "The GPU bundle"). From the repository root, as root (the
# environments are rootfs ones, entered by docker/run):
#
#   1. the bundle's Caffe (docker/gpu/build_caffe_gpu.sh bundle, in the gpu-build
#      environment; build tree kept in build/gpu-bundle/caffe: the first build
#      compiles for 5 GPU architectures, ~30-80 min on 2 cores; after a patch
#      change only what it touches), and the patched files compiled once more
#      without cuDNN (build_caffe_gpu.sh nocudnn: what the GPU rootfs builds);
#   2. the demo's SMOKE run (tools/demo.py --smoke, CPU environment) into
#      build/gpu-bundle/smoke, once: its stages' nets and databases;
#   3. the bundle's nets and databases (make_nets.py, CPU environment);
#   4. the folder and the archive (assemble.sh, gpu-build environment).
#
# Environment: JOBS (compile jobs, default 2), RACNN_DEBIAN_MIRROR, RACNN_CACHE.
set -euo pipefail
cd "$(dirname "$0")/../../.."
work=build/gpu-bundle
mkdir -p "$work" build/logs
t0=$(date +%s)
step() { printf '\n==== make gpu-bundle: %s (%s s)\n' "$*" "$(( $(date +%s) - t0 ))"; }
export RACNN_BACKEND=${RACNN_BACKEND:-rootfs}
unset RACNN_VARIANT

step "1. Caffe for the bundle (log build/logs/gpu-bundle-caffe.log)"
if ! RACNN_ENV=gpu-build JOBS=${JOBS:-2} nice -n "${NICE:-10}" docker/run \
        sh docker/gpu/build_caffe_gpu.sh bundle "$work/caffe" > build/logs/gpu-bundle-caffe.log 2>&1; then
    grep -E 'error|Error' build/logs/gpu-bundle-caffe.log | grep -v math_functions | tail -n 10 >&2 || true
    tail -n 15 build/logs/gpu-bundle-caffe.log >&2
    echo "make gpu-bundle: the Caffe build failed (log build/logs/gpu-bundle-caffe.log)" >&2
    exit 1
fi
tail -n 1 build/logs/gpu-bundle-caffe.log
# The GPU rootfs and image build without cuDNN from the same patches: the
# patched files must compile there too (a whole second build would cost an hour).
if ! RACNN_ENV=gpu-build nice -n "${NICE:-10}" docker/run \
        sh docker/gpu/build_caffe_gpu.sh nocudnn "$work/caffe" > build/logs/gpu-bundle-nocudnn.log 2>&1; then
    tail -n 15 build/logs/gpu-bundle-nocudnn.log >&2
    echo "make gpu-bundle: a patched file does not compile without cuDNN (log build/logs/gpu-bundle-nocudnn.log)" >&2
    exit 1
fi
tail -n 1 build/logs/gpu-bundle-nocudnn.log

step "2. the demo's SMOKE run ($work/smoke)"
smoke_done() {   # every stage of config.json has its DONE
    [ -f "$work/smoke/run/config.json" ] || return 1
    local s
    for s in "$work"/smoke/run/*/; do
        case $(basename "$s") in report|superseded) continue ;; esac
        [ -f "$s/DONE" ] || return 1
    done
}
if ! smoke_done; then
    rm -rf "$work/smoke"
    # The report at the end of the demo does not matter here; the stages do.
    RACNN_ENV=cpu docker/run python3 tools/demo.py --smoke --data-dir "$work/smoke/data" \
        --run-dir "$work/smoke/run" > build/logs/gpu-bundle-smoke.log 2>&1 || true
    smoke_done || { tail -n 15 build/logs/gpu-bundle-smoke.log >&2
        echo "make gpu-bundle: the SMOKE demo did not finish its stages (log build/logs/gpu-bundle-smoke.log)" >&2; exit 1; }
fi
echo "stages: $(cd "$work/smoke/run" && ls */DONE | cut -d/ -f1 | tr '\n' ' ')"

step "3. nets and databases ($work/share)"
RACNN_ENV=cpu docker/run python3 docker/gpu/bundle/make_nets.py --smoke-run "$work/smoke/run" \
    --out "$work/share"

step "4. folder and archive"
RACNN_ENV=gpu-build docker/run bash docker/gpu/bundle/assemble.sh "$work/caffe/install" "$work/share" \
    build/racnn-gpu-bundle
step "done"
