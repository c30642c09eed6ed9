#!/usr/bin/env python3
"""Benchmark: tools/build_lmdb.py (decode, three MATLAB-faithful bicubic
resizes 500x375 -> 227 -> 50 -> 227, Datum, LMDB write; one worker per core)
against Caffe's own convert_imageset doing only a decode + resize to 227 on
the same images, in one run.  Prints images/s of both (median of --repeat
alternating timed runs), their ratio (target: >= 1.6x), and the peak memory
of each (the sum of the proportional set size of the process and its
workers, sampled from /proc in a separate watched run: the sampling slows
the run it watches; target: < 1 GiB).

The images are photo-like JPEGs (smooth colour fields, objects with edges,
texture, sensor noise; quality 90), generated once with a fixed seed into
bench/out/build_lmdb/ and reused.

  make bench-data                      # inside the environment: docker/run ...
  python3 bench/bench_build_lmdb.py --images 3000 --width 500 --height 375
"""
import os, sys; sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # noqa: E401,E702

import argparse
import collections
import json
import resource
import shutil
import subprocess
import threading
import time

import numpy as np

from racnn.paths import REPO

OUT = os.path.join(REPO, "bench", "out", "build_lmdb")


# ----------------------------------------------------------------- images ---

def photo(rng, h, w):
    """A photo-like BGR image: smooth background, a few objects with soft
    edges, mid-frequency texture and pixel noise."""
    import cv2
    img = cv2.resize(rng.uniform(20, 235, (4, 5, 3)).astype(np.float32), (w, h),
                     interpolation=cv2.INTER_CUBIC)
    for _ in range(rng.randint(3, 7)):
        mask = np.zeros((h, w), np.float32)
        center = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (int(rng.uniform(w / 12, w / 3)), int(rng.uniform(h / 12, h / 3)))
        cv2.ellipse(mask, center, axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.7, 3.0))[:, :, None]
        img = img * (1 - mask) + mask * rng.uniform(0, 255, 3).astype(np.float32)
    texture = cv2.resize(rng.normal(0, 1, (h // 6, w // 6)).astype(np.float32), (w, h),
                         interpolation=cv2.INTER_LINEAR)
    img += texture[:, :, None] * rng.uniform(6, 18) + rng.normal(0, 3, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def make_images(n, w, h, classes=10, seed=0, vary=False):
    """The folder-per-class image set and Caffe's list file (cached).  With
    ``vary`` every image has its own size, drawn from 0.6..1.2 times
    ``w`` x ``h`` (as the crops of a real dataset: the resize weights are
    then computed anew for nearly every image)."""
    import cv2
    root = os.path.join(OUT, "images_%d_%dx%d%s_s%d" % (n, w, h, "_vary" if vary else "", seed))
    listfile = root + ".txt"
    if os.path.isfile(listfile):
        return root, listfile
    from racnn.atomic import atomic_dir, write_text
    from racnn.progress import progress
    rng = np.random.RandomState(seed)
    lines = []
    with atomic_dir(root, overwrite=True) as tmp:
        for i in progress(range(n), total=n, desc="generating images", unit="img"):
            label = i % classes
            rel = "c%02d/%05d.jpg" % (label, i)
            os.makedirs(os.path.join(tmp, "c%02d" % label), exist_ok=True)
            hw = (int(rng.uniform(0.6, 1.2) * h), int(rng.uniform(0.6, 1.2) * w)) if vary \
                else (h, w)
            cv2.imwrite(os.path.join(tmp, rel), photo(rng, *hw), [cv2.IMWRITE_JPEG_QUALITY, 90])
            lines.append("%s %d" % (rel, label))
    write_text(listfile, "\n".join(lines) + "\n")
    return root, listfile


# ------------------------------------------------------------- measuring ---

def _tree(root):
    """``root`` and its descendants, from one pass over /proc."""
    kids = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                kids[int(fields[1])].append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(kids[pid])
    return tree


def _memory(pid):
    """(PSS, RSS) in bytes of a process (PSS from smaps_rollup when readable)."""
    pss = rss = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid) as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
    except OSError:
        try:
            with open("/proc/%d/status" % pid) as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) * 1024
            pss = rss
        except OSError:
            pass
    return pss, rss


def run_timed(cmd, env=None):
    """Run ``cmd`` unwatched; return (seconds, CPU seconds: user + system of
    the process and its workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0 = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          universal_newlines=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit("benchmark: %s failed:\n%s" % (" ".join(cmd), proc.stderr[-2000:]))
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, usage.ru_utime + usage.ru_stime - cpu0


def run_watched(cmd, env=None):
    """Run ``cmd`` while sampling its memory every 50 ms; return (peak PSS
    sum, peak RSS sum, max single-process RSS).  Reading smaps_rollup takes
    the watched processes' memory-map lock and the sampler takes CPU: runs
    watched this way were up to 28 % slower here, so the rates come from
    unwatched runs (run_timed)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            universal_newlines=True)
    peak = [0, 0, 0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            mem = [_memory(p) for p in _tree(proc.pid)]
            pss, rss = (sum(v) for v in zip(*mem))
            peak[:] = max(peak[0], pss), max(peak[1], rss), max([peak[2]] + [m[1] for m in mem])
            done.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, err = proc.communicate()
    done.set()
    thread.join()
    if proc.returncode != 0:
        sys.exit("benchmark: %s failed:\n%s" % (" ".join(cmd), err[-2000:]))
    return tuple(peak)


def breakdown(root, n=60):
    """ms per image of decoding and of the three resizes, in this process
    set up as a builder's worker; and the matlab kernel's engine."""
    import glob
    from racnn.datasets import read_image
    from racnn.resize.degrade import degrade, prepare
    from racnn.resize.numpy_engine import single_blas_thread
    from racnn.db.pool import tune_malloc
    tune_malloc()
    engine = prepare("matlab")
    files = sorted(glob.glob(os.path.join(root, "*", "*.jpg")))[:n]
    with single_blas_thread():
        t = time.perf_counter()
        imgs = [read_image(f) for f in files]
        t_dec = (time.perf_counter() - t) / len(files)
        t = time.perf_counter()
        for img in imgs:
            degrade(img, 50, 227, layout="CHW")
        t_deg = (time.perf_counter() - t) / len(files)
    return 1000 * t_dec, 1000 * t_deg, engine


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=int, default=3000)
    p.add_argument("--width", type=int, default=500)
    p.add_argument("--height", type=int, default=375)
    p.add_argument("--vary-sizes", action="store_true",
                   help="every image its own size, 0.6..1.2 times width x height")
    p.add_argument("--res", type=int, default=50)
    p.add_argument("--workers", type=int, default=None, help="build_lmdb workers (default: cores)")
    p.add_argument("--repeat", type=int, default=3,
                   help="alternate the two tools this many times (timed runs)")
    p.add_argument("--keep", action="store_true", help="keep the databases in bench/out")
    args = p.parse_args(argv)
    root, listfile = make_images(args.images, args.width, args.height, vary=args.vary_sizes)
    n = args.images
    env = dict(os.environ, GLOG_minloglevel="1", RACNN_NO_PROGRESS="1")
    dbs = os.path.join(OUT, "dbs")
    shutil.rmtree(dbs, ignore_errors=True)
    os.makedirs(dbs)
    load = {}
    build = [sys.executable, os.path.join(REPO, "tools", "build_lmdb.py"), "--dataset", "folder",
             "--root", root, "--split", "all", "--res", str(args.res), "--overwrite", "--out",
             os.path.join(dbs, "build_lmdb")]
    if args.workers:
        build += ["--workers", str(args.workers)]
    commands = {"convert_imageset": ["convert_imageset", "--resize_height=227",
                                     "--resize_width=227", root + "/", listfile,
                                     os.path.join(dbs, "convert_imageset")],
                "build_lmdb": build}
    runs = {name: [] for name in commands}           # (seconds, cpu seconds) per timed run
    for rep in range(args.repeat):
        for name, cmd in commands.items():
            shutil.rmtree(os.path.join(dbs, name), ignore_errors=True)
            load["%s run %d" % (name, rep + 1)] = os.getloadavg()[0]
            runs[name].append(run_timed(cmd, env))
    memory = {}
    for name, cmd in commands.items():                  # one watched run each, for memory
        shutil.rmtree(os.path.join(dbs, name), ignore_errors=True)
        memory[name] = run_watched(cmd, env)
    load["after"] = os.getloadavg()[0]
    dec, deg, engine = breakdown(root)
    mib = 1024.0 ** 2
    print("bench_build_lmdb: %d JPEGs %dx%d%s (photo-like, q90), %d cores, %d timed runs of "
          "each tool (alternating) + 1 watched run each for memory; 1-min load average (other "
          "processes included) %s"
          % (n, args.width, args.height, " x 0.6..1.2, every image its own size"
             if args.vary_sizes else "", os.cpu_count(), args.repeat,
             ", ".join("%.2f %s" % (v, k) for k, v in load.items())))
    rate, best, cpu = {}, {}, {}
    for name in commands:
        rates = sorted(n / sec for sec, _ in runs[name])
        rate[name] = float(np.median(rates))
        best[name] = rates[-1]
        cpu[name] = float(np.median([c for _, c in runs[name]])) / n
        pss, rss, maxrss = memory[name]
        what = ("decode + resize to 227 (bilinear) + write" if name == "convert_imageset" else
                "decode + 3 MATLAB bicubic resizes (r%d, %s engine) + write, %s workers"
                % (args.res, engine, args.workers or os.cpu_count()))
        print("  %-17s %7.1f images/s median (runs: %s; %5.2f ms CPU per image)  peak memory "
              "%5.0f MiB PSS (%5.0f MiB RSS summed over processes; largest process %4.0f MiB)"
              "\n%20s[%s]" % (name, rate[name], ", ".join("%.1f" % r for r in rates),
                                1000 * cpu[name], pss / mib, rss / mib, maxrss / mib, "", what))
    ratio = rate["build_lmdb"] / rate["convert_imageset"]
    best_ratio = best["build_lmdb"] / best["convert_imageset"]
    peak = memory["build_lmdb"][0] / mib
    print("  ratio build_lmdb / convert_imageset: %.2fx of the medians (%.2fx of the fastest "
          "runs; target >= 1.6x: %s); build_lmdb peak %.0f MiB (target < 1024 MiB: %s)"
          % (ratio, best_ratio, "met" if ratio >= 1.6 else "NOT met",
             peak, "met" if peak < 1024 else "NOT met"))
    print("  CPU time per image: build_lmdb %.2f ms vs convert_imageset %.2f ms; with %d free "
          "cores the expected ratio is %.2fx" % (1000 * cpu["build_lmdb"],
                                                 1000 * cpu["convert_imageset"], os.cpu_count(),
                                                 os.cpu_count() * cpu["convert_imageset"]
                                                 / cpu["build_lmdb"]))
    print("  one process, per image (as in a worker): decode %.2f ms, three resizes %.2f ms"
          % (dec, deg))
    with open(os.path.join(OUT, "result.json"), "w") as fh:
        json.dump({"images": n, "size": [args.width, args.height], "vary_sizes": args.vary_sizes,
                   "rates": rate,
                   "runs_seconds": {k: [r[0] for r in v] for k, v in runs.items()},
                   "ratio": ratio, "ratio_fastest": best_ratio, "engine": engine,
                   "peak_pss_mib": {k: v[0] / mib for k, v in memory.items()},
                   "cpu_ms_per_image": {k: 1000 * v for k, v in cpu.items()},
                   "load": load, "decode_ms": dec, "resize_ms": deg}, fh, indent=1)
    if not args.keep:
        shutil.rmtree(dbs, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
