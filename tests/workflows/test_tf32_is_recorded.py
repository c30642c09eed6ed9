"""The GPU speed options (TF32=1, CUDNN=1; docs/GPU.md) reach the run: the
run folder's name and config.json, the `caffe train` processes' environment
(named in train.log), and the report, which lists a TF32 run with why it is
not the faithful reading, as it does a JPEG run."""
import csv
import json
import os
import subprocess
import sys

from racnn.datasets import synthetic
from racnn.paths import REPO
from racnn.rundir import settings


def test_tf32_reaches_the_run_folder_caffe_and_the_report(tmp_path):
    cfg = settings.make_config("syn", "tiny", data_format="folder", data_root="/d", tf32="1")
    assert cfg["tf32"] is True and settings.run_name(cfg).endswith("-tf32")
    assert settings.gpu_env(cfg) == {"RACNN_TF32": "1"}
    assert settings.gpu_env(dict(cfg, cudnn=True)) == {"RACNN_TF32": "1", "RACNN_CUDNN": "1"}

    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    data = str(tmp_path / "syn")
    synthetic.generate(data, num_classes=3, train_per_class=4, test_per_class=2, seed=0)
    r = subprocess.run([sys.executable, "tools/experiment.py", "syn", "tiny", "--format",
                        "folder", "--data-root", data, "--smoke", "--variants", "cnn",
                        "--backbone-weights", "none", "--res", "12", "--set", "tf32=1"],
                       cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "tf32 asked for, but the run trains on the CPU" in r.stderr
    run = os.path.join(str(tmp_path / "runs"), "syn-tiny-r12-e2e-paper-tf32-bwnone-smoke")
    assert json.load(open(os.path.join(run, "config.json")))["tf32"] is True
    assert "environment: RACNN_TF32=1" in open(os.path.join(run, "cnn", "train.log")).read()
    out = str(tmp_path / "report")
    r = subprocess.run([sys.executable, "tools/report.py", run, "--out", out], cwd=REPO,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(out, "results.csv")) as fh:
        (row,) = [x for x in csv.DictReader(fh) if x["run"] == run]
    assert row["table"] == "other" and "TF32 tensor cores (tables: exact FP32)" in row["not_placed"]
