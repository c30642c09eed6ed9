#!/usr/bin/env bash
# docker/gpu/check-build.sh -- what can be checked of the CUDA build of Caffe
# (docker/gpu/build_caffe_gpu.sh) on a machine without a GPU; prints one
# PASS/FAIL line per check and a summary. `make check-gpu-build` runs it inside
# the GPU environment (RACNN_ENV=gpu docker/run: the GPU rootfs, or the
# racnn-caffe-gpu image). GPU execution itself is docker/gpu/check-gpu.sh's
# job there (make gpu-check), and the bundle's run-check on a bare GPU machine.
set -uo pipefail
cd "$(dirname "$0")/../.."

prefix=${RACNN_CAFFE_GPU_BUILD:-}
if [ -z "$prefix" ] || [ ! -x "$prefix/bin/caffe.bin" ]; then
    echo "docker/gpu/check-build.sh: not inside the GPU environment (RACNN_CAFFE_GPU_BUILD unset);" >&2
    echo "  run: make check-gpu-build   (or RACNN_ENV=gpu docker/run bash docker/gpu/check-build.sh)" >&2
    exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=() failed=()
check() {   # check NAME CMD...: PASS when CMD succeeds; its output is shown on failure
    local name=$1; shift
    if "$@" > "$tmp/out" 2>&1; then
        passed+=("$name"); echo "PASS  $name"
    else
        failed+=("$name"); echo "FAIL  $name"
        grep -E '^(FAILED|ERROR)|Check failed|Fatal Python error|::.* (FAILED|ERROR)' "$tmp/out" |
            head -n 8 | sed 's/^/  | /'
        tail -n 3 "$tmp/out" | sed 's/^/  | /'
    fi
}

echo "== the CUDA build in $prefix"
sed 's/^/  /' "$prefix/BUILD-INFO"
du -sh "$prefix" /opt/cuda13 2>/dev/null | sed 's/^/  size /'

links() {   # every library resolves; the CUDA ones are CUDA 13's
    local f out
    for f in "$prefix/bin/caffe.bin" "$prefix"/lib/libcaffe.so.* \
             "$prefix"/lib/python3/dist-packages/caffe/_caffe.so; do
        out=$(ldd "$f") || return 1
        echo "$f:"; echo "$out" | grep -E 'cuda|cublas|curand|nccl|caffe|blas' | sed 's/^/  /'
        if echo "$out" | grep -q 'not found'; then echo "$out" | grep 'not found'; return 1; fi
    done
    out=$(ldd "$prefix"/lib/libcaffe.so.*)
    for so in libcudart.so.13 libcublas.so.13 libcurand.so.10; do
        echo "$out" | grep -q "$so => /" || { echo "libcaffe does not link $so"; return 1; }
    done
}
check "caffe, libcaffe and _caffe.so link cudart 13, cuBLAS 13, cuRAND 10; nothing unresolved" links

fatbin() {  # GPU code is in the library
    local hex
    hex=$(readelf -S -W "$prefix"/lib/libcaffe.so.* |
          awk '{for (i = 1; i <= NF; i++) if ($i == ".nv_fatbin") print $(i + 4)}')
    [ -n "$hex" ] || { echo "libcaffe has no .nv_fatbin section"; return 1; }
    echo "libcaffe .nv_fatbin: $((16#$hex)) bytes"
    [ $((16#$hex)) -gt 1000000 ]
}
check "libcaffe carries GPU code (.nv_fatbin)" fatbin

no_gpu_stops() {   # caffe device_query -gpu 0: one line, at once (where no GPU is usable)
    local s rc
    if caffe-gpu-check 0 >/dev/null 2>&1; then echo "a GPU is usable here"; return 0; fi
    s=$(date +%s%N)
    timeout 60 caffe device_query -gpu 0; rc=$?
    echo "exit $rc after $(( ($(date +%s%N) - s) / 1000000 )) ms"
    [ $rc = 1 ] && ! grep -q 'Check failed' "$tmp/out"
}
check "caffe device_query -gpu 0 without a GPU stops at once with one clear line" no_gpu_stops
cat "$tmp/out" | sed 's/^/  /'

check "pycaffe from the CUDA build imports; CPU mode runs a net" python3 - <<'PY'
import os, tempfile
import numpy as np
import caffe
assert caffe.__file__.startswith(os.environ["RACNN_CAFFE_GPU_BUILD"] + "/"), caffe.__file__
caffe.set_mode_cpu()
proto = tempfile.NamedTemporaryFile("w", suffix=".prototxt", delete=False)
proto.write('input: "data" input_shape { dim: 2 dim: 3 dim: 8 dim: 8 }\n'
            'layer { name: "c" type: "Convolution" bottom: "data" top: "c" '
            'convolution_param { num_output: 4 kernel_size: 3 weight_filler { type: "xavier" } } }\n')
proto.close()
net = caffe.Net(proto.name, caffe.TEST)
net.blobs["data"].data[...] = np.random.RandomState(0).rand(2, 3, 8, 8)
out = net.forward()["c"]
assert out.shape == (2, 4, 6, 6) and np.isfinite(out).all()
print("pycaffe", caffe.__file__, "forward ok", out.shape)
PY

# The repository's net, weights, evaluation and SMOKE-experiment tests, and
# the GPU-flag tests, with the CUDA build's pycaffe in CPU mode.
tests=()
for t in tests/docker/test_environment.py tests/docker/test_dockerfiles.py \
         tests/docker/test_gpu_flags.py tests/nets/test_build.py tests/nets/test_googlenet.py \
         tests/nets/test_sr_front.py tests/nets/test_presets.py tests/nets/test_layout.py \
         tests/nets/test_generate.py tests/nets/test_dummy.py tests/test_protoio.py \
         tests/test_weights.py tests/eval/test_evaluate.py tests/eval/test_metrics.py \
         tests/eval/test_cli.py tests/eval/test_transform.py tests/rundir/test_settings.py \
         tests/rundir/test_reader.py tests/inputs/test_checks.py tests/inputs/test_gpu.py \
         tests/inputs/test_databases.py tests/train/test_stage_copies.py \
         tests/train/test_schedule.py tests/train/test_driver.py tests/train/test_provenance.py \
         tests/datasets/test_synthetic.py tests/workflows/test_smoke_demo.py \
         tests/workflows/test_seeded_reruns.py; do
    [ -f "$t" ] && tests+=("$t")
done
# One pytest per file: a Caffe abort (a glog CHECK) ends only its own file.
for t in "${tests[@]}"; do
    check "pytest (CPU mode) $t" python3 -m pytest -q -p no:cacheprovider "$t"
    grep -E 'passed|failed|error' "$tmp/out" | tail -n 1 | sed 's/^/  /'
done

echo
echo "check-gpu-build: ${#passed[@]} passed, ${#failed[@]} failed${failed[*]:+: ${failed[*]}}"
echo "  (no GPU here: GPU execution is unverified until docker/gpu/check-gpu.sh or the bundle's run-check runs on one)"
[ ${#failed[@]} = 0 ]
