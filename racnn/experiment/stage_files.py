"""The files of one training stage folder, and their names: the driver's
log lines, snapshots (``snapshots/<stage>_iter_<N>.caffemodel`` /
``.solverstate``), the DONE marker.  docs/DESIGN.md draws the whole run
folder; racnn.experiment.caffe_train runs the stage."""
import datetime
import glob
import json
import os
import re

from .. import atomic

DONE = "DONE"


LOG = "train.log"


SNAPSHOT_DIR = "snapshots"


#: the one snapshot name pattern: ``<prefix>_iter_<N>.caffemodel`` (Caffe also
#: writes ``.caffemodel.h5`` in HDF5 mode) and ``<prefix>_iter_<N>.solverstate``
_SNAPSHOT_RE = re.compile(r"_iter_(\d+)\.(caffemodel|solverstate)(?:\.h5)?$")


def now():
    return datetime.datetime.now().isoformat(timespec="seconds")


def log_line(log_path, text, echo=True):
    """Append one driver line ``[racnn <time>] text`` to a log (and print it)."""
    line = "[racnn %s] %s" % (now(), text)
    with open(log_path, "a") as fh:
        fh.write(line + "\n")
    if echo:
        print(line, flush=True)


def snapshot_prefix(stage_dir):
    return os.path.join(SNAPSHOT_DIR, os.path.basename(os.path.normpath(stage_dir)))


def snapshot_iteration(path, kind=None):
    """N of a snapshot ``..._iter_N.caffemodel`` (or ``.solverstate``; only
    that ``kind`` when given), else None."""
    m = _SNAPSHOT_RE.search(os.path.basename(str(path)))
    return int(m.group(1)) if m and kind in (None, m.group(2)) else None


def snapshots(folder, kind="caffemodel"):
    """``[(iteration, path)]`` of the snapshots of that ``kind`` in
    ``folder``, oldest first."""
    found = ((snapshot_iteration(p, kind), p) for p in glob.glob(os.path.join(folder, "*." + kind)))
    return sorted((it, p) for it, p in found if it is not None)


def model_path(stage_dir, iteration):
    return os.path.join(stage_dir, "%s_iter_%d.caffemodel" % (snapshot_prefix(stage_dir), iteration))


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
