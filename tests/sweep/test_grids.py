"""racnn.sweep.grids: the paper's grids hold each run once; the demo grid
plans the demo's own settings without numpy or the driver."""
import json
import subprocess
import sys

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
