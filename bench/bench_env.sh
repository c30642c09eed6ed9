#!/usr/bin/env bash
# Benchmark of the environment (issue: real Caffe environment).  Prints, in
# one run: cold and warm set-up time of `docker/run true`, and `caffe time`
# forward-backward of AlexNet and RACNN-AlexNet with OpenBLAS and with the
# reference BLAS, with the ratios.  Run from the host: bash bench/bench_env.sh
# BENCH_COLD=0 skips the cold set-up (it builds a whole rootfs, ~1.5 min).
set -euo pipefail
cd "$(dirname "$0")/.."

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

if [ -f /etc/racnn-caffe-env ]; then
    echo "set-up times: skipped (already inside the environment)"
else
    if [ "${BENCH_COLD:-1}" = 1 ]; then
        cold_cache=$(mktemp -d)
        t0=$(now); RACNN_CACHE=$cold_cache docker/run true; t1=$(now)
        rm -rf "$cold_cache"
        echo "docker/run true, cold (debootstrap + provision.sh into an empty cache): $(secs "$t0" "$t1") s"
    fi
    docker/run true    # make sure the normal cache exists
    best=""
    for _ in 1 2 3 4 5; do
        t0=$(now); docker/run true; t1=$(now)
        s=$(secs "$t0" "$t1")
        best=$(awk -v a="$s" -v b="${best:-1e9}" 'BEGIN { print (a < b) ? a : b }')
    done
    echo "docker/run true, warm (best of 5): ${best} s"
fi
echo
docker/run python3 bench/blas_time.py "$@"      # inside the environment: run directly
