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
from racnn.rundir import settings as config
from racnn.rundir import keying
from racnn.report import cells as report_cells, markdown, write

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


def test_fig4_racnn_uses_p_then_g(runs, tmp_path):
    res = [dict(dataset="cars", backbone="alexnet", variant=v, res=50, mode="e2e",
                mults="paper", sr_weights=None, smoke=False, ours=o, overall=o,
                num_images=1, iteration=1, run="r", config="c", log=None, model=None,
                eval=None, evaluated=0) for v, o in (("racnn_g", 60.0), ("cnn", 50.0))]
    cells, used = report_cells.paper_rows(res)
    fig = {(c["row"].split(" (")[0], c["dataset"]): c for c in cells if c["table"] == "Fig. 4"}
    assert fig[("RACNN-AlexNet", "cars")]["ours"] == 60.0
    assert "g-RACNN" in [c["row"] for c in cells if c["ours"] == 60.0][0]
    assert fig[("AlexNet", "cars")]["diff"] == pytest.approx(50.0 - 50.4)
    assert fig[("RACNN-AlexNet", "birds")]["ours"] is None and len(used) == 2


# ------------------------------------------- keyed by every setting (issue 12)
def _record(run, variant="racnn_p", ours=50.0, evaluated=1.0, **settings):
    r = dict(dataset="birds", backbone="alexnet", variant=variant, res=50, mode="frozen",
             mults="paper", sr_weights="pretrain", smoke=False, ours=ours, overall=ours,
             num_images=10, iteration=100, run=run, config=None, log=None, model=None,
             eval=None, evaluated=evaluated, kernel="matlab", backbone_weights="imagenet",
             db_size=227, schedule="full", custom=False)
    r.update(settings)
    return r


def test_only_runs_of_the_tables_settings_fill_cells():
    """A run without ImageNet weights, with the release's multipliers, another
    kernel, a cut schedule or a bigger stored size is never placed in a
    paper cell; each is listed with what kept it out."""
    good = _record("/r/good", ours=52.0)
    bad = [_record("/r/bw", backbone_weights="none", ours=10.0, evaluated=9),
           _record("/r/mults", mults="release", ours=11.0, evaluated=9),
           _record("/r/kernel", kernel="opencv", ours=12.0, evaluated=9),
           _record("/r/iters", schedule="iters=4", ours=13.0, evaluated=9),
           _record("/r/size", db_size=256, ours=14.0, evaluated=9),
           _record("/r/auth", sr_weights="authors", ours=15.0, evaluated=9),
           _record("/r/jpeg", jpeg_quality=75, ours=16.0, evaluated=9)]
    cells, used = report_cells.paper_rows([good] + bad)
    filled = [c for c in cells if c["ours"] is not None]
    assert {(c["table"], c["ours"]) for c in filled} == {("Table II", 52.0), ("Table III", 52.0)}
    assert all(c["also"] == [] for c in filled)
    others = report_cells.other_rows([good] + bad, used)
    assert [o["run"] for o in others] == [b["run"] for b in bad]
    why = {o["run"]: report_cells.not_placed(o) for o in others}
    assert why == {"/r/bw": "backbone weights none (tables: ImageNet)",
                   "/r/mults": "mults release (tables: paper)",
                   "/r/kernel": "kernel opencv (tables: matlab)",
                   "/r/iters": "schedule iters=4 (tables: the release's)",
                   "/r/size": "db_size 256 (tables: 227)",
                   "/r/auth": "sr_weights authors (tables: pretrain)",
                   "/r/jpeg": "LR images through JPEG q75 (tables: raw pixels)"}
    # a CNN's cell does not depend on p-RACNN's SR weights
    cnn = _record("/r/auth", variant="cnn", sr_weights="authors", ours=40.0)
    cells, used = report_cells.paper_rows([cnn])
    assert [c["ours"] for c in cells if c["variant"] == "cnn" and c["table"] == "Table II"
            and c["dataset"] == "birds" and c["backbone"] == "alexnet"] == [40.0]
    # another reading fills the tables with the release's multipliers instead
    cells, used = report_cells.paper_rows([good] + bad, keying.reading(mults="release"))
    assert {c["ours"] for c in cells if c["ours"] is not None} == {11.0}
    text = markdown.paper_tables(cells, report_cells.other_rows([good] + bad, used), "/r",
                           reading=keying.reading(mults="release"))
    assert "Filled only by runs with multipliers `release`, p-RACNN SR weights `pretrain`, " \
        "kernel `matlab`, ImageNet backbone weights" in text
    assert text.count("Filled only by runs with") == 3               # each table says it


def test_two_matching_runs_of_one_cell_are_both_shown(tmp_path):
    older, newer = _record("/r/a", ours=50.0, evaluated=1), _record("/r/b", ours=53.0,
                                                                    evaluated=2)
    cells, used = report_cells.paper_rows([older, newer])
    cell = [c for c in cells if c["table"] == "Table II" and c["variant"] == "racnn_p"
            and c["dataset"] == "birds" and c["backbone"] == "alexnet"][0]
    assert (cell["ours"], cell["run"], cell["runs"]) == (53.0, "/r/b", 2)
    assert [(a["ours"], a["run"]) for a in cell["also"]] == [(50.0, "/r/a")]
    assert report_cells.other_rows([older, newer], used) == []
    text = markdown.paper_tables(cells, [], "/r")
    row = [l for l in text.splitlines() if l.startswith("| p-RACNN AlexNet |")][0]
    assert "| 51.23 | 53.00 / 50.00 | +1.77 / -1.23 |" in row
    path = write.write_csv(cells, [], str(tmp_path / "r.csv"))
    with open(path) as fh:
        rows = [x for x in csv.DictReader(fh) if x["table"] == "Table II"
                and x["variant"] == "racnn_p" and x["dataset"] == "birds"
                and x["backbone"] == "alexnet"]
    assert [(x["ours"], x["run"], x["runs"]) for x in rows] == [
        ("53.0000", "/r/b", "2"), ("50.0000", "/r/a", "2")]
    assert rows[0]["backbone_weights"] == "imagenet" and rows[0]["schedule"] == "full"


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
