"""racnn.report's command line (tools/report.py) on real run folders (tiny
nets trained by `caffe train`, evaluated by tools/eval_per_class.py): the
runs placed beside the paper's numbers, keyed by every setting."""
import csv
import json
import os
import subprocess
import sys

import pytest

from racnn import paper
from racnn.rundir import settings as config
from tests.support import evalkit as kit
from tests.support.pictures import check_png


STAGE_REC = {"cnn": {"batch_size": 4, "images": 24}, "racnn_p": {"batch_size": 4, "images": 24}}


def _evaluated_run(root, name, config, stages):
    run = kit.make_run(root, name, dict(config, stages=STAGE_REC), stages=stages)
    r = subprocess.run([sys.executable, "tools/eval_per_class.py", run, "--quiet"],
                       capture_output=True, text=True, cwd=kit.REPO)
    assert r.returncode == 0, r.stderr
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    birds = dict(dataset="birds", backbone="alexnet", res=50, mode="frozen", mults="paper")
    a = kit.claim_full_run(
        _evaluated_run(root, "birds-alexnet-r50-frozen-paper", birds, ("cnn", "racnn_p")),
        {v: ("alexnet", "birds", v, "frozen", "paper") for v in ("cnn", "racnn_p")})
    b = _evaluated_run(root, "birds-alexnet-r50-frozen-paper-smoke", dict(birds, smoke=True),
                       ("cnn",))
    c = _evaluated_run(root, "synthetic-tiny-r16-e2e-paper",
                       dict(dataset="synthetic", backbone="tiny", res=16, mode="e2e",
                            mults="paper"), ("cnn",))
    return root, a, b, c


def _mca(run, stage):
    with open(os.path.join(run, stage, "eval", "metrics.json")) as fh:
        return 100 * json.load(fh)["mean_class_accuracy"]


def test_report_places_runs_beside_the_paper(runs, tmp_path):
    root, a, b, c = runs
    out = str(tmp_path / "report")
    r = subprocess.run([sys.executable, "tools/report.py", str(root), "--out", out],
                       capture_output=True, text=True, cwd=kit.REPO)
    assert r.returncode == 0, r.stderr
    assert "3 run folder(s), 4 evaluated network(s)" in r.stdout
    with open(os.path.join(out, "results.csv")) as fh:
        rows = list(csv.DictReader(fh))
    cell = [x for x in rows if x["table"] == "Table II" and x["variant"] == "racnn_p"
            and x["dataset"] == "birds" and x["backbone"] == "alexnet"][0]
    ours = _mca(a, "racnn_p")
    assert float(cell["paper"]) == paper.TABLE_II[("alexnet", "racnn_p")]["birds"]
    assert float(cell["ours"]) == pytest.approx(ours, abs=1e-3)
    assert float(cell["diff"]) == pytest.approx(ours - 51.23, abs=1e-3)
    assert cell["runs"] == "1" and cell["run"] == a            # the smoke run is not used
    # Table III r=50 birds AlexNet frozen is the same setting; r=25 has no run
    t3 = {(x["variant"], x["res"]): x for x in rows if x["table"] == "Table III"}
    assert float(t3[("cnn", "50")]["ours"]) == pytest.approx(_mca(a, "cnn"), abs=1e-3)
    assert t3[("cnn", "25")]["ours"] == "" and float(t3[("cnn", "25")]["paper"]) == 31.58
    # every paper number has a row; Fig. 4 (end to end) has no run here
    assert len([x for x in rows if x["table"] != "other"]) == 27 + 9 + 6
    assert all(x["ours"] == "" for x in rows if x["table"] == "Fig. 4")
    others = sorted(os.path.basename(x["run"]) for x in rows if x["table"] == "other")
    assert others == [os.path.basename(b), os.path.basename(c)]

    md = open(os.path.join(out, "report.md")).read()
    assert "## Table II" in md and "## Other runs" in md and "p-RACNN AlexNet" in md
    line = [l for l in md.splitlines() if l.startswith("| p-RACNN AlexNet |")][0]
    assert "%.2f" % ours in line
    links = [l.split("](")[1].split(")")[0] for l in line.split("[")[1:]]
    assert links and all(os.path.exists(os.path.join(out, p)) for p in links)
    assert {"log", "config", "model", "eval"} <= {l.split("]")[0] for l in line.split("[")[1:]}
    check_png(os.path.join(out, "paper_vs_ours.png"))
    assert "Training time per epoch from the logs" in md
    trow = [l for l in md.splitlines() if l.startswith("| %s | racnn_p |" % os.path.basename(a))]
    assert len(trow) == 1 and trow[0].split(" | ")[6] != "-"      # RACNN/CNN ratio of the run


def test_report_of_real_runs_keys_by_every_setting(tmp_path):
    """Real run folders: one without ImageNet weights (the run-name suffix
    of issue 15, item 9) is listed apart, two matching runs are both shown."""
    birds = dict(dataset="birds", backbone="alexnet", res=50, mode="frozen", mults="paper",
                 sr_weights="pretrain")
    nets = {"cnn": ("alexnet", "birds", "cnn", "frozen", "paper")}
    birds["variants"] = ["cnn"]
    a = kit.claim_full_run(_evaluated_run(tmp_path, "birds-alexnet-r50-frozen-paper", birds,
                                          ("cnn",)), nets)
    b = kit.claim_full_run(_evaluated_run(tmp_path, "copy-birds-alexnet-r50-frozen-paper",
                                          birds, ("cnn",)), nets)
    cfg = config.make_config("birds", "alexnet", mode="frozen", backbone_weights="none")
    assert config.run_name(cfg) == "birds-alexnet-r50-frozen-paper-bwnone"
    c = kit.claim_full_run(_evaluated_run(tmp_path, config.run_name(cfg), dict(
        birds, backbone_weights="none"), ("cnn",)), nets)
    out = str(tmp_path / "report")
    r = subprocess.run([sys.executable, "tools/report.py", a, b, c, "--out", out],
                       capture_output=True, text=True, cwd=kit.REPO)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(out, "results.csv")) as fh:
        rows = list(csv.DictReader(fh))
    cell = [x for x in rows if x["table"] == "Table II" and x["variant"] == "cnn"
            and x["dataset"] == "birds" and x["backbone"] == "alexnet"]
    assert sorted(x["run"] for x in cell) == sorted([a, b])
    other = [x for x in rows if x["table"] == "other"]
    assert [(x["run"], x["not_placed"], x["backbone_weights"]) for x in other] == [
        (c, "backbone weights none (tables: ImageNet)", "none")]
    md = open(os.path.join(out, "report.md")).read()
    assert "| %s | cnn |" % os.path.basename(c) in md
    assert "backbone weights none (tables: ImageNet)" in md
