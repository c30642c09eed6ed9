#!/usr/bin/env python3
"""make gpu-bundle-verify: the SMOKE stages a GPU trained with the bundle
(run-check), evaluated here and compared with the same seeded run trained on
the CPU (the bundle's run-check --cpu, same iterations).

  verify.py --gpu-run DIR --cpu-run DIR --bundle build/racnn-gpu-bundle --out OUT

DIR: a run-check folder (DIR/smoke/<stage>/snapshots/...), or a folder with
its results.tar.gz[.NN] (unpacked into OUT first). Each classification
stage's final model is evaluated with tools/eval_per_class.py on the bundled
test database (the exact single pass, CPU); then, per stage: mean class
accuracy of each run, how many test images get the same prediction, the
largest score difference, and the largest weight difference per layer (also
for stage1_sr). Writes OUT/verify.json and OUT/verify.md and prints the table
with the reasons the two runs differ. Exit 1 when a run or an evaluation is
missing.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tarfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def die(msg):
    sys.exit("verify.py: error: %s" % msg)


def run_dir(path, out, side):
    """The run-check folder behind PATH (unpacking results.tar.gz* into OUT)."""
    if os.path.isdir(os.path.join(path, "smoke")):
        return path
    parts = sorted(glob.glob(os.path.join(path, "results.tar.gz*")))
    if not parts:
        die("%s holds neither smoke/ (a run-check folder) nor results.tar.gz*" % path)
    dest = os.path.join(out, "unpacked", side)
    os.makedirs(dest, exist_ok=True)
    whole = os.path.join(dest, "results.tar.gz")
    with open(whole, "wb") as fh:
        for p in parts:
            with open(p, "rb") as part:
                fh.write(part.read())
    with tarfile.open(whole) as tar:
        for m in tar.getmembers():
            if m.name.startswith("/") or ".." in m.name.split("/"):
                die("%s: unsafe member %s" % (whole, m.name))
        tar.extractall(dest)
    os.unlink(whole)
    found = [d for d in glob.glob(os.path.join(dest, "*")) if os.path.isdir(os.path.join(d, "smoke"))]
    if len(found) != 1:
        die("%s: the archive holds no run-check folder" % path)
    return found[0]


def plan(bundle):
    rows = []
    with open(os.path.join(bundle, "share", "smoke", "plan.tsv")) as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            stage, inits, iters = line.rstrip("\n").split("\t")
            rows.append((stage, int(iters)))
    return rows


def final_model(rdir, stage, iters):
    return os.path.join(rdir, "smoke", stage, "snapshots", "%s_iter_%d.caffemodel" % (stage, iters))


def blobs(path):
    from caffe.proto import caffe_pb2
    net = caffe_pb2.NetParameter()
    with open(path, "rb") as fh:
        net.ParseFromString(fh.read())
    out = {}
    for layer in net.layer:
        for k, b in enumerate(layer.blobs):
            out["%s/%d" % (layer.name, k)] = np.array(b.data, dtype=np.float32)
    return out


def weight_diffs(a, b):
    wa, wb = blobs(a), blobs(b)
    if sorted(wa) != sorted(wb):
        die("%s and %s hold different layers" % (a, b))
    rows = []
    for name in sorted(wa):
        d = float(np.abs(wa[name] - wb[name]).max()) if wa[name].size else 0.0
        ref = float(np.abs(wa[name]).max()) if wa[name].size else 0.0
        rows.append((name, d, d / ref if ref else d))
    return rows


def local_train_val(bundle, stage, out):
    """The stage's train_val with its databases in the bundle here."""
    src = os.path.join(bundle, "share", "smoke", "stages", stage, "train_val.prototxt")
    with open(src) as fh:
        text = fh.read().replace("@DATA@", os.path.join(os.path.abspath(bundle), "share", "smoke", "data"))
    dst = os.path.join(out, "nets", stage, "train_val.prototxt")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w") as fh:
        fh.write(text)
    test_db = re.findall(r'source: "([^"]+)"', text)[-1]     # the TEST-phase Data layer's
    return dst, test_db


def evaluate(bundle, stage, model, out):
    tv, db = local_train_val(bundle, stage, os.path.dirname(out))
    deploy = os.path.join(bundle, "share", "smoke", "stages", stage, "deploy.prototxt")
    cmd = [sys.executable, os.path.join(REPO, "tools", "eval_per_class.py"), "--model", deploy,
           "--weights", model, "--lmdb", db, "--train-val", tv, "--out", out, "--quiet"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if proc.returncode != 0:
        die("evaluation of %s failed:\n%s" % (model, proc.stdout[-2000:]))
    with open(os.path.join(out, "metrics.json")) as fh:
        metrics = json.load(fh)
    return metrics, np.load(os.path.join(out, "scores.npy"))


def smoke_config(rdir):
    try:
        with open(os.path.join(rdir, "smoke", "config.json")) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gpu-run", required=True)
    p.add_argument("--cpu-run", required=True)
    p.add_argument("--bundle", required=True, help="the unpacked bundle (build/racnn-gpu-bundle)")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    gdir, cdir = run_dir(a.gpu_run, a.out, "gpu"), run_dir(a.cpu_run, a.out, "cpu")
    gcfg, ccfg = smoke_config(gdir), smoke_config(cdir)
    rows, report = [], {"gpu_run": gdir, "cpu_run": cdir, "gpu_config": gcfg, "cpu_config": ccfg,
                        "stages": []}
    for stage, iters in plan(a.bundle):
        gm, cm = final_model(gdir, stage, iters), final_model(cdir, stage, iters)
        for m in (gm, cm):
            if not os.path.isfile(m):
                die("%s is missing (did that run's smoke part finish?)" % m)
        wd = weight_diffs(cm, gm)
        worst = max(wd, key=lambda r: r[2])
        entry = {"stage": stage, "iterations": iters, "max_weight_diff": worst[1],
                 "max_weight_rel": worst[2], "worst_blob": worst[0],
                 "weights_identical": all(r[1] == 0 for r in wd)}
        deploy = os.path.join(a.bundle, "share", "smoke", "stages", stage, "deploy.prototxt")
        if os.path.isfile(deploy):
            gmet, gsc = evaluate(a.bundle, stage, gm, os.path.join(a.out, "eval", "gpu", stage))
            cmet, csc = evaluate(a.bundle, stage, cm, os.path.join(a.out, "eval", "cpu", stage))
            entry.update(gpu_mean_class_accuracy=gmet["mean_class_accuracy"],
                         cpu_mean_class_accuracy=cmet["mean_class_accuracy"],
                         images=int(gsc.shape[0]),
                         same_prediction=int((gsc.argmax(1) == csc.argmax(1)).sum()),
                         max_score_diff=float(np.abs(gsc - csc).max()))
        report["stages"].append(entry)
    identical = all(s["weights_identical"] for s in report["stages"])
    g_gpu = gcfg.get("gpu") is not None
    reasons = []
    if identical:
        reasons.append("the two runs are bit-identical: the same code path on the same kind of "
                       "device (a CPU run standing in for the GPU run gives this)")
    else:
        if g_gpu:
            reasons += [
                "float summation order: cuBLAS GEMMs and Caffe's CUDA kernels add in another order "
                "than OpenBLAS and the CPU loops, so each iteration's weights differ in the last "
                "bits, and training amplifies that",
                "Dropout masks: in GPU mode Caffe draws them with cuRAND, on the CPU with its own "
                "generator; the same seed gives other masks (the tiny demo net has one Dropout), so "
                "the two runs take different training paths from the first iteration",
                "the data layer's crops and mirrors are the same (Caffe's CPU generator, seeded the "
                "same, in both modes), and so are the initial weights (fillers run on the CPU)"]
            if gcfg.get("racnn_tf32"):
                reasons.append("the GPU run used TF32 (RACNN_TF32=1): 10-bit mantissa products")
            if gcfg.get("racnn_cudnn"):
                reasons.append("the GPU run used cuDNN (RACNN_CUDNN=1): other convolution algorithms")
        else:
            reasons.append("both runs are CPU runs and still differ: not expected (same seed, same "
                           "code); look at the two runs' train.log")
    report["identical"] = identical
    report["reasons"] = reasons
    lines = ["# GPU-trained SMOKE stages against the same seeded CPU run", "",
             "GPU run: %s (%s)  " % (gdir, gcfg.get("device", "?")),
             "CPU run: %s (%s)" % (cdir, ccfg.get("device", "?")), "",
             "| stage | iterations | mean class acc. GPU | CPU | same prediction | max score diff "
             "| max weight diff (rel.) | worst blob |", "|---|---|---|---|---|---|---|---|"]
    for s in report["stages"]:
        acc = ("%.2f | %.2f | %d/%d | %.3g" % (100 * s["gpu_mean_class_accuracy"],
                                              100 * s["cpu_mean_class_accuracy"],
                                              s["same_prediction"], s["images"], s["max_score_diff"])
               if "images" in s else "- | - | - | -")
        lines.append("| %s | %d | %s | %.3g (%.3g) | %s |" % (
            s["stage"], s["iterations"], acc, s["max_weight_diff"], s["max_weight_rel"], s["worst_blob"]))
    lines += ["", "Why they differ:" if not identical else "Result:", ""]
    lines += ["- " + r for r in reasons]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "verify.md"), "w") as fh:
        fh.write(text)
    with open(os.path.join(a.out, "verify.json"), "w") as fh:
        json.dump(report, fh, indent=1)
    print(text)


if __name__ == "__main__":
    main()
