"""Sweeps without Slurm: plans of the paper's grids, run names that keep
settings apart, the sbatch script, and the local scheduler running real
SMOKE experiments one after another past a failing one.  (The Slurm
scheduler on a real cluster: tests/test_sweep_slurm.py.)"""
import json
import os
import subprocess
import sys

import pytest

from racnn.datasets import synthetic
from racnn.rundir import settings as config
from racnn.rundir.results import final_results
from racnn.paths import REPO
from racnn.sweep import backend, grids, plan as plan_mod, slurm


def _sweep(env, *args):
    return subprocess.run([sys.executable, "tools/sweep.py"] + list(args), cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def _env(tmp_path):
    return dict(os.environ, RACNN_DATA=str(tmp_path / "data"),
                RACNN_RUNS=str(tmp_path / "runs"))


def test_table2_plan_dry_run_writes_nothing(tmp_path):
    env = _env(tmp_path)
    r = _sweep(env, "plan", "table2", "--dry-run")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout[:r.stdout.index("\nsweep table2:")])
    names = [x["name"] for x in plan["runs"]]
    assert names == ["%s-%s-r50-frozen-paper" % (ds, bb) for bb in ("alexnet", "vgg16",
                                                                     "googlenet")
                     for ds in ("cars", "birds", "flowers")]
    for x in plan["runs"]:
        assert x["command"][:4] == ["python3", "tools/experiment.py", x["dataset"],
                                    x["backbone"]]
        assert x["run_dir"] == os.path.join(env["RACNN_RUNS"], x["name"])
        assert x["variants"] == ["cnn", "racnn_g", "racnn_p"]
        assert x["stages"] == ["stage1_sr", "cnn", "racnn_g", "racnn_p"]
        assert "mode=\"frozen\"" in x["command"] and "res=50" in x["command"]
    assert "sweep table2: 9 run(s) (grid table2)" in r.stdout
    assert not os.path.exists(env["RACNN_RUNS"])              # a dry run writes nothing


def test_grids_all_holds_each_run_once():
    runs = plan_mod.expand(grids.grid("all"))
    names = [r["name"] for r in runs]
    assert len(names) == len(set(names)) == 9 + 2 + 2       # Table III's r=50 is Table II's
    assert {"birds-alexnet-r25-frozen-paper", "birds-alexnet-r100-frozen-paper",
            "cars-alexnet-r50-e2e-paper", "birds-alexnet-r50-e2e-paper"} <= set(names)
    fig4 = [r for r in runs if r["name"].endswith("-e2e-paper")]
    assert all(("staged" in r["variants"]) for r in fig4)


def test_a_different_plan_under_one_name_is_refused(tmp_path):
    env = _env(tmp_path)
    r = _sweep(env, "plan", "mine", "--dataset", "cars,birds", "--backbone", "alexnet",
               "--res", "25,50", "--mode", "frozen")
    assert r.returncode == 0, r.stderr
    assert "sweep mine: 4 run(s)" in r.stdout
    folder = os.path.join(env["RACNN_RUNS"], "sweeps", "mine")
    r = _sweep(env, "plan", "mine", "--dataset", "cars", "--backbone", "alexnet")
    assert r.returncode == 2
    assert r.stderr.strip() == (
        "sweep.py: error: sweep folder %s already holds another plan (product --dataset "
        "cars,birds --backbone alexnet --res 25,50 --mode frozen, 4 runs); choose another "
        "--name or remove %s" % (folder, os.path.join(folder, "plan.json")))
    r = _sweep(env, "plan", "nothing", "--dataset", "cars", "--backbone", "resnet")
    assert r.returncode == 2 and "unknown backbone" in r.stderr.lower(), r.stderr


def test_run_names_keep_weights_and_sizes_apart(tmp_path):
    """Issue 15, item 9: two settings that differ only in backbone_weights or
    db_size had the same run folder; default names are unchanged."""
    name = lambda **kw: config.run_name(config.make_config("cars", "alexnet", **kw))  # noqa: E731
    assert name() == "cars-alexnet-r50-e2e-paper"
    assert name(backbone_weights="none") == "cars-alexnet-r50-e2e-paper-bwnone"
    assert name(backbone_weights="hr") == "cars-alexnet-r50-e2e-paper-bwhr"
    assert name(db_size=256) == "cars-alexnet-r50-e2e-paper-s256"
    weights = tmp_path / "my weights.caffemodel"
    with_file = name(backbone_weights=str(weights), smoke=True)
    assert with_file.startswith("cars-alexnet-r50-e2e-paper-bwmy_weights.")
    assert with_file.endswith("-smoke")
    other = name(backbone_weights=str(tmp_path / "x" / "my weights.caffemodel"), smoke=True)
    assert other != with_file                       # same file name, another file
    tiny = lambda **kw: config.run_name(config.make_config(  # noqa: E731
        "syn", "tiny", data_format="folder", data_root=str(tmp_path), **kw))
    assert tiny() == "syn-tiny-r50-e2e-paper"        # tiny's defaults: hr, 72
    assert tiny(backbone_weights="none", db_size=96) == "syn-tiny-r50-e2e-paper-bwnone-s96"


def test_sbatch_script_and_entries(tmp_path):
    runs = plan_mod.expand(grids.grid("table3"))
    plan = {"sweep": "table3", "runs": runs}
    knobs = {"partition": "gpu", "gres": "gpu:1", "time": "2-00:00:00", "cpus_per_task": 8,
             "mem": "32G", "account": "lab"}
    text = slurm.script(plan, str(tmp_path), knobs, ["--qos=long"], backend.prefix("rootfs"), "0")
    lines = text.splitlines()
    for want in ("#SBATCH --job-name=racnn-table3", "#SBATCH --partition=gpu",
                 "#SBATCH --gres=gpu:1", "#SBATCH --time=2-00:00:00",
                 "#SBATCH --cpus-per-task=8", "#SBATCH --mem=32G", "#SBATCH --account=lab",
                 "#SBATCH --qos=long",
                 "#SBATCH --output=%s" % os.path.join(str(tmp_path), "slurm", "%A_%a.out")):
        assert want in lines
    assert lines[-1] == ("exec env RACNN_BACKEND=rootfs %s/docker/run python3 tools/sweep.py "
                         "task %s \"$SLURM_ARRAY_TASK_ID\" --gpu 0" % (REPO, tmp_path))
    r = subprocess.run(["bash", "-n"], input=text, universal_newlines=True)
    assert r.returncode == 0
    sif = tmp_path / "racnn.sif"
    with pytest.raises(Exception, match="needs --sif"):
        backend.prefix("apptainer")
    with pytest.raises(Exception, match="no such Apptainer image"):
        backend.prefix("apptainer", str(sif))
    sif.write_bytes(b"")
    assert backend.prefix("apptainer", str(sif))[:3] == ["apptainer", "exec", "--nv"]


def test_local_sweep_continues_past_a_failed_run(tmp_path):
    """Two SMOKE runs, one of which cannot work (r = 80 above the stored 72):
    the other still runs, the table names both and their logs, exit 1; a
    second call skips the finished run."""
    env = _env(tmp_path)
    data = str(tmp_path / "syn")
    synthetic.generate(data, num_classes=4, train_per_class=6, test_per_class=4, seed=0)
    args = ["run", "two", "--dataset", "synthetic", "--backbone", "tiny", "--res", "12,80",
            "--smoke", "--set", "variants=[\"cnn\"]", "--set", "data_format=folder",
            "--set", "data_root=%s" % data]
    r = _sweep(env, *args)
    assert r.returncode == 1, r.stdout + r.stderr
    ok = os.path.join(env["RACNN_RUNS"], "synthetic-tiny-r12-e2e-paper-smoke")
    bad = os.path.join(env["RACNN_RUNS"], "synthetic-tiny-r80-e2e-paper-smoke")
    table = r.stdout[r.stdout.index("#    run"):].splitlines()
    assert table[1].split() == ["0", os.path.basename(ok), "finished", ok + ".sweep.log"]
    assert table[2].split()[:4] == ["1", os.path.basename(bad), "failed", bad + ".sweep.log"]
    assert "resolution must be 1..size (72), got 80" in table[3]
    assert "cannot prepare: resolution must be 1..size (72), got 80" in r.stdout
    assert "cnn" in final_results(ok)            # the final model evaluated
    with open(os.path.join(ok, "config.json")) as fh:
        assert "results" not in json.load(fh)      # results live in <stage>/eval only
    r = _sweep(env, *args)
    assert r.returncode == 1
    assert "[sweep 1/2] %s: finished, skipped" % os.path.basename(ok) in r.stdout
    r = _sweep(env, "status", "two")
    assert r.returncode == 0
    states = [l.split()[2] for l in r.stdout.splitlines()[2:4]]
    assert states == ["finished", "not"]             # not started: its data check failed
    assert not os.path.exists(bad)                   # ... before any run folder existed


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


def test_report_of_a_sweep_without_runs_is_an_error(tmp_path):
    """Not a report of every run under runs/ (racnn.report's default)."""
    env = _env(tmp_path)
    r = _sweep(env, "report", "table3")
    folder = os.path.join(env["RACNN_RUNS"], "sweeps", "table3")
    assert r.returncode == 2
    assert r.stderr.strip() == ("sweep.py: error: no run of sweep table3 has a run folder yet "
                                "(tools/sweep.py status %s)" % folder)
