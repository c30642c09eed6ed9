"""One training stage = one ``caffe train`` process, resumable.

A stage lives in its own folder of the run folder (its files: docs/DESIGN.md,
"Run folder"; their names: racnn.rundir.layout).  Caffe runs with
the stage folder as working directory and a relative snapshot prefix, so a
run folder can be moved and resumed.

``run_stage`` is idempotent: a stage whose DONE marker and final model exist
is skipped; an interrupted stage resumes from its newest readable
``.solverstate`` (``caffe train --snapshot``), so iterations already done are
not run again.  Ctrl-C (SIGINT) or SIGTERM to the driver is forwarded to Caffe
as SIGINT, which makes Caffe snapshot the current iteration and stop: the next
run continues exactly there.  After a hard kill (SIGKILL, power loss) the
iterations since the last snapshot are run again, nothing earlier.
"""
import collections
import os
import re
import signal
import subprocess
import sys
import time

from .. import protoio
from ..errors import RacnnError
from ..progress import progress
from ..rundir.caffelog import caffe_env
from ..rundir.layout import LOG, SNAPSHOT_DIR, SOLVER, model_path
from ..rundir.stage import (log_line, newest_solverstate, prune_solverstates, read_done,
                            write_done)

_ITER_RE = re.compile(r"\] Iteration (\d+)")
_NAN_RE = re.compile(r"\] Iteration (\d+).*loss = -?(?:nan|inf)")


def run_stage(stage_dir, weights=None, gpu=None, echo=False, caffe="caffe", env=None):
    """Train the stage in ``stage_dir`` (solver.prototxt + train_val.prototxt
    already there) to its ``max_iter``; return the final model's path.

    ``weights``: a caffemodel to start from (``--weights``), or a function
    returning one (or None), called only when the stage starts afresh;
    ignored when resuming.  ``gpu``: Caffe's ``--gpu`` value (``0``, ``0,1``, ``all``) or
    None for CPU.  ``echo``: print Caffe's output as well (else a progress bar).
    ``env``: variables for the Caffe process (the GPU speed options, e.g.
    RACNN_TF32=1), named in the log.
    """
    stage_dir = os.path.abspath(stage_dir)
    name = os.path.basename(stage_dir)
    done = read_done(stage_dir)
    if done:
        print("[racnn] %s: finished before (%s), skipped" % (name, done["finished"]), flush=True)
        return done["final_model"]
    solver_path = os.path.join(stage_dir, SOLVER)
    solver = protoio.read_solver(solver_path)
    max_iter = solver.max_iter
    log = os.path.join(stage_dir, LOG)
    os.makedirs(os.path.join(stage_dir, SNAPSHOT_DIR), exist_ok=True)
    final = model_path(stage_dir, max_iter)

    cmd = [caffe, "train", "--solver", SOLVER]
    resume = newest_solverstate(stage_dir)
    start_iter = 0
    if resume and resume[0] >= max_iter and os.path.isfile(final):
        log_line(log, "%s: final snapshot %s exists; marking the stage done" % (name, final))
        write_done(stage_dir, max_iter, 0.0)
        return final
    if resume:
        start_iter = resume[0]
        cmd += ["--snapshot", os.path.relpath(resume[1], stage_dir)]
        what = "resuming from iteration %d (%s)" % resume
    else:
        if callable(weights):
            weights = weights()
        if weights:
            cmd += ["--weights", os.path.abspath(weights)]
            what = "starting from %s" % weights
        else:
            what = "starting from the fillers"
    if gpu not in (None, ""):
        cmd += ["--gpu", str(gpu)]
    log_line(log, "%s: %s; %d iterations in all" % (name, what, max_iter), echo=True)
    log_line(log, "cd %s && %s" % (stage_dir, " ".join(cmd)), echo=False)

    t0 = time.time()
    if env:
        log_line(log, "environment: %s" % " ".join("%s=%s" % kv for kv in sorted(env.items())),
                 echo=False)
    rc, last_iter, tail, diverged = _run_logged(cmd, stage_dir, log, echo, start_iter, max_iter,
                                                name, env)
    seconds = time.time() - t0
    prune_solverstates(stage_dir)
    if rc == "interrupted":
        log_line(log, "%s: interrupted at iteration %s; re-run to resume" % (name, last_iter))
        raise KeyboardInterrupt
    if diverged is not None:
        log_line(log, "%s: the loss became NaN/inf at iteration %d" % (name, diverged))
        raise RacnnError("stage %s diverged: the training loss is NaN/inf from iteration %d "
                         "(see %s); lower the solver's base_lr and start a new run folder (delete %s "
                         "or use --run-dir)" % (name, diverged, log, os.path.dirname(stage_dir)))
    if rc != 0 or not os.path.isfile(final):
        log_line(log, "%s: caffe train ended with status %s at iteration %s" % (name, rc, last_iter))
        raise RacnnError("caffe train failed for stage %s (exit status %s); last lines of "
                         "%s:\n%s" % (name, rc, log, "".join(tail)))
    write_done(stage_dir, max_iter, seconds)
    log_line(log, "%s: done in %.0f s, final model %s" % (name, seconds, final))
    return final


def _run_logged(cmd, cwd, log, echo, start_iter, max_iter, name, env=None):
    """Run ``cmd``, tee its output into ``log``; forward Ctrl-C / SIGTERM to it
    as SIGINT (Caffe then snapshots and stops).  Returns (status or
    "interrupted", last iteration seen, last lines, first iteration with a
    NaN/inf loss or None)."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=dict(caffe_env(), **(env or {})),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, bufsize=1)
    interrupted = []

    def forward(signum, frame):
        interrupted.append(signum)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    bar = progress(total=max_iter, desc=name, unit="iter", initial=start_iter)
    last_iter, tail, diverged = start_iter, collections.deque(maxlen=25), None
    try:
        with open(log, "a") as fh:
            for line in proc.stdout:
                fh.write(line)
                fh.flush()
                tail.append(line)
                if echo:
                    sys.stdout.write(line)
                nan = diverged is None and _NAN_RE.search(line)
                if nan:
                    diverged = int(nan.group(1))
                m = _ITER_RE.search(line)
                if m:
                    it = int(m.group(1))
                    if it > last_iter and hasattr(bar, "update"):
                        bar.update(it - last_iter)
                    last_iter = max(last_iter, it)
        rc = proc.wait()
    finally:
        if proc.poll() is None:      # an exception in the loop: stop Caffe cleanly
            proc.send_signal(signal.SIGINT)
            proc.wait()
        for s, h in old.items():
            signal.signal(s, h)
        if hasattr(bar, "close"):
            bar.close()
    return ("interrupted" if interrupted else rc), last_iter, tail, diverged
