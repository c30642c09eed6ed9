"""racnn.eval's command line (tools/eval_per_class.py, python3 -m
racnn.eval): its outputs, --from-scores (equal, and without pycaffe), run
folders and --all-snapshots, and the block it prints."""
import json
import os
import subprocess
import sys

import pytest

from racnn.eval import cli, metrics
from tests.support import evalkit as kit
from tests.support.commands import eval_per_class as run_tool
from tests.support.pictures import check_png

N = sum(kit.IMBALANCED)


def test_tool_and_from_scores(setup, caffe_reference, tmp_path):
    out = str(tmp_path / "eval")
    cli.main(["--model", setup["deploy"], "--weights", setup["weights"],
              "--lmdb", setup["db"], "--train-val", setup["tv"], "--out", out, "--quiet"])
    for f in ("scores.npy", "labels.npy", "metrics.json", "per_class.csv"):
        assert os.path.getsize(os.path.join(out, f)) > 0
    check_png(os.path.join(out, "confusion.png"), 150, 150)
    live = json.load(open(os.path.join(out, "metrics.json")))
    assert live["iteration"] == 100 and live["num_images"] == N and live["num_classes"] == 5
    assert live["overall_accuracy"] == pytest.approx(caffe_reference["accuracy"], abs=1e-6)
    csv_rows = open(os.path.join(out, "per_class.csv")).read().splitlines()
    assert csv_rows[0] == "class,name,images,correct,accuracy"
    assert csv_rows[4].startswith("3,grey,0,0,") and csv_rows[4].endswith(",")

    again = str(tmp_path / "again")
    r = run_tool("--from-scores", out, "--out", again)
    assert r.returncode == 0, r.stderr
    assert "mean class accuracy" in r.stdout and "without test images" in r.stdout
    re_m = json.load(open(os.path.join(again, "metrics.json")))
    for k in metrics.SUMMARY_KEYS + ("iteration", "class_names"):
        assert re_m[k] == live[k], k
    assert open(os.path.join(again, "per_class.csv")).read() == \
        open(os.path.join(out, "per_class.csv")).read()


def test_run_folder_all_snapshots(tmp_path):
    run = kit.make_run(tmp_path, "synthetic-tiny-r16-e2e-paper", {"dataset": "synthetic"})
    r = run_tool(run, "--all-snapshots")
    assert r.returncode == 0, r.stderr
    out = os.path.join(run, "cnn", "eval")
    rows = open(os.path.join(out, "accuracy_vs_iteration.csv")).read().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["10", "20", "30"]
    top = json.load(open(os.path.join(out, "metrics.json")))
    sub = json.load(open(os.path.join(out, "iter_30", "metrics.json")))
    assert top["iteration"] == 30 and top == sub
    assert top["num_images"] == 24 and top["transform"]["crop_size"] == 16
    check_png(os.path.join(out, "accuracy_vs_iteration.png"))
    # the mean class accuracy in the CSV is the one of each snapshot's folder
    m20 = json.load(open(os.path.join(out, "iter_20", "metrics.json")))
    assert float(rows[2].split(",")[1]) == pytest.approx(m20["mean_class_accuracy"], abs=1e-6)


NO_CAFFE = """
import builtins, runpy, sys
real = builtins.__import__
def guarded(name, *a, **k):
    if name == "caffe" or name.startswith("caffe."):
        raise ImportError("caffe is blocked in this test")
    return real(name, *a, **k)
builtins.__import__ = guarded
sys.argv = ["eval_per_class.py", "--from-scores", sys.argv[1], "--out", sys.argv[2], "--quiet"]
runpy.run_module("racnn.eval", run_name="__main__")
"""


def test_from_scores_needs_no_caffe(setup, tmp_path):
    out = str(tmp_path / "live")
    r = run_tool("--model", setup["deploy"], "--weights", setup["weights"], "--lmdb",
                 setup["db"], "--train-val", setup["tv"], "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-c", NO_CAFFE, out, str(tmp_path / "re")],
                       capture_output=True, text=True, cwd=kit.REPO)
    assert r.returncode == 0, r.stderr
    assert json.load(open(str(tmp_path / "re" / "metrics.json")))["mean_class_accuracy"] == \
        json.load(open(os.path.join(out, "metrics.json")))["mean_class_accuracy"]
    bad = run_tool("--from-scores", str(tmp_path))
    assert bad.returncode == 2 and "scores.npy" in bad.stderr


def test_evaluation_block_says_how_many_classes_have_test_images():
    import numpy as np
    from racnn.eval.cli import block
    from racnn.eval.metrics import metrics_from_scores
    labels = np.repeat(np.arange(24), 2)                 # 24 of 50 classes have images
    scores = np.eye(50)[labels]
    m = metrics_from_scores(scores, labels)
    text = block(m, "racnn_g, iteration 4")
    assert text.splitlines()[0] == \
        "racnn_g, iteration 4: 48 images; 24 of 50 classes have test images"
    assert "mean class accuracy 100.00 %" in text and "(24 with images)" not in text
