"""The local scheduler: the plan's runs one after another on this machine.
A finished run is skipped, an interrupted one resumes (the experiment does
both), a failed one does not stop the others; the end is a table of
finished / failed / skipped runs and where each log is."""
import os
import subprocess
import time

from ..paths import REPO
from . import status as st

FAILED, SKIPPED = "failed", "skipped"


def log_path(run):
    """The run's output under this scheduler: beside its run folder."""
    return run["run_dir"] + ".sweep.log"


def run_all(plan, backend_prefix, gpu=None, echo=print):
    """Run every unfinished run of ``plan``; returns the rows of the final
    table ``(index, name, state, detail, log)``."""
    rows = []
    runs = plan["runs"]
    for i, run in enumerate(runs):
        state, detail = st.state(run)
        tag = "[sweep %d/%d] %s" % (i + 1, len(runs), run["name"])
        if state in (st.FINISHED, st.RUNNING):
            echo("%s: %s, skipped%s" % (tag, state, " (%s)" % detail if detail else ""))
            rows.append((run["index"], run["name"], SKIPPED + " (%s)" % state, detail, None))
            continue
        argv = backend_prefix + run["command"] + (["--gpu", gpu] if gpu else [])
        log = log_path(run)
        os.makedirs(os.path.dirname(log), exist_ok=True)
        echo("%s: %s (log: %s)" % (tag, "resuming" if state == st.INCOMPLETE else "starting",
                                   log))
        start = time.time()
        with open(log, "a") as fh:
            fh.write("[sweep] %s\n" % " ".join(argv))
            fh.flush()
            rc = subprocess.call(argv, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT)
        took = time.time() - start
        if rc == 0 and st.finished(run):
            echo("%s: finished in %.0f s" % (tag, took))
            rows.append((run["index"], run["name"], st.FINISHED, "", log))
        else:
            why = _error_line(log) or "exit status %d" % rc
            echo("%s: FAILED after %.0f s: %s" % (tag, took, why))
            rows.append((run["index"], run["name"], FAILED, why, log))
    return rows


def _error_line(log):
    """The last ``error:`` line of the run's output (the tool's one-line
    message), if any."""
    try:
        with open(log, errors="replace") as fh:
            hits = [l.strip() for l in fh if "error:" in l]
        return hits[-1] if hits else None
    except OSError:
        return None
