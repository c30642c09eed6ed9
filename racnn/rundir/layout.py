"""The names of a run folder's files (docs/DESIGN.md, "Run folder", draws
the whole folder), its lock files, and the one snapshot naming rule:
``snapshots/<stage>_iter_<N>.caffemodel`` (and ``.solverstate``)."""
import glob
import os
import re

from ..locks import lock_path_beside

#: the run folder's own files
CONFIG = "config.json"              # the settings (racnn.rundir.settings) + provenance
VERSION = "VERSION"                 # one `git describe` line per code version used
EXPERIMENT_LOG = "experiment.log"   # the driver's timestamped lines
REPORT = "report"                   # racnn.report's table of this run
SUPERSEDED = "superseded"           # a stage's earlier files, moved aside (never read)
#: each stage folder's files
TRAIN_VAL = "train_val.prototxt"
SOLVER = "solver.prototxt"          # its presence makes a folder a stage folder
DEPLOY = "deploy.prototxt"          # classification stages
SR_DEPLOY = "sr_deploy.prototxt"    # stage1_sr
LOG = "train.log"                   # Caffe's output, appended across resumes
DONE = "DONE"                       # JSON {final_model, iteration, seconds, finished}
SNAPSHOT_DIR = "snapshots"
EVAL = "eval"                       # racnn.eval on the final model
GENERATED = "generated"             # nets generated for this run (no committed files)
#: the sources a stage copies (and hashes): the net it trains and the solver;
#: its deploy net (stage 1: the SR-only net) is derived from its copied
#: train_val, never copied (one file to edit per net)
COPIED = ("train_val", "solver")

#: the one snapshot name pattern: ``<prefix>_iter_<N>.caffemodel`` (Caffe also
#: writes ``.caffemodel.h5`` in HDF5 mode) and ``<prefix>_iter_<N>.solverstate``
_SNAPSHOT_RE = re.compile(r"_iter_(\d+)\.(caffemodel|solverstate)(?:\.h5)?$")


def snapshot_prefix(stage_dir):
    """The solver's ``snapshot_prefix`` of a stage, relative to its folder
    (Caffe runs there, so a run folder can be moved and resumed)."""
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


def lock_file(run_dir, part=None):
    """A lock file of a run folder, beside it (a refused start leaves no
    folder, nor a folder of locks: a failed data check leaves runs/ as it
    was): ``.<name>.lock`` (``part`` None: the whole run, held by a driver of
    every stage), ``.<name>.<stage>.lock`` (one stage, held by the driver
    training it) or ``.<name>.config.lock`` (held for a moment by whoever
    writes config.json, VERSION or the run's report)."""
    path = lock_path_beside(run_dir)
    return path if part is None else "%s.%s.lock" % (path[:-len(".lock")], part)

