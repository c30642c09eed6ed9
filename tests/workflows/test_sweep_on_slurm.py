"""A sweep of two cheap runs on a real one-node Slurm cluster
(racnn.sweep.cluster: Debian's slurm-wlm and munge, no systemd, no
cgroups), started inside the test environment, as one array task per run
(--jobs run): both tasks wait for the database they share; a task cancelled
is the only one a resubmission sends.  (The default, the graph of jobs, with
a failed dependency's orphans and their resubmission: the demo grid on two
nodes, test_sweep_on_two_node_slurm.py.)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from racnn import locks, vocab
from racnn.datasets import synthetic
from racnn.rundir import settings as experiment
from racnn.inputs import databases as inputs
from racnn.paths import REPO
from racnn.sweep import cluster as cluster_mod

SMOKE_CNN = "variants=[\"cnn\"]"


def _sh(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw)


@pytest.fixture(scope="module")
def cluster():
    """A one-node Slurm cluster (racnn.sweep.cluster: the machine's host
    name on 127.0.0.1, every file under a temporary folder); SLURM_CONF
    points the client commands at it.  Stopped afterwards."""
    reason = cluster_mod.install(nodes=1)
    if reason:
        pytest.skip(reason)
    # not under pytest's tmp_path: its parents are private to root, and
    # munged (the munge user) must reach its key, socket and log
    top = tempfile.mkdtemp(prefix="racnn-slurm-", dir="/tmp")
    c = cluster_mod.Cluster(top, nodes=1)
    c.start()
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(c.conf)
    try:
        yield c
    finally:
        c.stop()
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old
        shutil.rmtree(top, ignore_errors=True)


def _wait(predicate, what, timeout):
    return cluster_mod.wait_for(predicate, what, timeout)


def _sweep(env, *args):
    r = _sh([sys.executable, "tools/sweep.py"] + list(args), cwd=REPO, env=env)
    return r


def _drained(name):
    return lambda: _sh(["squeue", "-h", "--name", name]).stdout.strip() == ""


def _job(out):
    line = [l for l in out.splitlines() if l.startswith("submitted job ")]
    assert line, out
    return line[0].split()[2].rstrip(":"), line[0]


def _states(env, folder):
    r = _sweep(env, "status", folder)
    assert r.returncode == 0, r.stdout
    rows = {}
    for line in r.stdout.splitlines()[2:]:
        parts = line.split()
        if parts and parts[0].isdigit():
            rows[int(parts[0])] = " ".join(parts[2:4]) if parts[2] == "not" else parts[2]
    return rows


def _pair(tmp_path, *extra):
    """(env, the sweep's arguments, its folder): two SMOKE runs of the CNN
    alone (backbone_hr, cnn) on a small synthetic dataset that differ only
    in the multiplier reading, so they read the same databases."""
    data = str(tmp_path / "syn")
    synthetic.generate(data, num_classes=4, train_per_class=6, test_per_class=4, seed=0)
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    args = ["pair", "--dataset", "synthetic", "--backbone", "tiny", "--mults", "paper,release",
            "--smoke", "--set", SMOKE_CNN, "--set", "data_format=\"folder\"",
            "--set", "data_root=\"%s\"" % data] + list(extra)
    return env, args, str(tmp_path / "runs" / "sweeps" / "pair"), data


def test_array_tasks_wait_for_one_database_and_a_cancelled_task_is_resubmitted(cluster,
                                                                              tmp_path):
    """``--jobs run``: one array task per run, its stages in sequence.  Two
    runs that need the same database both wait for its lock (the test holds
    it); one task cancelled while it waits is the only one a resubmission
    sends; each task's output carries the real job id."""
    env, sweep, folder, data = _pair(tmp_path, "--no-prepare", "--jobs", "run")
    # the two runs differ only in the multiplier reading: the same databases
    cfg = experiment.make_config("synthetic", "tiny", smoke=True, data_format="folder",
                                 data_root=data)
    root = os.path.join(env["RACNN_DATA"], "lmdb", os.path.basename(inputs.db_root(cfg)))
    db = vocab.db_path("", "train", cfg["res"], cfg["db_size"], cfg["kernel"], root=root)
    lock = locks.lock_path_beside(db)
    with locks.hold(lock, "database %s (held by the test)" % db):
        r = _sweep(env, "submit", *sweep)
        assert r.returncode == 0, r.stdout
        job, line = _job(r.stdout)
        assert line.endswith(": 2 task(s) (0,1)"), line
        with open(os.path.join(folder, "plan.json")) as fh:
            plan = json.load(fh)
        outs = []
        for run in plan["runs"]:
            # <run>.slurm-<job>_<task>.out: the real job id (not "local")
            out = "%s.slurm-%s_%d.out" % (run["run_dir"], job, run["index"])

            def waiting(out=out):
                return os.path.isfile(out) and "waiting for database %s" % db in open(out).read()
            _wait(waiting, "%s to wait for the database" % run["name"], 120)
            outs.append(out)
        assert not os.path.exists(db)             # nobody built it under our lock
        r = _sh(["scancel", "%s_1" % job])
        assert r.returncode == 0, r.stdout
    _wait(_drained("racnn-pair"), "the array to end", 600)
    states = _states(env, folder)
    assert states[0] == "finished" and states[1] in ("incomplete", "not started"), states
    r = _sweep(env, "status", folder)
    assert "Slurm %s_1: CANCELLED" % job in r.stdout, r.stdout
    texts = [open(p).read() for p in outs]
    assert all("held by pid %d" % os.getpid() in t for t in texts)
    assert "run folder: %s" % plan["runs"][0]["run_dir"] in texts[0]
    with open(os.path.join(db, "manifest.json")) as fh:
        assert json.load(fh)["count"] == 24          # 4 classes x 6
    assert not [n for n in os.listdir(os.path.dirname(db)) if n.endswith(".partial")]
    # a resubmission sends only the cancelled run
    r = _sweep(env, "submit", *sweep)
    assert r.returncode == 0, r.stdout
    job2, line = _job(r.stdout)
    assert line.endswith(": 1 task(s) (1)") and job2 != job, line
    _wait(_drained("racnn-pair"), "the resubmitted task to end", 600)
    assert set(_states(env, folder).values()) == {"finished"}
    assert os.path.isfile("%s.slurm-%s_1.out" % (plan["runs"][1]["run_dir"], job2))
    r = _sweep(env, "submit", *sweep)
    assert r.returncode == 0 and "nothing to submit" in r.stdout, r.stdout
