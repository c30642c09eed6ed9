"""One tiny experiment on a plain folder-per-class tree of photos, the way a
researcher starts with their own images, with the GPU speed option TF32 asked
for; one run (started ahead, tests.support.ahead) checked for two things:

* train and test drawn from all of the tree, stratified and seeded
  (--split-from all --test-fraction 0.3 --seed 5; racnn.datasets.base), where
  the package once stopped with an error naming an option that did not exist;
* TF32 (``--set tf32=1``; docs/GPU.md) reaches the run: its name and
  config.json, the `caffe train` processes' environment (named in train.log)
  and the report, which lists a TF32 run apart with why it is not the
  faithful reading, as it does a JPEG run.
"""
import csv
import json
import os
import subprocess
import sys

import pytest

from racnn.datasets import synthetic
from racnn.paths import REPO
from racnn.rundir import settings
from tests.support import ahead, workflows

#: the run's name: a seed other than the default and tf32 are part of it
RUN = "mine-tiny-r12-e2e-paper-seed5-tf32-bwnone-fromall30-smoke"


@ahead.recipe("photos_run")
def _photos_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("photos")
    made = tmp / "made"
    synthetic.generate(str(made), num_classes=3, train_per_class=7, test_per_class=3, seed=0)
    root = tmp / "photos"
    for n, cls in enumerate(sorted(d for d in os.listdir(str(made)) if (made / d).is_dir())):
        (root / cls).mkdir(parents=True)
        for i, f in enumerate(sorted(os.listdir(str(made / cls)))):
            if i < 4 + 3 * n:            # 4, 7, 10 images: uneven classes
                os.link(str(made / cls / f), str(root / cls / ("img%02d.jpg" % i)))
    return tmp, workflows.experiment_run(tmp, [
        "mine", "tiny", "--format", "folder", "--data-root", str(root), "--split-from", "all",
        "--test-fraction", "0.3", "--seed", "5", "--smoke", "--variants", "cnn",
        "--backbone-weights", "none", "--res", "12", "--set", "tf32=1"])


@pytest.fixture(scope="module")
def photos_run(tmp_path_factory):
    """(run folder, output, the folder holding data and runs)."""
    tmp, run = ahead.take("photos_run", tmp_path_factory)
    out, _ = workflows.finished(run)
    assert workflows.run_folder(out) == tmp / "runs" / RUN
    return tmp / "runs" / RUN, out, tmp


def test_train_and_test_are_drawn_from_the_whole_tree(photos_run):
    run, _, _ = photos_run
    cfg = json.loads((run / "config.json").read_text())
    test_db = cfg["paths"]["test_db"]
    assert "mine-sub48x24-fromall30" in test_db
    manifest = json.loads(open(os.path.join(test_db, "manifest.json")).read())
    assert manifest["derived_from"] == {"split_from": "all", "test_fraction": 0.3, "seed": 5}
    assert manifest["count"] == 6 and manifest["num_classes"] == 3
    metrics = json.loads((run / "cnn" / "eval" / "metrics.json").read_text())
    assert metrics["num_classes_present"] == 3


def test_tf32_reaches_the_run_folder_caffe_and_the_report(photos_run):
    cfg = settings.make_config("syn", "tiny", data_format="folder", data_root="/d", tf32="1")
    assert cfg["tf32"] is True and settings.run_name(cfg).endswith("-tf32")
    assert settings.gpu_env(cfg) == {"RACNN_TF32": "1"}
    assert settings.gpu_env(dict(cfg, cudnn=True)) == {"RACNN_TF32": "1", "RACNN_CUDNN": "1"}

    run, out, tmp = photos_run
    assert "tf32 asked for, but the run trains on the CPU" in out
    assert json.load(open(str(run / "config.json")))["tf32"] is True
    assert "environment: RACNN_TF32=1" in (run / "cnn" / "train.log").read_text()
    report = str(tmp / "report")
    r = subprocess.run([sys.executable, "tools/report.py", str(run), "--out", report], cwd=REPO,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(report, "results.csv")) as fh:
        (row,) = [x for x in csv.DictReader(fh) if x["run"] == str(run)]
    assert row["table"] == "other" and "TF32 tensor cores (tables: exact FP32)" in row["not_placed"]
