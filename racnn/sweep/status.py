"""Each planned run's state, read from its run folder by
racnn.rundir.verdict's rule (the same one the pipeline and the report use),
its lock (racnn.locks), and, for a Slurm sweep, the scheduler's queue: what
``status`` shows, what ``run`` skips and what a resubmission leaves out.

  finished        the folder holds the planned configuration, every stage is
                  finished and not stale, every network's final model evaluated
  other settings  a folder of that name was made with another configuration:
                  the sweep stops and names the differences (never counts it)
  running         a driver holds the run folder's lock
  queued          a Slurm task of the sweep is pending
  incomplete      the folder exists, nothing works on it (failed, cancelled,
                  interrupted, or stale: running it again resumes it)
  not started     no run folder yet

A sweep's job (racnn.sweep.jobs: one stage of a run, a shared stage-1
model, the report) has the same states, from its stage folder and the stage's
lock (a stage-1 model: its folder and its lock); ``job_state``.
"""
import os

from ..errors import RacnnError
from ..locks import describe, holder, is_held, lock_path_beside
from ..rundir import layout, sr_model
from ..rundir.reader import last_log_line, load_config
from ..rundir.verdict import config_differences, run_finished, stage_done, trained_anything
from . import jobs as jobs_mod, plan as plan_mod

FINISHED, OTHER, RUNNING, QUEUED, INCOMPLETE, NOT_STARTED = (
    "finished", "other settings", "running", "queued", "incomplete", "not started")


def other_settings(run):
    """The differences between the run folder's configuration and the plan's
    (``["key: folder -> plan", ...]``), [] when they agree or nothing was
    trained there yet (then the run takes the plan's configuration)."""
    try:
        config = load_config(run["run_dir"])
    except (OSError, ValueError):
        return ["config.json is unreadable"]
    if config is None or not trained_anything(run["run_dir"]):
        return []
    return config_differences(config, plan_mod.config(run))


def finished(run):
    """Whether the run folder is finished with the planned configuration."""
    try:
        return run_finished(run["run_dir"], plan_mod.config(run), run["variants"]).ok
    except (OSError, ValueError, RacnnError):      # no folder, no or unreadable config.json
        return False


def state(run, queued=()):
    """(state, detail) of one planned run; ``queued``: the plan indices that
    the scheduler still holds as pending."""
    diff = other_settings(run)
    if diff:
        return OTHER, "; ".join(diff)
    if finished(run):
        return FINISHED, ""
    held = held_locks(run["run_dir"], run.get("stages") or ())
    if held:
        return RUNNING, held[0]
    if run["index"] in queued:
        return QUEUED, ""
    if os.path.isdir(run["run_dir"]):
        return INCOMPLETE, last_log_line(run["run_dir"])
    return NOT_STARTED, ""


def held_locks(run_dir, stages):
    """Who holds the run folder's lock or its stages' locks (descriptions)."""
    out = []
    for part in [None] + list(stages):
        lock = layout.lock_file(run_dir, part)
        if is_held(lock):
            out.append("%s%s" % ("" if part is None else "%s: " % part, describe(holder(lock))))
    return out


def job_state(job, runs, report_done=None):
    """(state, detail) of one job of the sweep's graph; ``runs``: the plan's
    runs by name."""
    if job["stage"] == jobs_mod.REPORT:
        return (FINISHED, "") if report_done else (NOT_STARTED, "")
    if job["stage"] == jobs_mod.STAGE1:
        model = job["model"]
        why = sr_model.problems(model)
        if not why:
            return FINISHED, ""
        lock = lock_path_beside(model)
        if is_held(lock):
            return RUNNING, describe(holder(lock))
        return (INCOMPLETE, why[0]) if os.path.isdir(model) else (NOT_STARTED, "")
    run = runs[job["run"]]
    diff = other_settings(run)
    if diff:
        return OTHER, "; ".join(diff)
    run_dir, stage = run["run_dir"], job["stage"]
    try:
        config = load_config(run_dir)
        done = config is not None and not config_differences(config, plan_mod.config(run)) and \
            stage_done(run_dir, stage, config).ok
    except (OSError, ValueError, RacnnError):
        done = False
    if done:
        return FINISHED, ""
    held = held_locks(run_dir, [stage])
    if held:
        return RUNNING, held[0]
    if os.path.isdir(os.path.join(run_dir, stage)):
        return INCOMPLETE, last_log_line(run_dir)
    return NOT_STARTED, ""


def error_line(log):
    """The last ``error:`` line of a job's output (the tool's one-line
    message, racnn.errors.cli_main's), if any."""
    try:
        with open(log, errors="replace") as fh:
            hits = [l.strip() for l in fh if "error:" in l]
        return hits[-1] if hits else None
    except OSError:
        return None


def refuse_other_settings(runs):
    """A RacnnError naming every planned run whose folder holds another
    configuration (``state``'s OTHER), before anything runs or is submitted."""
    diffs = [(r["name"], other_settings(r)) for r in runs]
    bad = [(name, "; ".join(diff)) for name, diff in diffs if diff]
    if bad:
        raise RacnnError(
            "%d run folder(s) of this sweep were made with other settings; the sweep neither "
            "counts nor mixes them:\n%s\nRun the sweep into another folder (--runs-dir DIR, "
            "make sweep ... RUNS_DIR=DIR) or delete those folders"
            % (len(bad), "\n".join("  %s: %s" % b for b in bad)))


def table(rows):
    """Aligned text: one line per run (index, name, state, detail, log) or
    per job (name, state, detail, log)."""
    if rows and len(rows[0]) == 4:
        out = ["%-58s %-12s %s" % ("job", "state", "log / detail")]
        for name, st, detail, log in rows:
            out.append("%-58s %-12s %s" % (name, st, log or detail))
            if log and detail:
                out.append("%-58s %-12s %s" % ("", "", detail[:200]))
        return out
    out = ["%-4s %-48s %-12s %s" % ("#", "run", "state", "log / detail")]
    for index, name, st, detail, log in rows:
        out.append("%-4s %-48s %-12s %s" % (index, name, st, log or detail))
        if log and detail:
            out.append("%-4s %-48s %-12s %s" % ("", "", "", detail[:160]))
    return out
