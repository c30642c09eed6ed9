"""The state files of one training stage folder: the driver's log lines,
the resumable snapshots (.solverstate, newest readable one first), the DONE
marker of a finished stage and its final model.  Their names:
racnn.rundir.layout; racnn.train.caffe_train runs the stage."""
import datetime
import json
import os

from .. import atomic
from .layout import DONE, SNAPSHOT_DIR, model_path, snapshot_iteration, snapshots


def now():
    return datetime.datetime.now().isoformat(timespec="seconds")


def log_line(log_path, text, echo=True):
    """Append one driver line ``[racnn <time>] text`` to a log (and print it)."""
    line = "[racnn %s] %s" % (now(), text)
    with open(log_path, "a") as fh:
        fh.write(line + "\n")
    if echo:
        print(line, flush=True)


def _state_ok(path, stage_dir):
    """True when ``path`` is a complete SolverState whose model exists."""
    from caffe.proto import caffe_pb2
    state = caffe_pb2.SolverState()
    try:
        with open(path, "rb") as fh:
            state.ParseFromString(fh.read())
    except Exception:       # truncated by a hard kill: protobuf's DecodeError
        return False
    learned = os.path.join(stage_dir, state.learned_net)
    return state.iter == snapshot_iteration(path, "solverstate") and os.path.isfile(learned)


def solverstates(stage_dir):
    """``[(iteration, path)]`` of the stage's .solverstate files, newest first."""
    return snapshots(os.path.join(stage_dir, SNAPSHOT_DIR), "solverstate")[::-1]


def newest_solverstate(stage_dir):
    """(iteration, path) of the newest readable snapshot, or None."""
    for it, path in solverstates(stage_dir):
        if _state_ok(path, stage_dir):
            return it, path
    return None


def prune_solverstates(stage_dir, keep=2):
    """Delete all but the ``keep`` newest .solverstate files (the caffemodels
    stay: evaluation over snapshots reads them)."""
    for _, path in solverstates(stage_dir)[keep:]:
        os.unlink(path)


def read_done(stage_dir):
    """The DONE record of a finished stage (final model path made absolute),
    or None when the stage is not finished."""
    path = os.path.join(stage_dir, DONE)
    if not os.path.isfile(path):
        return None
    with open(path) as fh:
        done = json.load(fh)
    done["final_model"] = os.path.join(stage_dir, done["final_model"])
    return done if os.path.isfile(done["final_model"]) else None


def final_model(stage_dir):
    """Absolute path of a finished stage's final caffemodel, else None."""
    done = read_done(stage_dir)
    return done and done["final_model"]


def write_done(stage_dir, iteration, seconds):
    rel = os.path.relpath(model_path(stage_dir, iteration), stage_dir)
    atomic.write_text(os.path.join(stage_dir, DONE), json.dumps(
        {"final_model": rel, "iteration": iteration, "seconds": round(seconds, 1),
         "finished": now()}, indent=1) + "\n")
