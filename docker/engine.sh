#!/usr/bin/env bash
# docker/engine.sh -- a Docker engine and the CPU image racnn-caffe, for CI
# (.ci/run calls it before `make test`; tests/docker/test_image.py then runs
# the image) and for anyone who wants `docker run racnn-caffe ...` here.
#
#  1. an engine that answers `docker info` is reused; otherwise, as root:
#     docker.io is installed with apt-get when dockerd is missing, and dockerd
#     is started in the background (log /var/log/racnn-dockerd.log);
#  2. the base image debian:bullseye-slim: pulled when a registry answers,
#     otherwise made here (debootstrap --variant=minbase bullseye, apt lists
#     removed, `docker import`), as docker/Dockerfile's FROM names it;
#  3. `docker build -t racnn-caffe -f docker/Dockerfile .` (the layer cache makes
#     a rerun take seconds).
#
# Exit status: 0 the image is built and the engine answers; 3 no engine can
# run here (one line says why; CI carries on, the image test skips); anything
# else is a failure (its log is named).
#
# Environment: RACNN_IMAGE (default racnn-caffe), RACNN_DEBIAN_MIRROR
# (debootstrap mirror), RACNN_DOCKERD_LOG, RACNN_ENGINE_WAIT (seconds, 60).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
image=${RACNN_IMAGE:-racnn-caffe}
base=debian:bullseye-slim
dlog=${RACNN_DOCKERD_LOG:-/var/log/racnn-dockerd.log}
wait_s=${RACNN_ENGINE_WAIT:-60}

say() { printf 'docker/engine.sh: %s\n' "$*" >&2; }
no_engine() { say "no Docker engine can run here: $* (the image checks are skipped)"; exit 3; }
die() { say "$*"; exit 1; }

answers() { command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; }

# ---- 1. the engine ---------------------------------------------------------
if ! answers; then
    [ "$(id -u)" = 0 ] || no_engine "none answers, and starting dockerd needs root"
    if ! command -v dockerd >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || no_engine "no dockerd, and no apt-get to install docker.io"
        say "installing docker.io with apt-get"
        { apt-get install -y -qq docker.io || { apt-get update -qq && apt-get install -y -qq docker.io; }; } \
            > /tmp/racnn-apt-docker.log 2>&1 \
            || no_engine "apt-get install docker.io failed (log /tmp/racnn-apt-docker.log)"
    fi
    say "starting dockerd (log $dlog)"
    mkdir -p "$(dirname "$dlog")"
    nohup dockerd > "$dlog" 2>&1 < /dev/null &
    pid=$!
    for _ in $(seq 1 "$wait_s"); do
        answers && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    if ! answers; then
        tail -n 5 "$dlog" | sed 's/^/  dockerd: /' >&2
        kill "$pid" 2>/dev/null || true
        no_engine "dockerd did not answer within ${wait_s} s (log $dlog)"
    fi
fi
say "engine: Docker $(docker version -f '{{.Server.Version}}' 2>/dev/null), storage $(docker info -f '{{.Driver}}' 2>/dev/null)"

# ---- 2. the base image -----------------------------------------------------
if ! docker image inspect "$base" >/dev/null 2>&1; then
    if timeout 60 docker pull -q "$base" >/dev/null 2>&1; then
        say "pulled $base"
    else
        say "no registry answers: making $base with debootstrap (~2 min)"
        if ! command -v debootstrap >/dev/null 2>&1; then
            command -v apt-get >/dev/null 2>&1 || die "debootstrap is missing and there is no apt-get to install it"
            apt-get install -y -qq debootstrap > /tmp/racnn-apt-debootstrap.log 2>&1 \
                || die "apt-get install debootstrap failed (log /tmp/racnn-apt-debootstrap.log)"
        fi
        dir=$(mktemp -d /tmp/racnn-base.XXXXXX)
        trap 'rm -rf "$dir"' EXIT
        mirror=()
        [ -n "${RACNN_DEBIAN_MIRROR:-}" ] && mirror=("$RACNN_DEBIAN_MIRROR")
        debootstrap --variant=minbase bullseye "$dir/root" "${mirror[@]}" > "$dir.log" 2>&1 || {
            tail -n 10 "$dir.log" >&2
            die "debootstrap failed (log $dir.log); set RACNN_DEBIAN_MIRROR to a reachable bullseye mirror"
        }
        rm -rf "$dir"/root/var/lib/apt/lists/*
        tar -C "$dir/root" -c . | docker import - "$base" >/dev/null
        rm -rf "$dir" "$dir.log"
        trap - EXIT
        say "made $base locally ($(docker image inspect -f '{{.Size}}' "$base" | awk '{printf "%.0f MB", $1/1e6}'))"
    fi
fi

# ---- 3. the image ----------------------------------------------------------
start=$(date +%s)
blog=/tmp/racnn-docker-build.log
say "building $image from docker/Dockerfile (log $blog)"
docker build -t "$image" -f "$repo/docker/Dockerfile" "$repo" > "$blog" 2>&1 || {
    tail -n 20 "$blog" >&2
    die "docker build failed (log above, full log $blog)"
}
say "$image ready in $(( $(date +%s) - start )) s ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
