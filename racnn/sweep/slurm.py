"""The Slurm scheduler: the shared inputs prepared once, then one
``sbatch --array`` job with one task per unfinished run (task id = the run's
index in plan.json); a resubmission sends only the runs that are neither
finished, nor running, nor still queued.

Each task writes its output beside its run folder
(``<run>.slurm-<job>_<task>.out``); Slurm's own file for the task (the
backend's lines, before the experiment starts) is ``<sweep>/slurm/<job>_<task>.out``.
States come from the run folders and ``squeue`` (``sacct`` needs accounting
storage, which many clusters' login nodes and one-node test clusters lack).
"""
import datetime
import json
import os
import re
import shlex
import shutil
import subprocess

from .. import atomic
from ..errors import RacnnError
from ..paths import REPO
from . import status as st

JOBS = "jobs.json"
#: sbatch options of the command line: (option, SBATCH directive)
KNOBS = (("partition", "--partition"), ("gres", "--gres"), ("time", "--time"),
         ("cpus_per_task", "--cpus-per-task"), ("mem", "--mem"), ("account", "--account"))


def job_name(plan):
    return "racnn-%s" % plan["sweep"]


def task_output(run, job, task):
    return "%s.slurm-%s_%s.out" % (run["run_dir"], job, task)


def _need(program):
    path = shutil.which(program)
    if path is None:
        raise RacnnError("%s not found: the Slurm scheduler needs Slurm's client commands "
                         "(sbatch, squeue) on this machine's PATH" % program)
    return path


def queue(plan):
    """{run index: Slurm state} of the sweep's tasks that squeue still
    lists (PENDING, RUNNING, ...)."""
    _need("squeue")
    r = subprocess.run(["squeue", "-h", "-r", "--name", job_name(plan), "-o", "%i %T"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode != 0:
        raise RacnnError("squeue failed: %s" % r.stderr.strip())
    out = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and "_" in parts[0]:
            task = parts[0].split("_", 1)[1]
            if task.isdigit():
                out[int(task)] = parts[1]
    return out


def states(plan):
    """Rows ``(index, name, state, detail, log)`` from the run folders and
    the queue."""
    q = queue(plan)
    pending = {i for i, s in q.items() if s in ("PENDING", "CONFIGURING", "REQUEUED")}
    jobs = read_jobs(plan["_folder"])
    rows = []
    for run in plan["runs"]:
        state, detail = st.state(run, queued=pending)
        last = next((j["job"] for j in reversed(jobs) if run["index"] in j["tasks"]), None)
        if state in (st.INCOMPLETE, st.NOT_STARTED) and last:
            # a pending task cancelled before it started leaves no record of its own
            ended = q.get(run["index"]) or ended_state(last, run["index"]) or \
                "left the queue (cancelled or ended; Slurm no longer knows how)"
            detail = "Slurm %s_%d: %s%s" % (last, run["index"], ended,
                                            "; " + detail if detail else "")
        log = None
        for job in reversed(jobs):
            if run["index"] in job["tasks"]:
                path = task_output(run, job["job"], run["index"])
                if os.path.isfile(path):
                    log = path
                    break
        rows.append((run["index"], run["name"], state, detail, log))
    return rows


def ended_state(job, index):
    """How an array task ended (CANCELLED, FAILED, TIMEOUT, ...): from
    ``scontrol`` while the controller remembers the job (MinJobAge), else
    ``sacct`` where accounting storage exists; None when neither knows."""
    task = "%s_%d" % (job, index)
    for argv, pattern in ((["scontrol", "-o", "show", "job", task], r"JobState=(\S+)"),
                          (["sacct", "-n", "-P", "-X", "-j", task, "-o", "State"], r"^(\S+)")):
        if shutil.which(argv[0]) is None:
            continue
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           universal_newlines=True)
        m = re.search(pattern, r.stdout, re.M) if r.returncode == 0 else None
        if m:
            return m.group(1)
    return None


def read_jobs(folder):
    try:
        with open(os.path.join(folder, JOBS)) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return []
    except ValueError:
        raise RacnnError("%s is not readable JSON" % os.path.join(folder, JOBS))


def script(plan, folder, knobs, extra, backend_prefix, gpu):
    """The sbatch script of the sweep's array job."""
    lines = ["#!/bin/bash",
             "# RACNN sweep %s: one array task per run of %s (task id = the run's index)"
             % (plan["sweep"], os.path.join(folder, "plan.json")),
             "#SBATCH --job-name=%s" % job_name(plan),
             "#SBATCH --output=%s" % os.path.join(folder, "slurm", "%A_%a.out")]
    for key, option in KNOBS:
        if knobs.get(key):
            lines.append("#SBATCH %s=%s" % (option, knobs[key]))
    for arg in extra:
        lines.append("#SBATCH %s" % arg)
    task = backend_prefix + ["python3", "tools/sweep.py", "task", folder, "$SLURM_ARRAY_TASK_ID"]
    if gpu:
        task += ["--gpu", gpu]
    lines += ["set -eu", "cd %s" % shlex.quote(REPO),
              "echo \"[sweep] task $SLURM_ARRAY_TASK_ID of job $SLURM_ARRAY_JOB_ID on "
              "$(hostname) at $(date -Is)\"",
              "exec " + " ".join(shlex.quote(a) if not a.startswith("$") else '"%s"' % a
                                 for a in task), ""]
    return "\n".join(lines)


def submit(plan, folder, todo, knobs, extra, backend_prefix, gpu):
    """Submit the runs ``todo`` as one array job; returns the job id."""
    _need("sbatch")
    os.makedirs(os.path.join(folder, "slurm"), exist_ok=True)
    jobs = read_jobs(folder)
    path = os.path.join(folder, "slurm", "submit-%d.sbatch" % (len(jobs) + 1))
    atomic.write_text(path, script(plan, folder, knobs, extra, backend_prefix, gpu))
    array = ",".join(str(r["index"]) for r in todo)
    r = subprocess.run(["sbatch", "--parsable", "--array=%s" % array, path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       cwd=REPO)
    if r.returncode != 0:
        raise RacnnError("sbatch refused the sweep (script %s): %s" % (path, r.stderr.strip()))
    job = r.stdout.strip().split(";")[0]
    jobs.append({"job": job, "tasks": [r_["index"] for r_ in todo], "script": path,
                 "submitted": datetime.datetime.now().isoformat(timespec="seconds")})
    atomic.write_text(os.path.join(folder, JOBS), json.dumps(jobs, indent=1) + "\n")
    return job


def run_task(plan, index, gpu=None):
    """One array task: run ``index``'s experiment with its output beside
    its run folder; returns the exit status."""
    runs = {r["index"]: r for r in plan["runs"]}
    if index not in runs:
        raise RacnnError("task %d: the plan has runs 0..%d" % (index, len(runs) - 1))
    run = runs[index]
    out = task_output(run, os.environ.get("SLURM_ARRAY_JOB_ID", "local"), index)
    argv = run["command"] + (["--gpu", gpu] if gpu else [])
    os.makedirs(os.path.dirname(out), exist_ok=True)
    print("[sweep] run %s: %s (output: %s)" % (run["name"], " ".join(argv), out), flush=True)
    with open(out, "a") as fh:
        return subprocess.call(argv, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
