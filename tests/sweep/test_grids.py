"""racnn.sweep.grids: the paper's grids hold each run once; the demo grid
plans the demo's own settings without numpy or the driver; table2 and
table2-release run the two readings prototxt/README.md lists."""
import json
import os
import re
import subprocess
import sys

import pytest

from racnn.paths import REPO
from racnn.sweep import grids, plan as plan_mod


def test_grids_all_holds_each_run_once():
    runs = plan_mod.expand(grids.grid("all"))
    names = [r["name"] for r in runs]
    assert len(names) == len(set(names)) == 9 + 2 + 2       # Table III's r=50 is Table II's
    assert {"birds-alexnet-r25-frozen-paper", "birds-alexnet-r100-frozen-paper",
            "cars-alexnet-r50-e2e-paper", "birds-alexnet-r50-e2e-paper"} <= set(names)
    fig4 = [r for r in runs if r["name"].endswith("-e2e-paper")]
    assert all(("staged" in r["variants"]) for r in fig4)


def test_demo_grid_plans_the_demo_settings_without_numpy_or_the_driver():
    """The sweep tool runs on hosts without numpy/pycaffe: planning the demo
    grid imports neither (racnn.demo.settings is plain data) and
    plans the demo's own settings (racnn.demo runs the same dictionary)."""
    from racnn.demo import run as demo
    from racnn.demo import settings as demo_settings
    assert demo.CONFIG is demo_settings.CONFIG
    code = ("import sys, json; [sys.modules.__setitem__(m, None) for m in "
            "('numpy', 'caffe', 'racnn.demo.run', 'racnn.train.driver')]; "
            "sys.path.insert(0, %r); from racnn.sweep import grids; "
            "print(json.dumps([p['settings'] for p in grids.demo()]))" % REPO)
    out = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    planned = json.loads(out)
    assert [p["res"] for p in planned] == list(grids.DEMO_RES)
    for p in planned:
        for key in ("db_size", "sr_size", "mode", "mults"):
            assert p[key] == demo.CONFIG[key]


def _readme_table2():
    """prototxt/README.md's "Which file is which row of Table II": {row title:
    (paper cell, release cell)}."""
    with open(os.path.join(REPO, "prototxt", "README.md")) as fh:
        text = fh.read().split("## Which file is which row of Table II", 1)[1].split("\n## ")[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("|") and "---" not in line]
    assert rows[0][1:] == ["`paper` reading (the default)", "`release` reading"]
    return {r[0]: tuple(r[1:]) for r in rows[1:]}


def test_table2_and_table2_release_run_the_files_prototxt_readme_names():
    """grids.table2() planned the paper's reading while prototxt/README.md
    named the `*_frozen_release_*` files as Table II's (issue 21, item 2):
    each named grid says which reading it runs, and each of the README's two
    columns -- the files, g-RACNN's start, stage 2's length, the sweep and
    report commands -- is what that grid's runs train and the report reads."""
    from racnn.rundir import keying, settings
    from racnn.train.net_sources import classifier_sources
    table = _readme_table2()
    rows = {"cnn": "AlexNet / VGG-16 / GoogLeNet", "racnn_g": "g-RACNN AlexNet / VGG-16 / "
            "GoogLeNet", "racnn_p": "p-RACNN AlexNet / VGG-16 / GoogLeNet"}
    for column, mults in enumerate(("paper", "release")):
        sweep = re.search(r"make sweep SWEEP=([\w-]+)", table["sweep / report"][column]).group(1)
        report = re.search(r"make report((?: [A-Z_0-9]+=\w+)*)`",
                           table["sweep / report"][column]).group(1).split()
        reading = keying.reading(**{k.lower(): v for k, v in (kv.split("=") for kv in report)})
        runs = plan_mod.expand(grids.grid(sweep))
        assert len(runs) == 9 and reading["mults"] == mults, sweep
        for run in runs:
            cfg = settings.make_config(run["dataset"], run["backbone"], **run["settings"])
            assert (cfg["res"], cfg["mode"], cfg["mults"]) == (50, "frozen", mults)
            # the report of that reading places the grid's runs: the same open settings
            assert {k: cfg[k] for k in keying.READING_KEYS} == reading, run["name"]
            assert ("Gaussian" in table["g-RACNN's SR layers start from"][column]) == (
                cfg["g_sr_init"] == "gaussian")
            assert ("1,000,000" in table["stage 2 trains"][column]) == (
                cfg["stage2_length"] == "notebooks")
            for variant in run["variants"]:
                src = classifier_sources(cfg, variant, None, None)
                assert "`%s`" % os.path.basename(src["train_val"]) == \
                    table[rows[variant]][column], (run["name"], variant)


def test_a_named_sweep_with_seeds_plans_one_run_folder_per_seed():
    """`make sweep SWEEP=table3 SEEDS=1,2,3` handed tools/sweep.py a --seeds
    it did not take (issue 21, claims): each point of the grid becomes one
    run per seed, each in a folder of its own named after the seed, so the
    report can give each cell the seeds' mean and spread."""
    from racnn.errors import RacnnError
    from racnn.sweep import cli
    pts, source = cli.points(cli.parse_args(["plan", "table3-release", "--seeds", "1,2,3"]))
    runs = plan_mod.expand(pts)
    assert len(runs) == 3 * 3 and source == "grid table3-release --seeds 1,2,3"
    assert sorted(r["name"] for r in runs if "-r25-" in r["name"]) == [
        "birds-alexnet-r25-frozen-release-gsr-it1m-seed%d" % s for s in (1, 2, 3)]
    assert all(r["settings"]["mults"] == "release" for r in runs)
    for bad in ("1,1", "x"):
        with pytest.raises(RacnnError, match="--seeds|comma-separated"):
            cli.points(cli.parse_args(["plan", "table3", "--seeds", bad]))
