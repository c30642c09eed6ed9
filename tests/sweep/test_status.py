"""A sweep and a same-named run folder made with other settings (a demo run
with another data_root and other variants, say): the sweep neither counts
it as finished nor trains into it; run, submit and status name the
differences, the sweep's report leaves it out."""
import json
import os
import subprocess
import sys

from racnn.paths import REPO
from racnn.rundir import settings
from racnn.sweep import status as st

ARGS = ["--dataset", "synthetic", "--backbone", "tiny", "--res", "12", "--smoke",
        "--set", "variants=[\"cnn\"]", "--set", "data_format=folder"]


def _sweep(env, *args):
    return subprocess.run([sys.executable, "tools/sweep.py"] + list(args), cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def _other_folder(tmp_path, trained=True):
    """The folder a demo-like run with another data root and variants made."""
    other = settings.make_config("synthetic", "tiny", smoke=True, res=12, data_format="folder",
                                 data_root=str(tmp_path / "data-smoke"),
                                 variants=["cnn", "racnn_g"])
    run = tmp_path / "runs" / settings.run_name(other)
    (run / "cnn").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(other))
    if trained:
        (run / "cnn" / "train.log").write_text("I1201 00:00:00.000000 1 solver.cpp] Iteration 0\n")
    return str(run)


def test_a_folder_with_other_settings_stops_the_sweep_and_is_named(tmp_path):
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    run = _other_folder(tmp_path)
    args = ARGS + ["--set", "data_root=%s" % (tmp_path / "data-sweep")]
    r = _sweep(env, "run", "mine", *args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "1 run folder(s) of this sweep were made with other settings" in r.stderr
    assert "%s: variants: ['cnn', 'racnn_g'] -> ['cnn']; data_root: '%s' -> '%s'" % (
        os.path.basename(run), tmp_path / "data-smoke", tmp_path / "data-sweep") in r.stderr
    assert "--runs-dir" in r.stderr
    assert not os.path.exists(os.path.join(run, "cnn", "DONE"))       # nothing trained into it
    s = _sweep(env, "status", "mine")
    assert s.returncode == 0, s.stderr
    line = [l for l in s.stdout.splitlines() if os.path.basename(run) in l][0]
    assert "other settings" in line and "data_root" in line and "finished" not in line
    rep = _sweep(env, "report", "mine", "--backend", "none")
    assert rep.returncode == 2 and "was made with other settings" in rep.stderr


def test_a_folder_where_nothing_was_trained_takes_the_plans_settings(tmp_path):
    run = _other_folder(tmp_path, trained=False)
    plan = {"index": 0, "name": os.path.basename(run), "run_dir": run, "dataset": "synthetic",
            "backbone": "tiny", "smoke": True, "variants": ["cnn"],
            "settings": {"res": 12, "variants": ["cnn"], "data_format": "folder",
                         "data_root": str(tmp_path / "data-sweep")}}
    assert st.other_settings(plan) == []
    assert st.state(plan)[0] == st.INCOMPLETE
