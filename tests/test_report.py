"""Results tables from real run folders (tiny nets trained by `caffe train`,
evaluated by tools/eval_per_class.py) placed beside the paper's numbers."""
import csv
import json
import os
import subprocess
import sys

import pytest

import _evalkit as kit
from _pictures import check_png
from racnn import paper
from racnn.report import tables as report

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
    a = _evaluated_run(root, "birds-alexnet-r50-frozen-paper", birds, ("cnn", "racnn_p"))
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


def test_fig4_racnn_uses_p_then_g(runs, tmp_path):
    res = [dict(dataset="cars", backbone="alexnet", variant=v, res=50, mode="e2e",
                mults="paper", sr_weights=None, smoke=False, ours=o, overall=o,
                num_images=1, iteration=1, run="r", config="c", log=None, model=None,
                eval=None, evaluated=0) for v, o in (("racnn_g", 60.0), ("cnn", 50.0))]
    cells, used = report.paper_rows(res)
    fig = {(c["row"].split(" (")[0], c["dataset"]): c for c in cells if c["table"] == "Fig. 4"}
    assert fig[("RACNN-AlexNet", "cars")]["ours"] == 60.0
    assert "g-RACNN" in [c["row"] for c in cells if c["ours"] == 60.0][0]
    assert fig[("AlexNet", "cars")]["diff"] == pytest.approx(50.0 - 50.4)
    assert fig[("RACNN-AlexNet", "birds")]["ours"] is None and len(used) == 2
