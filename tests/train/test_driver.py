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


def test_release_g_racnn_starts_from_the_sr_weights(release_g_run):
    """The release's g-RACNN notebooks copy the pre-trained SR weights in
    after the backbone (``solver.net.copy_from`` twice): under the release
    reading g-RACNN trains after stage 1 and its audit loads sconv1-3 from
    stage 1's final model (the paper's reading keeps them new, the fillers:
    the SMOKE demo, tests/workflows/test_smoke_demo.py).  The stage records
    where its SR layers started and the release's length its schedule is
    scaled from (the notebooks' 1M iterations)."""
    from racnn.rundir.stage import final_model
    run = release_g_run
    assert os.path.basename(run) == "syn-tiny-r50-e2e-release-gsr-it1m-bwnone-smoke"
    with open(os.path.join(run, "racnn_g", "init_audit.json")) as fh:
        src = {(b["layer"], b["index"]): b["source"] for b in json.load(fh)["blobs"]}
    sr = final_model(os.path.join(run, "stage1_sr"))
    assert all(src[(layer, i)] == sr for layer in ("sconv1", "sconv2", "sconv3") for i in (0, 1))
    with open(os.path.join(run, "config.json")) as fh:
        rec = json.load(fh)["stages"]["racnn_g"]
    assert rec["sr_start"] == "pretrained" and rec["release_length"] == 1000000
