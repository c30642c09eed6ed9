"""The local scheduler: the jobs of the sweep's graph (racnn.sweep.jobs)
one after another on this machine, in dependency order.  A finished job is
skipped, an interrupted one resumes (the experiment does both), a shared
stage-1 model is trained once; a failed job skips only the jobs that depend
on it, the others go on; the report job runs last, whatever ended how.  The
end is a table of finished / failed / skipped jobs and where each log is."""
import os
import subprocess
import time

from ..paths import REPO
from . import jobs as jobs_mod
from . import status as st

FAILED, SKIPPED = "failed", "skipped"


def log_path(job):
    """The job's output under this scheduler: beside its run folder (a
    stage-1 model: beside its folder), or in the sweep folder."""
    return job["log"] + ".sweep.log"


def run_all(plan, job_list, backend_prefix, gpu=None, echo=print):
    """Run every unfinished job of ``job_list``; returns the rows of the
    final table ``(name, state, detail, log)``."""
    runs = {r["name"]: r for r in plan["runs"]}
    rows, bad = [], {}           # bad: job name -> why its dependents cannot run
    todo = [j for j in job_list if j["stage"] != jobs_mod.REPORT]
    for i, job in enumerate(todo):
        tag = "[sweep %d/%d] %s" % (i + 1, len(todo), job["name"])
        state, detail = st.job_state(job, runs)
        if state in (st.FINISHED, st.RUNNING):
            echo("%s: %s, skipped%s" % (tag, state, " (%s)" % detail if detail else ""))
            rows.append((job["name"], SKIPPED + " (%s)" % state, detail, None))
            if state == st.RUNNING:
                bad[job["name"]] = "still running elsewhere"
            continue
        blocked = [d for d in job["depends_on"] if d in bad]
        if blocked:
            why = "needs %s, which %s" % (blocked[0], bad[blocked[0]])
            echo("%s: skipped: %s" % (tag, why))
            rows.append((job["name"], SKIPPED, why, None))
            bad[job["name"]] = "was skipped"
            continue
        ok, why, log = _run(job, backend_prefix, gpu, state, tag, echo)
        if ok:
            after, after_detail = st.job_state(job, runs)
            if after != st.FINISHED:
                ok, why = False, "exit status 0, but its stage is not finished: %s" % (
                    after_detail or "see the log")
        rows.append((job["name"], st.FINISHED if ok else FAILED, why, log))
        if not ok:
            bad[job["name"]] = "failed"
    report = job_list[-1]
    if any(os.path.isdir(r["run_dir"]) for r in plan["runs"]):
        ok, why, log = _run(report, backend_prefix, None, st.NOT_STARTED,
                            "[sweep] %s" % report["name"], echo)
        rows.append((report["name"], st.FINISHED if ok else FAILED, why, log))
    return rows


def _run(job, backend_prefix, gpu, state, tag, echo):
    """Run one job with its output in its log: (exit status 0, why not,
    log)."""
    argv = backend_prefix + job["command"] + (["--gpu", gpu] if gpu else [])
    log = log_path(job)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    echo("%s: %s (log: %s)" % (tag, "resuming" if state == st.INCOMPLETE else "starting", log))
    start = time.time()
    with open(log, "a") as fh:
        fh.write("[sweep] %s\n" % " ".join(argv))
        fh.flush()
        rc = subprocess.call(argv, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
    took = time.time() - start
    if rc == 0:
        echo("%s: finished in %.0f s" % (tag, took))
        return True, "", log
    why = st.error_line(log) or "exit status %d" % rc
    echo("%s: FAILED after %.0f s: %s" % (tag, took, why))
    return False, why, log
