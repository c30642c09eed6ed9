"""Reading run folders: what racnn.eval, racnn.report and racnn.sweep see of
a run.  A "run" given on the command line is either an experiment folder
(config.json + stage folders) or one stage folder (solver.prototxt +
train_val.prototxt).  Paths in the records are absolute."""
import collections
import hashlib
import json
import os

from .. import atomic, protoio
from ..errors import RacnnError
from ..vocab import CLASSIFIER_STAGES, stage_key
from . import layout
from .stage import read_done

Stage = collections.namedtuple("Stage", "name dir train_val deploy solver snapshots done")
Run = collections.namedtuple("Run", "dir config stages")


def load_config(run_dir):
    """The run folder's config.json, or None when it has none."""
    path = os.path.join(run_dir, layout.CONFIG)
    if not os.path.isfile(path):
        return None
    with open(path) as fh:
        return json.load(fh)


def sha256(path):
    """The sha256 of a file's content (hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_config(run_dir, config):
    atomic.write_text(os.path.join(run_dir, layout.CONFIG),
                      json.dumps(config, indent=1, sort_keys=True) + "\n")


def find_runs(root):
    """Every run folder (a folder with config.json) under ``root``, sorted."""
    if not os.path.isdir(root):
        raise RacnnError("%s: no such folder of runs" % root)
    found = []
    for dirpath, dirnames, files in os.walk(root):
        if layout.CONFIG in files:
            found.append(dirpath)
            dirnames[:] = []
        else:
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
    return sorted(found)


def _snapshots(stage_dir):
    """[(iteration, path)] of ``snapshots/*_iter_N.caffemodel`` (or of the
    folder itself when it has no snapshots/), oldest first."""
    sub = os.path.join(stage_dir, layout.SNAPSHOT_DIR)
    return layout.snapshots(sub if os.path.isdir(sub) else stage_dir)


def read_stage(stage_dir):
    """The Stage in ``stage_dir`` (paths absolute; deploy None when absent)."""
    d = os.path.abspath(stage_dir)

    def opt(name):
        p = os.path.join(d, name)
        return p if os.path.isfile(p) else None
    return Stage(os.path.basename(d), d, opt(layout.TRAIN_VAL), opt(layout.DEPLOY),
                 opt(layout.SOLVER), _snapshots(d), read_done(d))


def read_run(path):
    """A Run from an experiment folder or a single stage folder."""
    path = os.path.abspath(path)
    if not os.path.isdir(path):
        raise RacnnError("%s: no such run folder" % path)
    if os.path.isfile(os.path.join(path, layout.SOLVER)):
        parent = os.path.dirname(path)
        return Run(path, load_config(parent) or {}, [read_stage(path)])
    config = load_config(path)
    if config is None:
        raise RacnnError("%s: not a run folder (no config.json, no solver.prototxt)" % path)
    names = sorted((n for n in os.listdir(path)
                    if os.path.isfile(os.path.join(path, n, layout.SOLVER))),
                   key=stage_key)
    return Run(path, config, [read_stage(os.path.join(path, n)) for n in names])


def classifier_stages(run):
    """The stages of ``run`` that train a classifier (racnn.vocab), in order."""
    return [s for s in run.stages if s.name in CLASSIFIER_STAGES]


def final_stage(run):
    """The stage a run's evaluation is about: the single stage of a stage
    folder, else the last classification stage trained (racnn_p, racnn_g, cnn)."""
    stages = [s for s in run.stages if s.deploy] or run.stages
    if not stages:
        raise RacnnError("%s: no stage folders yet" % run.dir)
    return stages[-1]


def latest_model(stage):
    """A stage's newest model: the final model of a finished stage, else its
    last snapshot; None before the first snapshot."""
    if stage.done:
        return stage.done["final_model"]
    return stage.snapshots[-1][1] if stage.snapshots else None


def test_db(run, stage):
    """The test database of a stage: its TEST Data layer's source (Caffe's
    phase rules, racnn.protoio), else the run's ``paths.test_db``."""
    layer = protoio.test_data_layer(stage.train_val, required=False) if stage.train_val else None
    if layer is not None:
        return layer.data_param.source
    return (run.config.get("paths") or {}).get("test_db")


def eval_dir(run, stage=None):
    """Where a stage's evaluation goes: ``<stage>/eval``."""
    return os.path.join((stage or final_stage(run)).dir, layout.EVAL)


def last_log_line(run_dir):
    """The last non-empty line of the run's experiment.log ('' without one)."""
    try:
        with open(os.path.join(run_dir, layout.EXPERIMENT_LOG)) as fh:
            lines = [line.strip() for line in fh if line.strip()]
        return lines[-1] if lines else ""
    except OSError:
        return ""
