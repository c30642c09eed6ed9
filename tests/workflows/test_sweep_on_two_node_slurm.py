"""The demo grid on a real two-node Slurm cluster (racnn.sweep.cluster: a
slurmctld and two slurmd with the host names node1 and node2, each in a
network and UTS namespace the cluster makes, veth pairs on a private bridge,
one munge key, this machine's file system shared), submitted as the graph of
jobs: one stage-1 model for the three runs, the classifier jobs of a run on
both nodes, a database built once while jobs on both nodes wait on its lock,
one job cancelled and resubmitted alone, the report job at the end.  Then
the same grid as one array task per run (``--jobs run``) against one job per
stage, both from scratch on the same cluster: their wall times are printed,
not asserted (on two 1-CPU nodes the graph's gain is bounded by the slots).
That comparison is two more demo grids (about 4 minutes on 2 cores): `make
slurm-timing` (RACNN_SLURM_TIMING=1) runs it, a plain `make test` skips it.

Skipped, with the reason, where root, Slurm's packages or network
namespaces cannot be had."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from racnn import locks
from racnn.paths import REPO
from racnn.sweep import cluster as cluster_mod

DEMO = "racnn-demo"
#: the first line a graph job writes into its output (racnn.sweep.slurm)
JOB_LINE = re.compile(r"^\[sweep\] job (\S+) on (\S+) at ", re.M)


@pytest.fixture(scope="module")
def cluster():
    reason = cluster_mod.install(nodes=2) or cluster_mod.namespaces_reason()
    if reason:
        pytest.skip("no two-node Slurm cluster here: %s" % reason)
    # not under pytest's tmp_path: its parents are private to root, and
    # munged (the munge user) must reach its key and socket
    top = tempfile.mkdtemp(prefix="racnn-slurm2-", dir="/tmp")
    c = cluster_mod.Cluster(top, nodes=2, cpus=1)
    c.start()
    try:
        yield c
    finally:
        c.stop()
        shutil.rmtree(top, ignore_errors=True)


def _env(c, tmp_path, runs, data="data"):
    return dict(c.env, RACNN_DATA=str(tmp_path / data), RACNN_RUNS=str(tmp_path / runs))


def _sweep(c, env, *args):
    """tools/sweep.py in the controller's namespace (sbatch reaches it)."""
    return c.run([sys.executable, "tools/sweep.py"] + list(args), cwd=REPO, env=env)


def _submit(c, env, *extra):
    return _sweep(c, env, "submit", "demo", "--partition", "debug", "--time", "00:20:00",
                  *extra)


def _drain(c, what, timeout=900):
    cluster_mod.wait_for(lambda: c.run(["squeue", "-h", "--name", DEMO]).stdout.strip() == "",
                         what, timeout)


def _python(env, code, *args):
    r = subprocess.run([sys.executable, "-c", code] + list(args), cwd=REPO, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert r.returncode == 0, r.stdout
    return r.stdout.strip()


def _demo_data(env):
    """The demo's synthetic dataset, written as the sweep's prepare step does
    (the graph below is submitted with --no-prepare: its jobs build the
    databases)."""
    _python(env, "from racnn.datasets import synthetic; from racnn.demo import settings; "
            "from racnn.sweep import grids; "
            "synthetic.generate(grids.demo_data_dir(), **settings.DATASET_SMOKE)")


def _hr_train_db(env, folder):
    """The HR training database every run's backbone_hr reads."""
    return _python(env, "import sys; from racnn import vocab; from racnn.sweep import "
                   "plan; from racnn.inputs.databases import db_root; "
                   "c = plan.config(plan.read(sys.argv[1])['runs'][0]); "
                   "print(vocab.db_path('', 'train', c['db_size'], c['db_size'], c['kernel'], "
                   "root=db_root(c)))", folder)


def _graph(folder):
    with open(os.path.join(folder, "plan.json")) as fh:
        plan = json.load(fh)
    code = ("import json, sys; from racnn.sweep import jobs, plan; "
            "print(json.dumps(jobs.build(plan.read(sys.argv[1]), sys.argv[1])))")
    return plan, json.loads(_python(os.environ, code, folder))


def _ids(folder):
    """{job name: its latest Slurm id} from jobs.json."""
    with open(os.path.join(folder, "jobs.json")) as fh:
        out = {}
        for sub in json.load(fh):
            out.update(sub.get("jobs") or {})
    return out


def _outputs(job):
    """The Slurm output files of a graph job: ``<log>.slurm-<id>.out``."""
    base = os.path.basename(job["log"]) + ".slurm-"
    d = os.path.dirname(job["log"])
    return sorted(os.path.join(d, n) for n in os.listdir(d) if n.startswith(base)) \
        if os.path.isdir(d) else []


def _read(path):
    with open(path, errors="replace") as fh:
        return fh.read()


def _states(c, env, folder, names=()):
    """({job name of ``names``: its state}, the whole output) of sweep.py status."""
    r = _sweep(c, env, "status", folder)
    assert r.returncode == 0, r.stdout
    rows = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in names:
            rows[parts[0]] = " ".join(parts[1:3]) if parts[1] == "not" else parts[1]
    return rows, r.stdout


def test_demo_grid_as_a_graph_of_jobs_on_two_nodes(cluster, tmp_path):
    c = cluster
    # progress bars into the jobs' output: the one that builds a database shows its bar
    env = dict(_env(c, tmp_path, "runs"), RACNN_PROGRESS="1")
    _demo_data(env)
    r = _sweep(c, env, "plan", "demo")
    assert r.returncode == 0, r.stdout
    folder = str(tmp_path / "runs" / "sweeps" / "demo")
    plan, graph = _graph(folder)
    jobs = {j["name"]: j for j in graph}
    (sr,) = [j for j in graph if j["stage"] == "stage1_sr"]       # one model, three runs
    assert len(sr["runs"]) == 3
    db = _hr_train_db(env, folder)
    r12, r16, r24 = [run["name"] for run in plan["runs"]]
    # a job cancelled without dependents: it alone is resubmitted; a job
    # cancelled under its dependents: they stay pending for ever (blocked),
    # and the resubmission cancels them and sends the chain again
    victim, broken = "%s:racnn_g" % r24, "%s:backbone_hr" % r16
    orphans = ["%s:%s" % (r16, s) for s in ("cnn", "racnn_g", "racnn_p")]
    start = time.time()
    with locks.hold(locks.lock_path_beside(db), "database %s (held by the test)" % db):
        r = _submit(c, env, "--no-prepare")
        assert r.returncode == 0, r.stdout
        assert "total: %d jobs" % len(graph) in r.stdout, r.stdout        # the cost first
        assert re.search(r"submitted %d job\(s\) \(\d+-\d+; report: \d+\)" % len(graph),
                         r.stdout), r.stdout
        ids = _ids(folder)
        assert c.run(["scancel", ids[victim], ids[broken]]).returncode == 0

        def waiting():
            """The hosts of the backbone_hr jobs that say they wait for the
            database (two: one on each node)."""
            hosts = {}
            for j in graph:
                if j["stage"] == "backbone_hr" and j["name"] != broken:
                    for out in _outputs(j):
                        text = _read(out)
                        if "waiting for database %s" % db in text and JOB_LINE.search(text):
                            hosts[j["name"]] = JOB_LINE.search(text).group(2)
            return hosts if set(hosts.values()) == {"node1", "node2"} else None
        waiters = cluster_mod.wait_for(waiting, "jobs on both nodes to wait for %s" % db, 300)
        assert not os.path.exists(db)             # nobody built it under our lock
        held = time.time() - start
    # everything runs but the orphans, and the report that waits for them
    left = {ids[n] for n in orphans + ["report"]}
    cluster_mod.wait_for(lambda: set(c.run(["squeue", "-h", "--name", DEMO, "-o", "%i"])
                                     .stdout.split()) == left, "the graph to end but for "
                         "the orphans of %s" % broken, 900)
    first = time.time() - start
    rows, out = _states(c, env, folder, jobs)
    assert rows[victim] == rows[broken] == "failed", out
    assert "Slurm %s: CANCELLED" % ids[victim] in out and \
        "Slurm %s: CANCELLED" % ids[broken] in out, out
    for n in orphans:
        assert rows[n] == "blocked", out
    assert "Slurm %s pending for ever: needs %s, which failed (Slurm %s: CANCELLED" % (
        ids[orphans[0]], broken, ids[broken]) in out, out
    assert {n: s for n, s in rows.items() if n not in [victim, broken, "report"] + orphans} \
        == {n: "finished" for n in jobs if n not in [victim, broken, "report"] + orphans}, out
    # every job's output beside its run folder (a stage-1 model: beside its
    # folder), named with its real Slurm job id, its first line naming its node
    hosts = {}
    for name, j in jobs.items():
        if name in [victim, broken, "report"] + orphans:
            continue
        path = "%s.slurm-%s.out" % (j["log"], ids[name])
        assert os.path.isfile(path), (name, _outputs(j))
        hosts[name] = JOB_LINE.search(_read(path)).group(2)
    # the classifier jobs of a run ran on both nodes
    spread = [run for run in (r12, r24)
              if len({hosts[n] for n in hosts if n.startswith(run + ":") and
                      jobs[n]["stage"] in ("cnn", "racnn_g", "racnn_p")}) == 2]
    assert spread, hosts
    # the database: built once, by one of the jobs that waited; the other found it
    with open(os.path.join(db, "manifest.json")) as fh:
        assert json.load(fh)["count"] == 24           # 4 classes x 6
    assert not [n for n in os.listdir(os.path.dirname(db)) if n.endswith(".partial")]
    bar = "train r%s" % re.search(r"train_r(\d+)_", os.path.basename(db)).group(1)
    builders = [n for n in waiters if bar in _read(_outputs(jobs[n])[-1])]
    assert len(builders) == 1, {n: _read(_outputs(jobs[n])[-1])[-2000:] for n in waiters}
    # the stage-1 model trained once, in its shared folder, linked by the runs
    assert len(_outputs(sr)) == 1
    for run in (r12, r24):
        assert os.path.realpath(os.path.join(tmp_path / "runs" / run, "stage1_sr")) == \
            os.path.realpath(sr["model"])
    # the resubmission: the cancelled leaf alone; the broken chain; the report
    r = _submit(c, env, "--no-prepare")
    assert r.returncode == 0, r.stdout
    assert re.search(r"submitted 6 job\(s\)", r.stdout), r.stdout
    again = _ids(folder)
    assert {n for n in again if again[n] != ids[n]} == {victim, broken, "report"} | set(orphans)
    with open(os.path.join(folder, "jobs.json")) as fh:
        assert sorted(json.load(fh)[-1]["cancelled"]) == sorted(left)
    _drain(c, "the resubmitted jobs to end")
    rows, out = _states(c, env, folder, jobs)
    assert rows == {n: "finished" for n in jobs}, out
    r = _submit(c, env, "--no-prepare")
    assert r.returncode == 0 and "nothing to submit" in r.stdout, r.stdout
    # the report job, at the end, lists every run
    assert os.path.isfile("%s.slurm-%s.out" % (jobs["report"]["log"], again["report"]))
    with open(os.path.join(folder, "report", "results.csv")) as fh:
        text = fh.read()
    for run in plan["runs"]:
        assert run["run_dir"] in text
    print("\ndemo grid on two nodes, graph of %d jobs: %.0f s but for the cancelled (the "
          "test held a database lock for %.0f s of it; waiters %s, %s built it; classifiers "
          "of %s on both nodes), resubmission %.0f s" % (
              len(graph), first, held, waiters, builders[0], ", ".join(spread),
              time.time() - start - first))


def _timed(c, env, *extra):
    """Submit the demo grid from scratch and wait for it: seconds from the
    submission to the end of its last job."""
    start = time.time()
    r = _submit(c, env, *extra)
    assert r.returncode == 0, r.stdout
    _drain(c, "the demo grid (%s) to end" % (" ".join(extra) or "graph"))
    return time.time() - start


@pytest.mark.skipif(os.environ.get("RACNN_SLURM_TIMING") != "1",
                    reason="two more demo grids (minutes): make slurm-timing runs it")
def test_wall_time_one_task_per_run_against_one_job_per_stage(cluster, tmp_path):
    """Both from scratch (their own runs/, the data prepared by each
    submission), on the same two nodes; printed, not asserted."""
    c = cluster
    array = _timed(c, _env(c, tmp_path, "runs-array", "data-array"), "--jobs", "run")
    graph = _timed(c, _env(c, tmp_path, "runs-graph", "data-graph"))
    for kind in ("array", "graph"):
        env = _env(c, tmp_path, "runs-" + kind, "data-" + kind)
        rows, out = _states(c, env, str(tmp_path / ("runs-" + kind) / "sweeps" / "demo"))
        assert "incomplete" not in out and "failed" not in out, out
    print("\ndemo grid on two 1-CPU nodes: one array task per run %.0f s, one job per stage "
          "%.0f s (array / graph = %.2f)" % (array, graph, array / graph))
