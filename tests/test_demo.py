"""`make demo SMOKE=1`: the whole pipeline on the synthetic dataset with real
Caffe (databases, backbone_hr, stage 1, stage 2 x 3, evaluation, tables),
then a re-run that skips every finished stage."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from racnn.eval.metrics import metrics_from_scores
from racnn.experiment import stage_files
from racnn.experiment.stage_files import final_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGES = ("backbone_hr", "stage1_sr", "cnn", "racnn_g", "racnn_p")


def demo(tmp):
    env = dict(os.environ, RACNN_DATA=str(tmp / "data"), RACNN_RUNS=str(tmp / "runs"))
    t0 = time.time()
    proc = subprocess.run([sys.executable, "tools/demo.py", "--smoke"], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    assert proc.returncode == 0, proc.stdout[-5000:]
    return proc.stdout, time.time() - t0


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    out, seconds = demo(tmp)
    run = tmp / "runs" / "synthetic-tiny-r16-frozen-release-smoke"
    return tmp, run, out, seconds


def load(path):
    with open(str(path)) as fh:
        return json.load(fh)


def test_demo_smoke_runs_every_stage_and_evaluates(smoke):
    tmp, run, out, _ = smoke
    assert "run folder: %s" % run in out
    assert "per-class table: %s" % (run / "report" / "per_class.md") in out
    assert (tmp / "data" / "synthetic-smoke" / "classes.txt").is_file()
    cfg = load(run / "config.json")
    assert cfg["dataset"] == "synthetic" and cfg["backbone"] == "tiny" and cfg["smoke"]
    assert "racnn" in (run / "VERSION").read_text()
    for name in STAGES:
        done = stage_files.read_done(str(run / name))
        assert done and done["iteration"] == cfg["iters"] == cfg["stages"][name]["max_iter"]
        log = (run / name / "train.log").read_text()
        assert "Optimization Done" in log and "[racnn " in log
        for f in ("train_val.prototxt", "solver.prototxt"):
            assert (run / name / f).is_file()
    for name in ("backbone_hr", "cnn", "racnn_g", "racnn_p"):
        metrics = load(run / name / "eval" / "metrics.json")
        assert metrics["num_images"] == 16 and metrics["num_classes"] == 4   # 4 classes x 4
        assert metrics["snapshot"] == final_model(str(run / name))
        scores = np.load(str(run / name / "eval" / "scores.npy"))
        labels = np.load(str(run / name / "eval" / "labels.npy"))
        assert scores.shape == (16, 4) and np.isfinite(scores).all()
        # the number is the paper's metric of the saved scores, not just any number in [0, 1]
        assert metrics["mean_class_accuracy"] == metrics_from_scores(
            scores, labels)["mean_class_accuracy"]
        assert cfg["results"][name]["mean_class_accuracy"] == metrics["mean_class_accuracy"]
    table = (run / "report" / "per_class.md").read_text()
    assert "| 3 c3_diamond_p1.0 |" in table and "p-RACNN" in table
    assert (run / "report" / "report.md").is_file()          # racnn.report.tables's table


def test_demo_hands_each_final_model_to_the_next_stage(smoke):
    _, run, _, _ = smoke
    backbone = final_model(str(run / "backbone_hr"))
    sr = final_model(str(run / "stage1_sr"))

    def sources(name):
        audit = load(run / name / "init_audit.json")
        return {(b["layer"], b["index"]): b["source"] for b in audit["blobs"]}
    cnn, g, p = sources("cnn"), sources("racnn_g"), sources("racnn_p")
    assert cnn[("conv1", 0)] == backbone and cnn[("fc6", 1)] == backbone
    assert cnn[("fc7_synthetic", 0)] == "new"                 # the new last layer
    assert g[("sconv1", 0)] == "new" and g[("conv1", 0)] == backbone
    assert p[("sconv1", 0)] == sr and p[("sconv3", 1)] == sr and p[("conv1", 0)] == backbone
    assert "fc7_hr" in load(run / "cnn" / "init_audit.json")["ignored"][backbone]
    log = (run / "racnn_p" / "train.log").read_text()
    assert "--weights %s" % (run / "racnn_p" / "init.caffemodel") in log


def test_demo_rerun_skips_finished_stages(smoke):
    tmp, run, _, first_seconds = smoke
    logs = {n: (run / n / "train.log").read_text() for n in STAGES}
    out, seconds = demo(tmp)
    for name in STAGES:
        assert "%s: finished before" % name in out
        assert (run / name / "train.log").read_text() == logs[name]
    assert "Per-class accuracy" in out
    assert seconds < first_seconds
