"""Fig. 5 from run folders (real `caffe train` logs and racnn.eval over
snapshots): the data behind each picture, the source of each curve, the
picture not blank, tools/fig5.py and its error without runs."""
import csv
import os
import shutil
import subprocess
import sys

import pytest

from racnn.report import fig5
from racnn.rundir import caffelog
from tests.support import evalkit as kit
from tests.support.pictures import check_png


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A birds run with cnn and racnn_p trained 30 iterations (tests at 10, 20,
    30), every snapshot of both evaluated, then racnn_p's snapshot curve
    removed so that it falls back to its log."""
    root = tmp_path_factory.mktemp("fig5")
    rd = kit.make_run(root / "runs", "birds-x", {"dataset": "birds", "backbone": "alexnet"},
                      stages=("cnn", "racnn_p"))
    r = subprocess.run([sys.executable, "-m", "racnn.eval", rd, "--all-snapshots", "--quiet"],
                       cwd=kit.REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    assert r.returncode == 0, r.stdout[-3000:]
    os.unlink(os.path.join(rd, "racnn_p", "eval", "accuracy_vs_iteration.csv"))
    return root, rd


def test_curves_from_snapshots_else_from_the_log(run, tmp_path):
    root, rd = run
    paths = fig5.write_fig5([rd], str(tmp_path))
    assert paths == [str(tmp_path / "fig5_birds.png"), str(tmp_path / "fig5_birds.csv")]
    with open(paths[1]) as fh:
        rows = list(csv.DictReader(fh))
    cnn = [(int(r["iteration"]), float(r["accuracy"])) for r in rows
           if r["variant"] == "cnn" and r["source"] == "snapshots"]
    with open(os.path.join(rd, "cnn", "eval", "accuracy_vs_iteration.csv")) as fh:
        want = [(int(r["iteration"]), round(float(r["mean_class_accuracy"]), 6))
                for r in csv.DictReader(fh)]
    assert [it for it, _ in cnn] == [10, 20, 30] and cnn == want
    p = [(int(r["iteration"]), float(r["accuracy"])) for r in rows
         if r["variant"] == "racnn_p" and r["source"] == "solver"]
    log = caffelog.parse_log(os.path.join(rd, "racnn_p", "train.log"))
    assert p == [(t["iteration"], round(t["accuracy"], 6)) for t in log.test] and len(p) >= 3
    finals = {r["variant"]: (int(r["iteration"]), float(r["accuracy"])) for r in rows
              if r["source"] == "final"}
    assert finals["cnn"][0] == finals["racnn_p"][0] == 30
    assert finals["cnn"][1] == cnn[-1][1]           # the final model is the last snapshot
    assert {r["variant"] for r in rows} == {"cnn", "racnn_p"}
    check_png(paths[0], 400, 250)
    assert fig5.best_in_solver(os.path.join(rd, "racnn_p", "train.log")) == max(
        ((t["accuracy"], t["iteration"]) for t in log.test), key=lambda x: (x[0], -x[1]))


def test_accuracy_key_of_each_backbone():
    assert fig5.accuracy_key({"iteration": 0, "accuracy": 0.5, "loss": 1.0}) == "accuracy"
    assert fig5.accuracy_key({"iteration": 0, "loss1/top-1": 0.1, "loss3/top-1": 0.3,
                              "loss3/top-5": 0.6}) == "loss3/top-1"
    assert fig5.accuracy_key({"iteration": 0, "loss": 1.0}) is None


def test_fig5_tool(run, tmp_path):
    root, rd = run
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "tools/fig5.py", str(root / "runs"), "--out", str(out)],
                       cwd=kit.REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    assert r.returncode == 0, r.stderr
    assert "written: %s" % (out / "fig5_birds.png") in r.stdout
    assert (out / "fig5_birds.csv").read_text() == open(
        fig5.write_fig5([rd], str(tmp_path / "again"))[1]).read()
    empty = tmp_path / "empty"
    shutil.copytree(rd, str(empty / "r"), ignore=shutil.ignore_patterns("cnn", "racnn_p"))
    r = subprocess.run([sys.executable, "tools/fig5.py", str(empty), "--out", str(out)],
                       cwd=kit.REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    assert r.returncode == 2 and r.stderr.strip().endswith(
        "1 run folder(s), none with a trained classification stage (cnn, staged, racnn_g, "
        "racnn_p) that logged a test pass or was evaluated")


# ---------- the picture's layout
# Fig. 5's layout: equal points of several networks stay visible (shifted
# apart), the axis starts at 0 with a margin even when every point sits at
# one iteration, and the HR backbone is one of the networks.
def test_equal_points_are_drawn_apart_and_the_axis_starts_at_zero():
    same = [(4, 0.5)]
    series = [("CNN", same, (4, 0.5)), ("g-RACNN", same, (4, 0.5)),
              ("p-RACNN", same, (4, 0.5)), ("Staged", same, (4, 0.5))]
    (lo, hi), shifts = fig5.x_layout(series)
    assert lo < 0 < 4 < hi and hi - lo > 4                       # not 3.8 .. 4.2
    assert len(set(4 + s for s in shifts)) == 4                  # four visible stars
    assert max(shifts) - min(shifts) < 0.1 * (hi - lo)           # still at iteration ~4


def test_the_hr_backbone_is_a_network_of_fig5():
    assert fig5.NETWORKS[0] == "backbone_hr" and "HR" in fig5._label("backbone_hr", "tiny",
                                                                     "run", False)
