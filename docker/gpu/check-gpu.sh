#!/usr/bin/env bash
# docker/gpu/check-gpu.sh -- the acceptance check of the GPU environment (the
# GPU rootfs or the racnn-caffe-gpu image, with pycaffe): GPU execution of the
# package's own tools (README "GPU"; make gpu-check). A bare GPU machine
# without those runs the GPU bundle's run-check instead (docs/GPU.md). Under
# 10 minutes on one modern GPU; nothing from the network once the GPU
# environment exists.
#
#   docker/gpu/check-gpu.sh [--gpu ID] [--out DIR] [--iterations N]
#
#  1. the GPU build and the GPU: caffe-gpu-check ID (one clear line when the
#     GPU, the driver or its version is missing);
#  2. Table I: `caffe time` (forward + backward, GPU) of AlexNet and
#     RACNN-AlexNet at batch 8, 227x227, as seconds per Cars epoch (8,144
#     training images) beside the paper's 11 s and 111 s on a GTX 980, and the
#     RACNN/CNN ratio (tools/time_nets.py);
#  3. the demo's SMOKE experiment with --gpu ID (every stage trains on the GPU);
#  4. an exact evaluation of its p-RACNN snapshot on the GPU
#     (tools/eval_per_class.py);
#  5. a one-screen verdict (also OUT/verdict.txt). Exit 0 only when all passed.
#
# Without a usable GPU the GPU-free parts still run on the CPU (timing with
# 1 iteration, the demo, the evaluation) so the path is exercised, and the
# verdict says GPU execution is NOT verified (exit 2).
#
# Where: from the repository root. Outside the Caffe environment it enters the
# GPU one (RACNN_ENV=gpu docker/run: the racnn-caffe-gpu image with
# --gpus all, or the GPU rootfs). RACNN_GPU_CHECK_HERE=1 runs it as is, with
# whatever caffe / pycaffe PATH and PYTHONPATH name (a machine without Docker:
# README "GPU").
set -uo pipefail
cd "$(dirname "$0")/../.."

gpu=0 out=runs/gpu_check iterations=50
while [ $# -gt 0 ]; do
    case $1 in
        --gpu) gpu=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --iterations) iterations=$2; shift 2 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "docker/gpu/check-gpu.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if [ ! -f /etc/racnn-caffe-env ] && [ "${RACNN_GPU_CHECK_HERE:-0}" != 1 ]; then
    exec env RACNN_ENV=gpu docker/run bash docker/gpu/check-gpu.sh --gpu "$gpu" --out "$out" \
        --iterations "$iterations"
fi

export GLOG_minloglevel=${GLOG_minloglevel:-2}
mkdir -p "$out"
log=$out/gpu_check.log
: > "$log"
t0=$(date +%s)
results=()
note() { results+=("$1"); printf '%s\n' "$1" | tee -a "$log"; }
section() { printf '\n== %s\n' "$*" | tee -a "$log"; }
run() {   # run CMD..., output to the log (tail shown on failure)
    local s=$(date +%s) rc
    "$@" >> "$log" 2>&1; rc=$?
    [ $rc = 0 ] || { echo "  failed (exit $rc): $*"; tail -n 15 "$log" | sed 's/^/  | /'; }
    LAST_S=$(( $(date +%s) - s ))
    return $rc
}

section "1. build and GPU"
caffe_bin=$(command -v caffe || true)
echo "caffe: ${caffe_bin:-none on PATH}" | tee -a "$log"
[ -n "${RACNN_CAFFE_GPU_BUILD:-}" ] && [ -f "$RACNN_CAFFE_GPU_BUILD/BUILD-INFO" ] \
    && sed 's/^/  /' "$RACNN_CAFFE_GPU_BUILD/BUILD-INFO" | tee -a "$log"
command -v nvidia-smi >/dev/null 2>&1 \
    && nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader 2>&1 | tee -a "$log"
have_gpu=0 why=""
if ! command -v caffe-gpu-check >/dev/null 2>&1; then
    why="this environment's Caffe is not the CUDA build (no caffe-gpu-check on PATH; RACNN_ENV=gpu)"
elif why=$(caffe-gpu-check "$gpu" 2>&1); then
    have_gpu=1
    caffe-gpu-check --list | tee -a "$log"
fi
if [ $have_gpu = 1 ]; then
    note "PASS  GPU $gpu usable"
    dev=(--gpu "$gpu")
else
    note "SKIP  no usable GPU: $(echo "$why" | head -n 1)"
    echo "      the GPU-free parts run on the CPU (path check only)" | tee -a "$log"
    dev=()
    iterations=1
fi

section "2. Table I: caffe time, AlexNet and RACNN-AlexNet, batch 8, 227x227"
if run python3 tools/time_nets.py --backbones alexnet --batch-size 8 --iterations "$iterations" \
        "${dev[@]}" --out "$out/timing"; then
    row=$(awk -F, '$1 == "cars" && $2 == "alexnet"' "$out/timing/timing.csv")
    IFS=, read -r _ _ cnn racnn ratio pcnn pracnn pratio <<< "$row"
    sed -n '/^|/p' "$out/timing/timing.md" | head -n 4 | tee -a "$log"
    what=$([ $have_gpu = 1 ] && echo "GPU $gpu" || echo "CPU, 1 iteration")
    note "$([ $have_gpu = 1 ] && echo PASS || echo 'CPU ') s/Cars epoch ($what): AlexNet $cnn (paper $pcnn), RACNN-AlexNet $racnn (paper $pracnn); RACNN/CNN $ratio (paper $pratio) [${LAST_S} s]"
else
    note "FAIL  caffe time (see $log)"
fi

section "3. demo SMOKE experiment ${dev[*]:-(CPU)}"
demo_run=$out/demo
if run python3 tools/demo.py --smoke "${dev[@]}" --data-dir "$out/data" --run-dir "$demo_run"; then
    note "$([ $have_gpu = 1 ] && echo PASS || echo 'CPU ') demo SMOKE: every stage trained [${LAST_S} s]"
else
    note "FAIL  demo SMOKE (see $log)"
fi

section "4. evaluation of the demo's p-RACNN snapshot ${dev[*]:-(CPU)}"
if [ -d "$demo_run/racnn_p" ] && run python3 tools/eval_per_class.py "$demo_run/racnn_p" \
        "${dev[@]}" --out "$out/eval"; then
    acc=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(', '.join('%s %.3f' % (k, v) for k, v in sorted(m.items()) if 'acc' in k and isinstance(v, float)))" "$out/eval/metrics.json" 2>/dev/null)
    note "$([ $have_gpu = 1 ] && echo PASS || echo 'CPU ') evaluation: ${acc:-metrics in $out/eval} [${LAST_S} s]"
else
    note "FAIL  evaluation (see $log)"
fi

section "verdict ($(( $(date +%s) - t0 )) s; log $log)"
failed=$(printf '%s\n' "${results[@]}" | grep -c '^FAIL' || true)
{
    printf '%s\n' "${results[@]}"
    if [ "$failed" != 0 ]; then
        echo "VERDICT: FAILED ($failed part(s)); GPU execution is not verified"
    elif [ $have_gpu = 1 ]; then
        echo "VERDICT: GPU execution VERIFIED on $(caffe-gpu-check --list | sed -n "$((gpu + 1))p")"
    else
        echo "VERDICT: GPU execution NOT verified (no usable GPU); the CPU path of this check passed"
    fi
} | tee "$out/verdict.txt"
[ "$failed" = 0 ] || exit 1
[ $have_gpu = 1 ] || exit 2
exit 0
