"""The log parser on a real log written by `caffe train` (tiny net, a test
phase with an Accuracy layer's per-class top), plus format corner cases."""
import csv
import math
import os
import subprocess
import sys

import pytest

from tests.support import evalkit as kit
from tests.support.pictures import check_png
from racnn.rundir import caffelog
from racnn.errors import RacnnError

MAX_ITER, DISPLAY, TEST_INTERVAL, STEP, BASE_LR = 30, 5, 10, 20, 0.001


@pytest.fixture(scope="module")
def real_log(tmp_path_factory):
    d = tmp_path_factory.mktemp("trainlog")
    images, labels = kit.colour_images([6, 5, 4, 3, 6], seed=2)
    db = kit.write_db(str(d / "db"), images, labels)
    tv = kit.tiny_train_val(str(d / "train_val.prototxt"), db, batch=4)
    log, snaps = kit.caffe_train(str(d), tv, max_iter=MAX_ITER, test_interval=TEST_INTERVAL,
                                 lr=BASE_LR)
    return log


def test_real_caffe_train_log(real_log):
    log = caffelog.parse_log(real_log)
    # what the solver settings imply (caffe_train: display 5, step 20, gamma 0.5);
    # Caffe also logs the final loss at max_iter ("Iteration 30, loss = "), no lr
    assert [r["iteration"] for r in log.train] == list(range(0, MAX_ITER + 1, DISPLAY))
    assert "lr" not in log.train[-1]
    for r in log.train[:-1]:
        assert r["lr"] == pytest.approx(BASE_LR * 0.5 ** (r["iteration"] // STEP))
        assert math.isfinite(r["loss"]) and 0 < r["loss"] < 10
    assert [r["iteration"] for r in log.test] == list(range(0, MAX_ITER + 1, TEST_INTERVAL))
    for r in log.test:
        assert set(["accuracy", "loss"] + ["per_class[%d]" % k for k in range(5)]) <= set(r)
        assert 0 <= r["accuracy"] <= 1
    secs = [r["seconds"] for r in sorted(log.train + log.test, key=lambda r: r["seconds"])]
    assert secs[0] >= 0 and secs == sorted(secs)
    # the median over display intervals of the seconds the log's own clock shows
    steps = sorted((b["seconds"] - a["seconds"]) / DISPLAY
                   for a, b in zip(log.train, log.train[1:]))
    assert log.start is not None
    assert caffelog.seconds_per_iteration(log) == pytest.approx(
        0.5 * (steps[len(steps) // 2 - 1] + steps[len(steps) // 2]) if len(steps) % 2 == 0
        else steps[len(steps) // 2])
    assert 0 < caffelog.seconds_per_iteration(log) < 60       # a tiny net on the CPU
    # the Train net output line and the Iteration line carry the same loss here
    # (average_loss 1): two different lines parsed into one row agree
    raw = [l for l in open(real_log) if "Train net output #0: loss = " in l]
    assert len(raw) == len(log.train) - 1
    assert float(raw[-1].split("loss = ")[1].split()[0]) == pytest.approx(log.train[-2]["loss"])
    assert all(r["train_loss"] == r["loss"] for r in log.train[:-1])


def tool(name, *args):
    """Run tools/<name> as a user would; its stdout."""
    r = subprocess.run([sys.executable, os.path.join(kit.REPO, "tools", name)] + list(args),
                       capture_output=True, text=True, cwd=kit.REPO)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_parse_log_tool(real_log, tmp_path):
    tool("parse_log.py", real_log, "--out", str(tmp_path))
    stem = str(tmp_path / "train")
    with open(stem + ".train.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:4] == ["iteration", "seconds", "lr", "loss"]
    assert [int(r["iteration"]) for r in rows] == list(range(0, MAX_ITER + 1, DISPLAY))
    assert rows[-1]["lr"] == "" and float(rows[1]["lr"]) == BASE_LR
    with open(stem + ".test.csv") as fh:
        trows = list(csv.DictReader(fh))
    assert "per_class[4]" in trows[0] and len(trows) == MAX_ITER // TEST_INTERVAL + 1
    check_png(stem + ".curves.png", 400, 200)          # two panels: loss and accuracy


LOG = """\
I1231 23:59:58.500000 100 solver.cpp:239] Iteration 0 (0 iter/s, 0s/20 iters), loss = 5.25
I1231 23:59:58.500001 100 solver.cpp:258]     Train net output #0: loss = 5.25 (* 1 = 5.25 loss)
I1231 23:59:58.500002 100 sgd_solver.cpp:112] Iteration 0, lr = 1e-06
I1231 23:59:59.000000 100 solver.cpp:347] Iteration 20, Testing net (#0)
I1231 23:59:59.100000 100 solver.cpp:414]     Test net output #0: accuracy = 0.25
I1231 23:59:59.200000 100 solver.cpp:347] Iteration 20, Testing net (#1)
I1231 23:59:59.300000 100 solver.cpp:414]     Test net output #0: accuracy = 0.5
I0101 00:00:01.500000 100 solver.cpp:239] Iteration 20 (6.6 iter/s, 3s/20 iters), loss = -nan
I0101 00:00:01.600000 100 sgd_solver.cpp:112] Iteration 20, lr = 1e-07
some line a tool printed in between
I0101 00:00:09.000000 200 caffe.cpp:220] Resuming from tiny_iter_20.solverstate
I0101 00:00:10.000000 200 solver.cpp:239] Iteration 20 (0 iter/s, 0s/20 iters), loss = 4.5
I0101 00:00:10.000002 200 sgd_solver.cpp:112] Iteration 20, lr = 1e-07
"""


def test_corner_cases(tmp_path):
    p = tmp_path / "x.log"
    p.write_text(LOG)
    log = caffelog.parse_log(str(p), year=2021)
    assert [r["iteration"] for r in log.train] == [0, 20]
    assert log.train[0]["lr"] == 1e-06 and log.train[0]["seconds"] == 0
    # across new year; the resumed run's value of iteration 20 wins
    assert log.train[1]["loss"] == 4.5 and log.train[1]["seconds"] == pytest.approx(11.5)
    assert log.test == [{"iteration": 20, "seconds": pytest.approx(0.5),
                         "accuracy": 0.25, "test1/accuracy": 0.5}]
    p.write_text("hello\nworld\n")
    assert caffelog.parse_log(str(p)).train == []
    with pytest.raises(RacnnError, match="no such log"):
        caffelog.parse_log(str(tmp_path / "missing.log"))


def test_parse_log_tool_on_a_run_folder(tmp_path):
    run = kit.make_run(tmp_path, "birds-tiny-r50-e2e-paper", {"dataset": "birds"},
                       stages=("cnn", "racnn_g"), max_iter=10)
    tool("parse_log.py", run, "--out", str(tmp_path / "out"), "--no-plot")
    assert sorted(os.listdir(str(tmp_path / "out"))) == [
        "birds-tiny-r50-e2e-paper_%s.%s.csv" % (s, k) for s in ("cnn", "racnn_g")
        for k in ("test", "train")]
    for s in ("cnn", "racnn_g"):                                  # iterations 0, 5, 10
        with open(str(tmp_path / "out" / ("birds-tiny-r50-e2e-paper_%s.train.csv" % s))) as fh:
            assert [int(r["iteration"]) for r in csv.DictReader(fh)] == [0, 5, 10]
