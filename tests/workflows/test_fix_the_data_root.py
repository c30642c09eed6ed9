"""A run whose data check fails leaves nothing that blocks the corrected
command: a wrong --data-root (its images are missing) stops before any run
folder exists, and the same command with the right one trains; a folder
that holds a configuration but no training takes the new one."""
import os
import shutil
import subprocess
import sys

from racnn.datasets import synthetic
from racnn.paths import REPO


def _experiment(env, root, *extra):
    return subprocess.run(
        [sys.executable, "tools/experiment.py", "syn", "tiny", "--format", "folder",
         "--data-root", root, "--smoke", "--variants", "cnn", "--backbone-weights", "none",
         "--res", "12"] + list(extra),
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True)


def test_a_failed_data_check_then_the_corrected_command(tmp_path):
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    good = str(tmp_path / "photos")
    synthetic.generate(good, num_classes=3, train_per_class=4, test_per_class=2, seed=0)
    bad = str(tmp_path / "photos-lists-only")            # the split lists, not the images
    shutil.copytree(good, bad, ignore=shutil.ignore_patterns("*.jpg"))
    r = _experiment(env, bad)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "images of the 'train' split are missing" in r.stderr
    runs = tmp_path / "runs"
    folders = [p for p in runs.iterdir() if p.is_dir()] if runs.is_dir() else []
    assert folders == [], folders                       # nothing locks a configuration
    r = _experiment(env, good)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "another configuration" not in r.stderr
    (run,) = [p for p in runs.iterdir() if p.is_dir()]
    assert (run / "cnn" / "DONE").is_file() and (run / "cnn" / "eval" / "metrics.json").is_file()
