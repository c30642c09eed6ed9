#!/usr/bin/env python3
"""Benchmark: throughput of tools/eval_per_class.py against Caffe's own
`caffe test` on the same net, weights and database, in one run.

Builds a synthetic database (racnn.db.lmdbio) of N images at the release's stored
size (227) and the backbone's train_val and deploy nets (racnn.nets) with
filler weights; then times, alternately and ``--repeat`` times each, the
whole processes ``caffe test -iterations N/B`` and ``eval_per_class.py``
(start-up, weight loading and the pass included), with the same batch size B,
on N and on 2N images.  Prints images/s of both, whole-process (2N) and
marginal (N extra images over the difference in time: start-up cancels), and
their ratio (target: eval within 10 % of caffe test), and checks that both
report the same top-1 accuracy.

  bench/bench_eval.py [--backbone alexnet] [--images 100] [--batch 20] [--repeat 3]
"""
import os
import sys
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("GLOG_minloglevel", "2")

import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from racnn.cli import tool_parser  # noqa: E402
from racnn.paths import REPO  # noqa: E402
from racnn.rundir.caffelog import caffe_env


def parse_args(argv):
    p = tool_parser(__doc__)
    p.add_argument("--backbone", default="alexnet")
    p.add_argument("--images", type=int, default=100, help="N (the runs use N and 2N)")
    p.add_argument("--batch", type=int, default=20, help="must divide --images")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--repeat", type=int, default=3, help="rounds; the fastest counts")
    p.add_argument("--keep", help="keep the work folder here")
    args = p.parse_args(argv)
    if args.images % args.batch:
        p.error("--batch must divide --images (caffe test runs whole batches)")
    return args


def setup(work, backbone, n, batch, classes):
    """Two databases (n and 2n images), their train_val nets, the deploy net
    and filler weights: {"n": (db, train_val), "2n": (...)}, deploy, weights."""
    import caffe
    from racnn import vocab
    from racnn.db import lmdbio as db
    from racnn.nets import build_net, write_net
    rng = np.random.RandomState(0)
    size = max(vocab.DEFAULT_DB_SIZE, vocab.backbone_spec(backbone).input_size)
    images = [rng.randint(0, 256, (size, size, 3)).astype(np.uint8) for _ in range(2 * n)]
    sets = {}
    for key, count in (("n", n), ("2n", 2 * n)):
        dbdir = os.path.join(work, "db_%s" % key)
        db.write_datums(dbdir, ((images[i], i % classes) for i in range(count)),
                        {"kind": "classification", "dataset": "bench", "split": "test",
                         "size": size, "num_classes": classes,
                         "class_names": ["c%d" % k for k in range(classes)]}, total=count)
        tv = os.path.join(work, "train_val_%s.prototxt" % key)
        write_net(build_net(backbone, classes, phase="train_val", train_source=dbdir,
                            test_source=dbdir, test_batch_size=batch), tv)
        sets[key] = (dbdir, tv, count)
    deploy = os.path.join(work, "deploy.prototxt")
    write_net(build_net(backbone, classes, phase="deploy", deploy_batch=batch), deploy)
    net = caffe.Net(deploy, caffe.TEST)       # filler weights; biases made non-zero
    for blobs in net.params.values():
        blobs[-1].data[...] = rng.normal(0, 0.1, blobs[-1].data.shape)
    weights = os.path.join(work, "bench_iter_1.caffemodel")
    net.save(weights)
    return sets, deploy, weights


def time_caffe_test(tv, weights, iterations):
    t0 = time.time()
    p = subprocess.run(["caffe", "test", "-model", tv, "-weights", weights,
                        "-iterations", str(iterations)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True, env=caffe_env())
    dt = time.time() - t0
    if p.returncode:
        sys.exit("caffe test failed:\n" + p.stdout[-2000:])
    acc = re.findall(r"\] accuracy = ([0-9.eE+-]+)", p.stdout)
    return dt, float(acc[-1])


def time_eval(deploy, weights, dbdir, tv, out):
    t0 = time.time()
    p = subprocess.run([sys.executable, os.path.join(REPO, "tools", "eval_per_class.py"),
                        "--model", deploy, "--weights", weights, "--lmdb", dbdir,
                        "--train-val", tv, "--out", out, "--quiet"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    dt = time.time() - t0
    if p.returncode:
        sys.exit("eval_per_class failed:\n" + p.stdout[-2000:])
    with open(os.path.join(out, "metrics.json")) as fh:
        m = json.load(fh)
    return dt, m["overall_accuracy"], m["images_per_second"]


def main(argv=None):
    args = parse_args(argv)
    work = args.keep or tempfile.mkdtemp(prefix="racnn_bench_eval_")
    os.makedirs(work, exist_ok=True)
    n, b = args.images, args.batch
    try:
        print("setting up %s: databases of %d and %d images, batch %d, %d classes (in %s)"
              % (args.backbone, n, 2 * n, b, args.classes, work))
        sets, deploy, weights = setup(work, args.backbone, n, b, args.classes)
        t = {(tool, k): [] for tool in ("caffe", "eval") for k in sets}
        acc = {}
        for i in range(args.repeat):
            for k, (dbdir, tv, count) in sorted(sets.items()):
                dt, acc[("caffe", k)] = time_caffe_test(tv, weights, count // b)
                t[("caffe", k)].append(dt)
                dt, acc[("eval", k)], inner = time_eval(deploy, weights, dbdir, tv,
                                                        os.path.join(work, "eval_" + k))
                t[("eval", k)].append(dt)
                print("  round %d, %4d images: caffe test %6.2f s, eval_per_class %6.2f s "
                      "(its in-loop rate %.1f img/s)" % (i + 1, count, t[("caffe", k)][-1],
                                                        t[("eval", k)][-1], inner))
        best = {key: min(v) for key, v in t.items()}
        whole = {tool: 2 * n / best[(tool, "2n")] for tool in ("caffe", "eval")}
        marginal = {tool: n / max(1e-9, best[(tool, "2n")] - best[(tool, "n")])
                    for tool in ("caffe", "eval")}
        same = all(abs(acc[("caffe", k)] - acc[("eval", k)]) < 1e-6 for k in sets)
        print("\n| backbone | batch | measure | caffe test img/s | eval_per_class img/s "
              "| eval/caffe |")
        print("|---|---|---|---|---|---|")
        print("| %s | %d | whole process, %d images | %.2f | %.2f | %.3f |" % (
            args.backbone, b, 2 * n, whole["caffe"], whole["eval"],
            whole["eval"] / whole["caffe"]))
        print("| %s | %d | marginal (%d -> %d images) | %.2f | %.2f | %.3f |" % (
            args.backbone, b, n, 2 * n, marginal["caffe"], marginal["eval"],
            marginal["eval"] / marginal["caffe"]))
        print("\nsame top-1 accuracy as caffe test: %s (%s)" % (
            "yes" if same else "NO", ", ".join("%s %.4f/%.4f" % (
                k, acc[("caffe", k)], acc[("eval", k)]) for k in sorted(sets))))
        ratio = marginal["eval"] / marginal["caffe"]
        print("target (marginal throughput within 10%%): %s" % ("met" if ratio >= 0.9
                                                               else "NOT met"))
        return 0 if same else 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
