"""Sweeps on a real one-node Slurm cluster, started inside the test
environment (Debian's slurm-wlm and munge, no systemd, no cgroups; notes in
the fixture): a demo sweep submitted as one job array completes and its
report lists every run; a task killed with scancel is the only one a
resubmission sends; two runs that need the same database wait for its lock.
"""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from racnn import locks, vocab
from racnn.datasets import synthetic
from racnn.rundir import settings as experiment
from racnn.inputs import databases as inputs
from racnn.paths import REPO

PACKAGES = ("slurm-wlm", "munge")
SMOKE_CNN = "variants=[\"cnn\"]"


def _sh(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw)


def _install():
    """Install slurm-wlm and munge for the test when missing; the reason
    when they cannot be."""
    if shutil.which("slurmctld") and shutil.which("munged"):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "slurm-wlm/munge are not installed and this is not root with apt-get"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = _sh(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + list(PACKAGES),
            env=env)
    if r.returncode != 0:
        _sh(["apt-get", "update", "-q"], env=env)
        r = _sh(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + list(PACKAGES),
                env=env)
    if r.returncode != 0:
        return "apt-get could not install %s: %s" % (" ".join(PACKAGES),
                                                    r.stdout.strip().splitlines()[-1:])
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, what, timeout):
    end = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > end:
            raise AssertionError("timed out after %d s waiting for %s" % (timeout, what))
        time.sleep(1)


@pytest.fixture(scope="module")
def cluster():
    """A one-node Slurm cluster on 127.0.0.1: munged as the munge user with a
    fresh key, slurmctld and slurmd as root with proctrack/linuxproc and
    task/none (no cgroups), every file under a temporary folder; SLURM_CONF
    points the client commands at it.  Stopped afterwards."""
    reason = _install()
    if reason:
        pytest.skip(reason)
    # not under pytest's tmp_path: its parents are private to root, and
    # munged (the munge user) must reach its key, socket and log
    top = pathlib.Path(tempfile.mkdtemp(prefix="racnn-slurm-", dir="/tmp"))
    os.chmod(str(top), 0o755)
    host = socket.gethostname()
    munge = top / "munge"
    munge.mkdir()
    key = munge / "munge.key"
    key.write_bytes(os.urandom(1024))
    shutil.chown(str(munge), "munge", "munge")
    shutil.chown(str(key), "munge", "munge")
    os.chmod(str(key), 0o400)
    os.chmod(str(munge), 0o700)
    sock = str(munge / "munge.socket")
    for d in ("state", "spool", "log"):
        (top / d).mkdir()
    cpus = os.cpu_count() or 1
    conf = top / "slurm.conf"
    conf.write_text("\n".join([
        "ClusterName=racnntest",
        "SlurmctldHost=%s(127.0.0.1)" % host,
        "SlurmctldPort=%d" % _free_port(), "SlurmdPort=%d" % _free_port(),
        "SlurmUser=root", "AuthType=auth/munge", "AuthInfo=socket=%s" % sock,
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
        "SchedulerType=sched/backfill", "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core", "ReturnToService=2", "MpiDefault=none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "StateSaveLocation=%s" % (top / "state"), "SlurmdSpoolDir=%s" % (top / "spool"),
        "SlurmctldPidFile=%s" % (top / "slurmctld.pid"),
        "SlurmdPidFile=%s" % (top / "slurmd.pid"),
        "SlurmctldLogFile=%s" % (top / "log" / "slurmctld.log"),
        "SlurmdLogFile=%s" % (top / "log" / "slurmd.log"),
        "MinJobAge=600",
        "NodeName=%s NodeAddr=127.0.0.1 CPUs=%d State=UNKNOWN" % (host, cpus),
        "PartitionName=debug Nodes=%s Default=YES MaxTime=INFINITE State=UP" % host, ""]))
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(conf)
    started = []
    try:
        r = _sh(["setpriv", "--reuid", "munge", "--regid", "munge", "--clear-groups",
                 "munged", "--force", "--key-file", str(key), "--socket", sock,
                 "--pid-file", str(munge / "munged.pid"), "--log-file", str(munge / "log"),
                 "--seed-file", str(munge / "seed")])
        assert r.returncode == 0, "munged: %s" % r.stdout
        started.append(munge / "munged.pid")
        for argv, pid in ((["slurmctld"], "slurmctld.pid"), (["slurmd", "-N", host], "slurmd.pid")):
            r = _sh(argv)
            assert r.returncode == 0, "%s: %s" % (argv[0], r.stdout)
            started.append(top / pid)
        _wait(lambda: _sh(["sinfo", "-h", "-o", "%T"]).stdout.strip() in ("idle", "mixed"),
              "the node to be idle (logs: %s)" % (top / "log"), 60)
        yield top
    finally:
        for pidfile in reversed(started):
            try:
                os.kill(int(pidfile.read_text().split()[0]), signal.SIGTERM)
            except (OSError, ValueError, IndexError):
                pass
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old
        time.sleep(1)
        shutil.rmtree(str(top), ignore_errors=True)


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


def test_demo_sweep_scancel_and_resubmit(cluster, tmp_path):
    start = time.time()
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    make = ["make", "-s", "sweep", "SWEEP=demo", "SCHEDULER=slurm", "PARTITION=debug",
            "TIME=00:20:00", "SWEEP_PY=%s" % sys.executable]
    r = _sh(make, cwd=REPO, env=env)
    assert r.returncode == 0, r.stdout
    job, line = _job(r.stdout)
    assert line.endswith(": 3 task(s) (0,1,2)")
    folder = str(tmp_path / "runs" / "sweeps" / "demo")
    with open(os.path.join(folder, "plan.json")) as fh:
        plan = json.load(fh)
    assert [x["name"] for x in plan["runs"]] == [
        "synthetic-tiny-r%d-frozen-release-smoke" % r_ for r_ in (12, 16, 24)]
    # scancel one task of the array (pending or already running)
    r = _sh(["scancel", "%s_1" % job])
    assert r.returncode == 0, r.stdout
    _wait(_drained("racnn-demo"), "the array to end", 600)
    states = _states(env, folder)
    assert states[0] == states[2] == "finished", states
    assert states[1] in ("incomplete", "not started"), states
    # how it ended, as far as Slurm knows: a task cancelled while still pending
    # inside the array's record leaves no record of its own
    r = _sweep(env, "status", folder)
    assert "Slurm %s_1: CANCELLED" % job in r.stdout or \
        "Slurm %s_1: left the queue" % job in r.stdout, r.stdout
    # a resubmission sends only the cancelled run
    r = _sh(make, cwd=REPO, env=env)
    assert r.returncode == 0, r.stdout
    job2, line = _job(r.stdout)
    assert line.endswith(": 1 task(s) (1)") and job2 != job
    _wait(_drained("racnn-demo"), "the resubmitted task to end", 600)
    assert set(_states(env, folder).values()) == {"finished"}
    # Slurm output beside each run folder: the experiment's own lines
    for run in plan["runs"]:
        outs = [n for n in os.listdir(os.path.dirname(run["run_dir"]))
                if n.startswith(run["name"] + ".slurm-")]
        assert outs, run["name"]
        text = open(os.path.join(os.path.dirname(run["run_dir"]), sorted(outs)[-1])).read()
        assert "run folder: %s" % run["run_dir"] in text
    # nothing to do now
    r = _sweep(env, "submit", "demo", "--partition", "debug")
    assert r.returncode == 0 and "nothing to submit" in r.stdout, r.stdout
    # the report lists every run
    r = _sweep(env, "report", folder)
    assert r.returncode == 0, r.stdout
    with open(os.path.join(folder, "report", "results.csv")) as fh:
        text = fh.read()
    for run in plan["runs"]:
        assert run["run_dir"] in text
    print("demo sweep on Slurm (3 runs, one cancelled and resubmitted): %.0f s"
          % (time.time() - start))


def test_two_tasks_needing_one_database_wait_for_its_lock(cluster, tmp_path):
    data = str(tmp_path / "syn")
    synthetic.generate(data, num_classes=4, train_per_class=6, test_per_class=4, seed=0)
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    settings = ["--set", SMOKE_CNN, "--set", "data_format=\"folder\"",
                "--set", "data_root=\"%s\"" % data]
    # the two runs differ only in the multiplier reading: the same databases
    cfg = experiment.make_config("synthetic", "tiny", smoke=True, data_format="folder",
                                 data_root=data)
    root = os.path.join(env["RACNN_DATA"], "lmdb", os.path.basename(inputs.db_root(cfg)))
    db = vocab.db_path("", "train", cfg["res"], cfg["db_size"], cfg["kernel"], root=root)
    lock = locks.lock_path_beside(db)
    with locks.hold(lock, "database %s (held by the test)" % db):
        r = _sweep(env, "submit", "pair", "--dataset", "synthetic", "--backbone", "tiny",
                   "--mults", "paper,release", "--smoke", "--no-prepare", *settings)
        assert r.returncode == 0, r.stdout
        folder = str(tmp_path / "runs" / "sweeps" / "pair")
        with open(os.path.join(folder, "plan.json")) as fh:
            plan = json.load(fh)
        outs = []
        for run in plan["runs"]:
            def waiting(run=run):
                for n in os.listdir(os.path.dirname(run["run_dir"])):
                    if n.startswith(run["name"] + ".slurm-"):
                        text = open(os.path.join(os.path.dirname(run["run_dir"]), n)).read()
                        if "waiting for database %s" % db in text:
                            return os.path.join(os.path.dirname(run["run_dir"]), n)
                return None
            outs.append(_wait(waiting, "%s to wait for the database" % run["name"], 120))
        assert not os.path.exists(db)             # nobody built it under our lock
    _wait(_drained("racnn-pair"), "both tasks to end", 600)
    assert set(_states(env, folder).values()) == {"finished"}
    texts = [open(p).read() for p in outs]
    assert all("held by pid %d" % os.getpid() in t for t in texts)
    with open(os.path.join(db, "manifest.json")) as fh:
        assert json.load(fh)["count"] == 24          # 4 classes x 6
    assert not [n for n in os.listdir(os.path.dirname(db)) if n.endswith(".partial")]

