"""Each planned run's state, read from its run folder (and, for a Slurm
sweep, the scheduler's queue): what ``status`` shows, what ``run`` skips and
what a resubmission leaves out.

  finished      every network of the run was evaluated (config.json results)
  running       a driver holds the run folder's lock (racnn.locks)
  queued        a Slurm task of the sweep is pending
  incomplete    the folder exists, nothing works on it (failed, cancelled,
                or interrupted: running it again resumes it)
  not started   no run folder yet
"""
import fcntl
import json
import os

from ..locks import describe, holder, lock_path_beside

FINISHED, RUNNING, QUEUED, INCOMPLETE, NOT_STARTED = (
    "finished", "running", "queued", "incomplete", "not started")


def is_held(lock_file):
    """Whether a process holds ``lock_file`` now (a non-blocking try, not the
    file's content: a killed holder's description outlives its lock)."""
    try:
        fd = os.open(lock_file, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def finished(run):
    """Whether the run folder holds an evaluation of every planned network."""
    try:
        with open(os.path.join(run["run_dir"], "config.json")) as fh:
            results = json.load(fh).get("results") or {}
    except (OSError, ValueError):
        return False
    return all(v in results for v in run["variants"])


def state(run, queued=()):
    """(state, detail) of one planned run; ``queued``: the plan indices that
    the scheduler still holds as pending."""
    if finished(run):
        return FINISHED, ""
    lock = lock_path_beside(run["run_dir"])
    if is_held(lock):
        return RUNNING, describe(holder(lock))
    if run["index"] in queued:
        return QUEUED, ""
    if os.path.isdir(run["run_dir"]):
        return INCOMPLETE, _last_line(os.path.join(run["run_dir"], "experiment.log"))
    return NOT_STARTED, ""


def _last_line(path):
    try:
        with open(path) as fh:
            lines = [l.strip() for l in fh if l.strip()]
        return lines[-1] if lines else ""
    except OSError:
        return ""


def table(rows):
    """Aligned text: one line per (index, name, state, detail, log)."""
    out = ["%-4s %-48s %-12s %s" % ("#", "run", "state", "log / detail")]
    for index, name, st, detail, log in rows:
        out.append("%-4s %-48s %-12s %s" % (index, name, st, log or detail))
        if log and detail:
            out.append("%-4s %-48s %-12s %s" % ("", "", "", detail[:160]))
    return out
