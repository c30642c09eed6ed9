"""racnn.report.table_i: Table I beside the paper's ratios, tools/time_nets.py
and the seconds per epoch from training logs, and where `make timing` writes
it for the report to link."""
import csv
import json
import os
import subprocess
import sys

import pytest

from racnn import paper, vocab
from racnn.errors import RacnnError
from racnn.report import caffe_time, table_i
from tests.support import evalkit as kit


def test_paper_ratio_and_errors():
    assert table_i.table_rows({}) == []
    rows = table_i.table_rows({("alexnet", False): dict(forward_backward_ms=100.0, batch_size=8),
                              ("alexnet", True): dict(forward_backward_ms=1000.0,
                                                      batch_size=8)})
    assert rows[1]["paper_ratio"] == pytest.approx(80 / 8.0) and rows[1]["ours_ratio"] == 10
    assert paper.table_i_ratio("vgg16", "cars") == pytest.approx(356 / 133.0)
    with pytest.raises(RacnnError, match="no averages"):
        caffe_time.parse_caffe_time("F0101 check failed\n")
    with pytest.raises(RacnnError, match="unknown backbone"):
        table_i.check_backbones(["resnet"])


def test_time_nets_tool_and_logs(tmp_path):
    run = kit.make_run(tmp_path / "runs", "x", {"dataset": "birds", "backbone": "tiny",
                                                "mode": "e2e",
                                                "stages": {"cnn": {"batch_size": 4,
                                                                   "images": 24}}})
    out = str(tmp_path / "timing")
    r = subprocess.run([sys.executable, os.path.join(kit.REPO, "tools", "time_nets.py"),
                        "--backbones", "tiny", "--iterations", "1", "--out", out,
                        "--batch-size", "4", "--runs", str(tmp_path / "runs")],
                       capture_output=True, text=True, cwd=kit.REPO)
    assert r.returncode == 0, r.stderr
    timed = json.load(open(os.path.join(out, "timing.json")))
    raw = {t["racnn"]: t for t in timed if not t.get("stage")}
    assert set(raw) == {False, True} and all(t["batch_size"] == 4 for t in raw.values())
    # stage 1's net too (the sweep's cost estimate reads it)
    stage1 = [t for t in timed if t.get("stage") == "stage1_sr"]
    assert len(stage1) == 1 and stage1[0]["forward_backward_ms"] > 0
    md = open(os.path.join(out, "timing.md")).read()
    assert "ours ratio" in md and "paper ratio" in md
    # the table's numbers are the measured ones: s/epoch = ms/iteration x ceil(images / 4)
    with open(os.path.join(out, "timing.csv")) as fh:
        rows = {r["dataset"]: r for r in csv.DictReader(fh)}
    for ds in vocab.DATASETS:
        steps = -(-vocab.dataset_spec(ds).train_count // 4)
        cnn = raw[False]["forward_backward_ms"] / 1000 * steps
        rac = raw[True]["forward_backward_ms"] / 1000 * steps
        assert float(rows[ds]["ours_cnn"]) == pytest.approx(cnn, rel=1e-3)
        assert float(rows[ds]["ours_ratio"]) == pytest.approx(rac / cnn, rel=1e-3)
        assert "| %s | Tiny (CPU demo) | %.1f | %.1f | %.2f |" % (ds, cnn, rac, rac / cnn) in md
    logs = open(os.path.join(out, "from_logs.csv")).read().splitlines()
    assert len(logs) == 2 and logs[1].startswith("birds,tiny,cnn,e2e,")
    spe = table_i.from_run(run)[0]
    assert spe["seconds_per_epoch"] == pytest.approx(spe["seconds_per_iteration"] * 6)


def test_report_links_table_i_where_make_timing_writes_it(tmp_path):
    """`make timing` writes runs/timing/timing.md; `make report` (runs/report)
    links it, or says how to make it."""
    env = dict(os.environ, RACNN_RUNS=str(tmp_path / "runs"))
    (tmp_path / "runs").mkdir()

    def report():
        r = subprocess.run([sys.executable, "-m", "racnn.report", str(tmp_path / "runs"),
                            "--out", str(tmp_path / "runs" / "report")], cwd=kit.REPO, env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return (tmp_path / "runs" / "report" / "report.md").read_text()
    assert "Not measured yet: `make timing` writes runs/timing/timing.md" in report()
    (tmp_path / "runs" / "timing").mkdir()
    (tmp_path / "runs" / "timing" / "timing.md").write_text("# Table I\n")
    assert "## Table I: training time per epoch" in report()
    assert "[../timing/timing.md](../timing/timing.md)" in report()
    dry = subprocess.run(["make", "-n", "timing"], cwd=kit.REPO, capture_output=True, text=True)
    assert "tools/time_nets.py --runs runs --out runs/timing" in dry.stdout
