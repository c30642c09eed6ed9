"""Each planned run's state, read from its run folder (racnn.rundir) and
its lock (racnn.locks), and, for a Slurm sweep, the scheduler's queue: what
``status`` shows, what ``run`` skips and what a resubmission leaves out.

  finished      every network of the run has an evaluation of its final model
  running       a driver holds the run folder's lock
  queued        a Slurm task of the sweep is pending
  incomplete    the folder exists, nothing works on it (failed, cancelled,
                or interrupted: running it again resumes it)
  not started   no run folder yet
"""
import os

from ..errors import RacnnError
from ..locks import describe, holder, is_held, lock_path_beside
from ..rundir.results import final_results
from ..rundir.reader import last_log_line

FINISHED, RUNNING, QUEUED, INCOMPLETE, NOT_STARTED = (
    "finished", "running", "queued", "incomplete", "not started")


def finished(run):
    """Whether the run folder holds an evaluation of every planned network's
    final model."""
    try:
        results = final_results(run["run_dir"])
    except (OSError, ValueError, RacnnError):      # no folder, no or unreadable config.json
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
        return INCOMPLETE, last_log_line(run["run_dir"])
    return NOT_STARTED, ""


def table(rows):
    """Aligned text: one line per (index, name, state, detail, log)."""
    out = ["%-4s %-48s %-12s %s" % ("#", "run", "state", "log / detail")]
    for index, name, st, detail, log in rows:
        out.append("%-4s %-48s %-12s %s" % (index, name, st, log or detail))
        if log and detail:
            out.append("%-4s %-48s %-12s %s" % ("", "", "", detail[:160]))
    return out
