"""The Slurm scheduler.  By default the sweep's graph (racnn.sweep.jobs): one
``sbatch`` job per job of the graph, each a stage of one run (or a shared
stage-1 model), started once the jobs it depends on have ended well
(``--dependency=afterok:...``), and the report job once everything has ended
(``afterany``); each job's ``--time`` from the cost estimate unless --time is
given.  ``--jobs run``: one ``sbatch --array`` task per run instead (task id =
the run's index in plan.json), its stages one after another.

A resubmission sends only what is neither finished, nor running, nor queued;
a job whose dependency failed stays pending for ever on Slurm
(DependencyNeverSatisfied): ``status`` names the job that failed and why, and
the resubmission cancels such orphans (and the report job still waiting) and
sends the chain again.

Each job writes its output beside its run folder, ``<run>.<stage>.slurm-<job>.out``
(a stage-1 model: beside its folder; the report: in the sweep folder); an
array task ``<run>.slurm-<job>_<task>.out``.  The job id reaches the job from
the sbatch script itself (``--slurm-job``): the environment may not pass
Slurm's variables on (docker/run does not).  Slurm's own file for a job (the
backend's lines, before the job's command starts) is ``<sweep>/slurm/<job>.out``.
States come from the run folders and ``squeue``, how a job ended from
``scontrol`` (or ``sacct`` where the cluster keeps accounting).
"""
import datetime
import json
import os
import re
import shlex
import shutil
import socket
import subprocess

from .. import atomic
from ..errors import RacnnError
from ..paths import REPO
from . import jobs as jobs_mod
from . import status as st

JOBS = "jobs.json"
#: sbatch options of the command line: (option, SBATCH directive)
KNOBS = (("partition", "--partition"), ("gres", "--gres"), ("time", "--time"),
         ("cpus_per_task", "--cpus-per-task"), ("mem", "--mem"), ("account", "--account"))
#: the graph's states beyond racnn.sweep.status's: ended badly on Slurm, and
#: pending on a dependency that can no longer be satisfied
FAILED, BLOCKED = "failed", "blocked"
PENDING = ("PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "SUSPENDED")
NEVER = "DependencyNeverSatisfied"


def job_name(plan):
    return "racnn-%s" % plan["sweep"]


def task_output(run, job, task):
    return "%s.slurm-%s_%s.out" % (run["run_dir"], job, task)


def job_output(job, slurm_id):
    """A graph job's output file: ``<its log base>.slurm-<id>.out``."""
    return "%s.slurm-%s.out" % (job["log"], slurm_id)


def _need(program):
    path = shutil.which(program)
    if path is None:
        raise RacnnError("%s not found: the Slurm scheduler needs Slurm's client commands "
                         "(sbatch, squeue) on this machine's PATH" % program)
    return path


def _call(argv):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, cwd=REPO)


def squeue(plan):
    """{Slurm job id (array tasks: <job>_<task>): (state, reason)} of the
    sweep's jobs that squeue still lists."""
    _need("squeue")
    r = _call(["squeue", "-h", "-r", "--name", job_name(plan), "-o", "%i|%T|%r"])
    if r.returncode != 0:
        raise RacnnError("squeue failed: %s" % r.stderr.strip())
    out = {}
    for line in r.stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out


def queue(plan):
    """{run index: Slurm state} of the sweep's array tasks still queued."""
    out = {}
    for sid, (state, _) in squeue(plan).items():
        task = sid.split("_", 1)[1] if "_" in sid else ""
        if task.isdigit():
            out[int(task)] = state
    return out


def ended_state(job, index=None):
    """How a job (an array task: ``index``) ended (``FAILED (exit 2:0)``,
    ``CANCELLED``, ``TIMEOUT``, ...): from ``scontrol`` while the controller
    remembers it (MinJobAge), else ``sacct`` where accounting storage exists;
    None when neither knows."""
    task = str(job) if index is None else "%s_%d" % (job, index)
    for argv, state_re, code_re in (
            (["scontrol", "-o", "show", "job", task], r"JobState=(\S+)", r"ExitCode=(\S+)"),
            (["sacct", "-n", "-P", "-X", "-j", task, "-o", "State,ExitCode"], r"^([^|\s]+)",
             r"^[^|]*\|(\S+)")):
        if shutil.which(argv[0]) is None:
            continue
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           universal_newlines=True)
        state = re.search(state_re, r.stdout, re.M) if r.returncode == 0 else None
        if state:
            code = re.search(code_re, r.stdout, re.M)
            code = code.group(1) if code else "0:0"
            return state.group(1) + (" (exit %s)" % code if code != "0:0" else "")
    return None


def states(plan):
    """Rows ``(index, name, state, detail, log)`` of an array submission
    (``--jobs run``) from the run folders and the queue."""
    q = queue(plan)
    pending = {i for i, s in q.items() if s in PENDING}
    subs = [j for j in read_jobs(plan["_folder"]) if "tasks" in j]
    rows = []
    for run in plan["runs"]:
        state, detail = st.state(run, queued=pending)
        mine = [j["job"] for j in subs if run["index"] in j["tasks"]]
        if state in (st.INCOMPLETE, st.NOT_STARTED) and mine:
            # a pending task cancelled before it started leaves no record of its own
            ended = q.get(run["index"]) or ended_state(mine[-1], run["index"]) or \
                "left the queue (cancelled or ended; Slurm no longer knows how)"
            detail = "Slurm %s_%d: %s%s" % (mine[-1], run["index"], ended,
                                            "; " + detail if detail else "")
        log = next((task_output(run, j, run["index"]) for j in reversed(mine)
                    if os.path.isfile(task_output(run, j, run["index"]))), None)
        rows.append((run["index"], run["name"], state, detail, log))
    return rows


def read_jobs(folder):
    try:
        with open(os.path.join(folder, JOBS)) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return []
    except ValueError:
        raise RacnnError("%s is not readable JSON" % os.path.join(folder, JOBS))


def _record(folder, entry):
    done = read_jobs(folder) + [dict(entry, submitted=datetime.datetime.now().isoformat(
        timespec="seconds"))]
    atomic.write_text(os.path.join(folder, JOBS), json.dumps(done, indent=1) + "\n")


def graph_ids(folder):
    """{graph job name: its latest Slurm job id}."""
    out = {}
    for sub in read_jobs(folder):
        out.update(sub.get("jobs") or {})
    return out


def _header(plan, folder, knobs, extra, what):
    lines = ["#!/bin/bash",
             "# RACNN sweep %s: %s of %s" % (plan["sweep"], what,
                                            os.path.join(folder, "plan.json")),
             "#SBATCH --job-name=%s" % job_name(plan)]
    for key, option in KNOBS:
        if knobs.get(key):
            lines.append("#SBATCH %s=%s" % (option, knobs[key]))
    return lines + ["#SBATCH %s" % arg for arg in extra]


def _exec(argv):
    return "exec " + " ".join(shlex.quote(a) if not a.startswith("$") else '"%s"' % a
                              for a in argv)


def script(plan, folder, knobs, extra, backend_prefix, gpu):
    """The sbatch script of the sweep's array job (``--jobs run``)."""
    lines = _header(plan, folder, knobs, extra,
                    "one array task per run (task id = the run's index)")
    lines.append("#SBATCH --output=%s" % os.path.join(folder, "slurm", "%A_%a.out"))
    task = backend_prefix + ["python3", "tools/sweep.py", "task", folder, "$SLURM_ARRAY_TASK_ID",
                             "--slurm-job", "$SLURM_ARRAY_JOB_ID"]
    if gpu:
        task += ["--gpu", gpu]
    lines += ["set -eu", "cd %s" % shlex.quote(REPO),
              "echo \"[sweep] task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID on "
              "$(hostname) at $(date -Is)\"", _exec(task), ""]
    return "\n".join(lines)


def graph_script(plan, folder, knobs, extra, backend_prefix, gpu):
    """The sbatch script of every job of the graph: its argument is the
    job's name in the plan."""
    lines = _header(plan, folder, knobs, extra, "one job of the graph (argument: its name)")
    lines.append("#SBATCH --output=%s" % os.path.join(folder, "slurm", "%j.out"))
    job = backend_prefix + ["python3", "tools/sweep.py", "job", folder, "$1", "--slurm-job",
                            "$SLURM_JOB_ID"]
    if gpu:
        job += ["--gpu", gpu]
    lines += ["set -eu", "cd %s" % shlex.quote(REPO),
              "echo \"[sweep] job $1 ($SLURM_JOB_ID) on $(hostname) at $(date -Is)\"",
              _exec(job), ""]
    return "\n".join(lines)


def _sbatch(argv):
    r = _call(argv)
    if r.returncode != 0:
        raise RacnnError("sbatch refused the sweep (%s): %s" % (" ".join(argv),
                                                               r.stderr.strip()))
    return r.stdout.strip().split(";")[0]


def _write_script(folder, text):
    """The sbatch script of the next submission, ``<sweep>/slurm/submit-<n>.sbatch``
    (n: the submissions jobs.json records, plus one); returns its path."""
    os.makedirs(os.path.join(folder, "slurm"), exist_ok=True)
    path = os.path.join(folder, "slurm", "submit-%d.sbatch" % (len(read_jobs(folder)) + 1))
    atomic.write_text(path, text)
    return path


def submit(plan, folder, todo, knobs, extra, backend_prefix, gpu):
    """Submit the runs ``todo`` as one array job; returns the job id."""
    _need("sbatch")
    path = _write_script(folder, script(plan, folder, knobs, extra, backend_prefix, gpu))
    job = _sbatch(["sbatch", "--parsable",
                   "--array=%s" % ",".join(str(r["index"]) for r in todo), path])
    _record(folder, {"job": job, "tasks": [r["index"] for r in todo], "script": path})
    return job


def graph_states(plan, job_list, queued=None):
    """Rows ``(name, state, detail, log)`` of the graph's jobs from the run
    folders, the queue and, for a job that left it, how it ended."""
    folder = plan["_folder"]
    q = squeue(plan) if queued is None else queued
    ids = graph_ids(folder)
    runs = {r["name"]: r for r in plan["runs"]}
    report_done = os.path.isfile(os.path.join(folder, "report", "report.md"))
    rows, how = [], {}
    for job in job_list:
        state, detail = st.job_state(job, runs, report_done)
        sid = ids.get(job["name"])
        log = job_output(job, sid) if sid else None
        if sid and state not in (st.FINISHED, st.OTHER):
            if sid in q:
                sstate, reason = q[sid]
                if sstate in PENDING and reason == NEVER:
                    dep = next((d for d in job["depends_on"] if how.get(d)), None)
                    state, detail = BLOCKED, "Slurm %s pending for ever: needs %s%s" % (
                        sid, dep or "a job", ", which %s" % how[dep] if dep else "")
                elif sstate in PENDING:
                    state, detail = st.QUEUED, "Slurm %s pending (%s)" % (sid, reason)
                elif state != st.RUNNING:
                    state, detail = st.RUNNING, "Slurm %s %s" % (sid, sstate.lower())
            elif state != st.RUNNING:
                ended = ended_state(sid) or "left the queue (Slurm no longer knows how)"
                why = st.error_line(log)
                state = FAILED
                detail = "Slurm %s: %s%s" % (sid, ended, "; " + why if why else
                                             "; " + detail if detail else "")
        if state in (FAILED, BLOCKED):
            how[job["name"]] = ("failed (%s)" % detail if state == FAILED else
                                "never runs: %s" % detail)
        rows.append((job["name"], state, detail, log if log and os.path.isfile(log) else None))
    return rows


def submit_graph(plan, folder, job_list, knobs, extra, backend_prefix, gpu, times=None):
    """Submit the jobs of the graph that are neither finished, nor running,
    nor queued (and the report job), cancelling the orphans of a failed
    dependency and a report job still waiting; returns {name: job id} of
    what was submitted ({} when nothing needed to be)."""
    _need("sbatch")
    rows = {r[0]: r for r in graph_states(plan, job_list)}
    ids = graph_ids(folder)
    cancel = [ids[n] for n, r in rows.items() if r[1] == BLOCKED or
              (n == jobs_mod.REPORT and r[1] == st.QUEUED)]
    todo = [j for j in job_list if j["stage"] != jobs_mod.REPORT and
            rows[j["name"]][1] in (st.INCOMPLETE, st.NOT_STARTED, FAILED, BLOCKED)]
    if not todo:
        return {}
    if cancel:
        _need("scancel")
        r = _call(["scancel"] + cancel)
        if r.returncode != 0:
            raise RacnnError("scancel %s failed: %s" % (" ".join(cancel), r.stderr.strip()))
    live = {n: ids[n] for n, r in rows.items()
            if r[1] in (st.QUEUED, st.RUNNING) and n != jobs_mod.REPORT and n in ids}
    path = _write_script(folder, graph_script(plan, folder, knobs, extra, backend_prefix, gpu))
    new = {}
    for job in todo + [job_list[-1]]:
        report = job["stage"] == jobs_mod.REPORT
        deps = sorted(set(new.values()) | set(live.values())) if report else \
            [new.get(d) or live.get(d) for d in job["depends_on"] if new.get(d) or live.get(d)]
        argv = ["sbatch", "--parsable"]
        if deps:
            argv.append("--dependency=%s:%s" % ("afterany" if report else "afterok",
                                                ":".join(deps)))
        if not knobs.get("time") and (times or {}).get(job["name"]):
            argv.append("--time=%s" % times[job["name"]])
        new[job["name"]] = _sbatch(argv + [path, job["name"]])
    _record(folder, {"jobs": new, "script": path, "cancelled": cancel})
    return new


def run_job(plan, folder, name, slurm_job=None, gpu=None):
    """One job of the graph (inside the environment, from the sbatch
    script): its command with its output in its log; returns the exit
    status."""
    job = jobs_mod.by_name(jobs_mod.build(plan, folder)).get(name)
    if job is None:
        raise RacnnError("job %r: not a job of %s" % (name, os.path.join(folder, "plan.json")))
    return _run_logged(job["command"] + (["--gpu", gpu] if gpu and
                                          job["stage"] != jobs_mod.REPORT else []),
                       job_output(job, slurm_job or os.environ.get("SLURM_JOB_ID", "local")),
                       "job %s" % name)


def run_task(plan, index, gpu=None, slurm_job=None):
    """One array task: run ``index``'s experiment with its output beside
    its run folder; returns the exit status."""
    runs = {r["index"]: r for r in plan["runs"]}
    if index not in runs:
        raise RacnnError("task %d: the plan has runs 0..%d" % (index, len(runs) - 1))
    run = runs[index]
    job = slurm_job or os.environ.get("SLURM_ARRAY_JOB_ID", "local")
    return _run_logged(run["command"] + (["--gpu", gpu] if gpu else []),
                       task_output(run, job, index), "run %s" % run["name"])


def _run_logged(argv, out, what):
    os.makedirs(os.path.dirname(out), exist_ok=True)
    print("[sweep] %s: %s (output: %s)" % (what, " ".join(argv), out), flush=True)
    with open(out, "a") as fh:
        fh.write("[sweep] %s on %s at %s: %s\n" % (
            what, socket.gethostname(), datetime.datetime.now().isoformat(timespec="seconds"),
            " ".join(argv)))
        fh.flush()
        return subprocess.call(argv, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
