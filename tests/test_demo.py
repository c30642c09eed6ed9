"""`make demo SMOKE=1`: the whole pipeline on the synthetic dataset with real
Caffe (databases, backbone_hr, stage 1, stage 2: CNN, Staged-Training (HR then
LR), g-RACNN, p-RACNN, evaluation, tables, Fig. 5), then a re-run that skips
every finished stage, and a second run elsewhere that must agree exactly."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from racnn.eval.metrics import metrics_from_scores
from racnn.rundir import stage as stage_files
from racnn.rundir.results import final_results
from racnn.rundir.stage import final_model

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGES = ("backbone_hr", "stage1_sr", "cnn", "staged_hr", "staged", "racnn_g", "racnn_p")
EVALUATED = ("backbone_hr", "cnn", "staged_hr", "staged", "racnn_g", "racnn_p")


def demo(tmp):
    """tools/demo.py --smoke with data and runs under ``tmp``: (output, seconds)."""
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
    for name in EVALUATED:
        metrics = load(run / name / "eval" / "metrics.json")
        assert metrics["num_images"] == 16 and metrics["num_classes"] == 4   # 4 classes x 4
        assert metrics["snapshot"] == final_model(str(run / name))
        scores = np.load(str(run / name / "eval" / "scores.npy"))
        labels = np.load(str(run / name / "eval" / "labels.npy"))
        assert scores.shape == (16, 4) and np.isfinite(scores).all()
        # the number is the paper's metric of the saved scores, not just any number in [0, 1]
        assert metrics["mean_class_accuracy"] == metrics_from_scores(
            scores, labels)["mean_class_accuracy"]
        assert final_results(str(run))[name]["mean_class_accuracy"] == \
            metrics["mean_class_accuracy"]
    table = (run / "report" / "per_class.md").read_text()
    assert "| 3 c3_diamond_p1.0 |" in table and "p-RACNN" in table
    assert table.splitlines()[0] == ("| class | HR images (backbone) | CNN | Staged | g-RACNN "
                                     "| p-RACNN |")
    report = (run / "report" / "report.md").read_text()      # racnn.report.tables's table
    assert "fig5_synthetic.png" in report
    fig5 = (run / "report" / "fig5_synthetic.csv").read_text().splitlines()
    assert {line.split(",")[2] for line in fig5[1:]} == {      # with the HR reference
        "backbone_hr", "cnn", "staged", "racnn_g", "racnn_p"}


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
    # Staged-Training: HR fine-tuning from the backbone, then LR fine-tuning from
    # the HR stage's final model, every blob of it (nothing new the second time)
    hr = sources("staged_hr")
    assert hr[("conv1", 0)] == backbone and hr[("fc7_synthetic", 0)] == "new"
    staged_hr_final = final_model(str(run / "staged_hr"))
    assert set(sources("staged").values()) == {staged_hr_final}
    hr_tv = (run / "staged_hr" / "train_val.prototxt").read_text()
    assert "lmdb/synthetic-sub48x24/train_r72_s72" in hr_tv     # the undegraded images
    assert "lmdb/synthetic-sub48x24/train_r16_s72" in (run / "staged" /
                                                       "train_val.prototxt").read_text()
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


def test_two_identical_runs_agree_exactly(smoke, tmp_path):
    """Every random choice follows the run's seed: a second smoke demo in other
    folders gives the same initial weights, scores and metrics (apart from the
    paths and the evaluation's timing)."""
    first, run, _, _ = smoke
    demo(tmp_path)
    other = tmp_path / "runs" / run.name
    for name in STAGES:
        init = run / name / "init.caffemodel"
        if init.is_file():          # the new layers' fillers, seeded
            assert init.read_bytes() == (other / name / "init.caffemodel").read_bytes(), name
    for name in EVALUATED:
        a, b = run / name / "eval", other / name / "eval"
        assert (a / "scores.npy").read_bytes() == (b / "scores.npy").read_bytes(), name
        # the same file but for the two folders' names and the evaluation's clock
        ma = json.loads((a / "metrics.json").read_text().replace(str(first), "TMP"))
        mb = json.loads((b / "metrics.json").read_text().replace(str(tmp_path), "TMP"))
        for clock in ("seconds", "images_per_second"):
            assert ma.pop(clock) > 0 and mb.pop(clock) > 0
        assert ma == mb, name
        assert ma["mean_class_accuracy"] == load(a / "metrics.json")["mean_class_accuracy"]
