"""`make demo SMOKE=1`: the whole pipeline on the synthetic dataset with real
Caffe (databases, backbone_hr, stage 1, stage 2: CNN, Staged-Training (HR then
LR), g-RACNN, p-RACNN, evaluation, tables, Fig. 5), then a re-run that skips
every finished stage.  (The run: the session's ``smoke`` fixture,
tests/workflows/conftest.py; a second run elsewhere that must agree exactly:
tests/workflows/test_seeded_reruns.py.)"""
import os

import numpy as np

from racnn.eval.metrics import metrics_from_scores
from racnn.rundir import stage as stage_files
from racnn.rundir.results import final_results
from racnn.rundir.stage import final_model
from tests.support.workflows import demo, load

STAGES = ("backbone_hr", "stage1_sr", "cnn", "staged_hr", "staged", "racnn_g", "racnn_p")
EVALUATED = ("backbone_hr", "cnn", "staged_hr", "staged", "racnn_g", "racnn_p")


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
    # stage 1 is the shared model of its settings: the rerun names it
    log = (run / "experiment.log").read_text()
    assert "stage1_sr: finished before (" in log and \
        "skipped: the shared stage-1 model %s, reused" % os.path.normpath(
            os.path.join(str(run), os.readlink(str(run / "stage1_sr")))) in log
