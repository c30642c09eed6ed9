"""racnn.train.driver: the Trainer's iteration counts follow the epochs
asked for or the release's schedule."""
import json
import os

import pytest

from racnn import protoio
from racnn.train.driver import Trainer as Experiment


def test_iteration_counts_follow_epochs_or_the_release(tmp_path, committed):
    cfg, src = committed("cnn")
    exp = Experiment(dict(cfg, snapshots=4, tests=2), str(tmp_path / "run"))
    exp.gpu = None
    os.makedirs(exp.run_dir)
    rec = exp._setup("cnn", src, {"train": "/db/tr", "test": "/db/te"}, None, None, 5994,
                     "stage2", 5794)
    assert rec["max_iter"] == 700000 and rec["batch_size"] == 8      # the release's schedule
    assert rec["test_iter"] == 2897                                   # 5794 / 2, all test images
    assert rec["epochs"] == pytest.approx(700000 * 8 / 5994.0, abs=1e-3)
    exp = Experiment(dict(cfg, stage2_epochs=2.5, snapshots=4, tests=2,
                          solver={"stage2": {"base_lr": 0.001}}), str(tmp_path / "run2"))
    exp.gpu = None
    os.makedirs(exp.run_dir)
    rec = exp._setup("cnn", src, {"train": "/db/tr", "test": "/db/te"}, {"train": 16}, 2.5,
                     1000, "stage2", 100)
    assert rec["max_iter"] == 157 and rec["batch_size"] == 16        # ceil(2.5 * 1000 / 16)
    solver = protoio.read_solver(str(tmp_path / "run2" / "cnn" / "solver.prototxt"))
    assert solver.max_iter == 157 and list(solver.stepvalue) == [round(157 * 6 / 7.)]
    assert solver.base_lr == pytest.approx(0.001) and solver.snapshot == 40
    assert json.load(open(str(tmp_path / "run2" / "config.json")))["stages"]["cnn"][
        "max_iter"] == 157
