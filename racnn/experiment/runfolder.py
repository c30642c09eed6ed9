"""Run folders: the code version, the resolved configuration, and the copies
of the nets and solver a stage trains, with only the run-specific fields
rewritten (through protobuf ``text_format``, never by string editing):

* train/val net: the ``source`` of each ``Data`` layer (TRAIN / TEST database
  by its ``include { phase }``), and ``batch_size`` only when the configuration
  sets one;
* solver: ``net`` (the copy beside it), ``snapshot_prefix``, ``max_iter`` and
  the iteration counts that follow from it (``stepvalue`` / ``stepsize``
  scaled by the same factor, ``snapshot``, ``test_interval``, ``test_iter``,
  ``display``), ``solver_mode`` and, when the configuration sets one,
  ``random_seed``.  Everything else (learning rates, momentum, policy,
  multipliers, layers) is trained exactly as written in ``prototxt/`` and
  ``solvers/``.
"""
import collections
import hashlib
import json
import math
import os
import shutil
import subprocess
import time

from .. import __version__, atomic, protoio
from ..db.manifest import existing_manifest
from ..errors import RacnnError
from .config import STAGE_ORDER
from ..paths import REPO
from .stage_files import snapshot_prefix

from .stage_files import SNAPSHOT_DIR, read_done, snapshots


def code_version():
    """``git describe --always --dirty`` of the checkout (or the package
    version outside git), e.g. ``cca7fba-dirty``."""
    try:
        out = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty", "--tags"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             universal_newlines=True, timeout=20)
        desc = out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        desc = ""
    return "%s (racnn %s)" % (desc or "not a git checkout", __version__)


def write_copy(src, dst, msg):
    """Write ``msg``, the run folder's copy of the prototxt ``src``, in the
    text ``src`` was written in (racnn.protoio), keeping its header, plus a
    line saying where it came from and what this module rewrote."""
    header = protoio.header_lines(src) + [
        "Run-folder copy of %s: only the run-specific fields are rewritten "
        "(racnn.experiment.runfolder)." % src]
    protoio.write_prototxt(dst, msg, header)


def data_layers(net):
    """{"train": layer, "test": layer} of a net's LMDB Data layers, by Caffe's
    phase rules (a layer in both phases counts as the TRAIN one)."""
    found = {}
    for layer in net.layer:
        if layer.type == "Data":
            phases = protoio.layer_phases(layer)
            found[phases.pop() if len(phases) == 1 else "train"] = layer
    return found


def copy_net(src, dst, sources, batch_sizes=None):
    """Copy net ``src`` to ``dst`` with the Data layers reading ``sources``
    ({"train": db, "test": db}; absolute paths) and, when given, the batch
    sizes ``batch_sizes`` ({"train": n, "test": m}).  Returns the batch
    sizes the copy trains with."""
    net = protoio.read_net(src)
    layers = data_layers(net)
    missing = sorted(set(layers) - set(k for k, v in sources.items() if v))
    if not layers or missing:
        raise RacnnError("%s: no database for the Data layer(s) of phase %s"
                         % (src, ", ".join(missing) or "train/test (the net has none)"))
    batches = {}
    for phase, layer in layers.items():
        check_crop(src, layer, sources[phase])
        layer.data_param.source = os.path.abspath(sources[phase])
        if batch_sizes and batch_sizes.get(phase):
            layer.data_param.batch_size = int(batch_sizes[phase])
        batches[phase] = layer.data_param.batch_size
    write_copy(src, dst, net)
    return batches


def check_crop(net_path, layer, db):
    """Caffe aborts with a C++ check (``datum_height >= crop_size``) when a
    Data layer crops more than the database stores: say so before training,
    naming both numbers and both files (classification images: ``size``;
    stage-1 patches: ``patch``)."""
    crop = layer.transform_param.crop_size
    manifest = existing_manifest(db)
    key, setting = {"classification": ("size", "db_size"),
                    "sr_patches": ("patch", "sr_patch")}.get(manifest.get("kind"), (None, None))
    size = manifest.get(key) if key else None
    if not crop or not size or size >= crop:
        return
    raise RacnnError("database %s stores %dx%d images, but %s crops %dx%d from them (layer %s, "
                     "transform_param crop_size); build the databases at least that large "
                     "(--set %s=%d, or the default) or lower the net's crop_size"
                     % (db, size, size, net_path, crop, crop, layer.name, setting, crop))


def scaled_solver(src, max_iter, test_iter=None, snapshots=10, tests=5, gpu=False, seed=None,
                  stage_dir="."):
    """The solver ``src`` for a stage folder: iteration counts for ``max_iter``
    (steps scaled from the committed schedule), ``snapshots`` snapshots and
    ``tests`` in-solver test passes of ``test_iter`` batches (none when
    ``test_iter`` is None)."""
    from caffe.proto import caffe_pb2
    msg = protoio.read_solver(src)
    old = msg.max_iter or max_iter
    factor = float(max_iter) / old

    def scale(v):
        return max(1, int(round(v * factor)))
    steps = [scale(v) for v in msg.stepvalue]
    del msg.stepvalue[:]
    msg.stepvalue.extend(steps)
    if msg.HasField("stepsize"):
        msg.stepsize = scale(msg.stepsize)
    msg.max_iter = int(max_iter)
    msg.net = "train_val.prototxt"
    msg.ClearField("train_net")
    msg.ClearField("test_net")
    msg.snapshot_prefix = snapshot_prefix(stage_dir)
    msg.snapshot = max(1, int(math.ceil(max_iter / float(max(1, snapshots)))))
    msg.display = max(1, min(msg.display or 20, max_iter // 20 or 1))
    del msg.test_iter[:]
    if test_iter:
        msg.test_iter.append(int(test_iter))
        msg.test_interval = max(1, int(math.ceil(max_iter / float(max(1, tests)))))
    else:
        msg.test_interval = max_iter + 1        # no in-solver test (eval/ is exact)
    msg.test_initialization = False
    msg.solver_mode = caffe_pb2.SolverParameter.GPU if gpu else caffe_pb2.SolverParameter.CPU
    if seed is not None:
        msg.random_seed = int(seed)
    return msg


# ------------------------------------------- sources, stale copies, restarts
#: the sources a stage copies (and hashes): the net it trains and the solver;
#: its deploy net (stage 1: the SR-only net) is derived from its copied
#: train_val, never copied (one file to edit per net)
COPIED = ("train_val", "solver")
#: where a restarted or superseded stage's old files go (not a stage folder:
#: racnn.eval and racnn.report never read it)
SUPERSEDED = "superseded"
#: stages that read another stage's final model: restarting the first makes
#: the second stale too
DEPENDENTS = {"backbone_hr": ("cnn", "staged_hr", "staged", "racnn_g", "racnn_p"),
              "stage1_sr": ("racnn_p",), "staged_hr": ("staged",)}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def source_hashes(src):
    """{key: sha256} of the sources a stage copies (``COPIED`` keys of ``src``)."""
    return {k: sha256(v) for k, v in sorted(src.items()) if k in COPIED and v}


def changed_sources(record, src):
    """The sources (``src``: {key: path}) whose content differs from what the
    stage recorded when it copied them, as "path (sha256 old.. -> new..)"
    strings; [] when nothing changed or the stage recorded no hashes (run
    folders of older versions)."""
    old = (record or {}).get("source_sha256") or {}
    out = []
    for key, new in source_hashes(src).items():
        if key in old and old[key] != new:
            out.append("%s (sha256 %s.. -> %s..)" % (_short(src[key]), old[key][:12], new[:12]))
        elif key not in old and old:
            out.append("%s (new source)" % _short(src[key]))
    return out


def _short(path):
    return os.path.relpath(path, REPO) if path.startswith(REPO + os.sep) else path


def supersede(stage_dir):
    """Move a stage folder's files (all but ``generated/``, where the sources
    of a generated net are) to ``<run>/superseded/<stage>-<time>/``, so the
    stage starts afresh and nothing is deleted; returns that folder."""
    run_dir, name = os.path.split(os.path.abspath(stage_dir))
    dst = os.path.join(run_dir, SUPERSEDED, "%s-%s" % (name, time.strftime("%Y%m%dT%H%M%S")))
    while os.path.exists(dst):
        dst += "_"
    os.makedirs(dst)
    for entry in sorted(os.listdir(stage_dir)):
        if entry != "generated":
            shutil.move(os.path.join(stage_dir, entry), os.path.join(dst, entry))
    return dst


def restart_set(names, plan):
    """The stages to train afresh for ``--restart names``: each name (which
    must be in ``plan``) and the stages of ``plan`` that read its final model."""
    out = []
    for name in names or ():
        if name not in plan:
            raise RacnnError("--restart %s: not a stage of this run (its stages: %s)"
                             % (name, ", ".join(plan)))
        for stage in (name,) + DEPENDENTS.get(name, ()):
            if stage in plan and stage not in out:
                out.append(stage)
    return out


def stale_message(name, changed, command):
    """What the driver says about a finished stage whose sources changed."""
    return ("%s is STALE: it finished with an older copy of %s; its model and results are of "
            "the old net (its copy: %s/train_val.prototxt). To retrain it with the current "
            "file: %s --restart %s" % (name, "; ".join(changed), name, command, name))


def source_note(train_val, stage_dir):
    """Which net a stage trains, for the log: the file, and for a net the
    driver generated into ``<stage>/generated/`` how to edit it instead."""
    if os.path.dirname(os.path.abspath(train_val)) == os.path.join(
            os.path.abspath(stage_dir), "generated"):
        return ("a net generated for this run (%s); to edit it, write the set once with "
                "tools/make_nets.py ... --out mynets/, edit it there and rerun with --nets "
                "mynets/" % os.path.relpath(train_val, os.path.dirname(stage_dir)))
    return _short(os.path.abspath(train_val))


def write_deploy(train_val_copy, dst, sr_size=None):
    """A stage's deploy net, derived from the copy of the train_val it trains
    (racnn.nets.build): an edit of the train_val holds for evaluation too.
    A classification stage's deploy.prototxt (deploy_from_train_val), or
    stage 1's sr_deploy.prototxt (sr_deploy_from_train_val, ``sr_size``
    square input) when ``dst`` is named so."""
    # deferred: racnn.nets imports pycaffe (~1 s)
    from ..nets.build import deploy_from_train_val, sr_deploy_from_train_val
    train_val = protoio.read_net(train_val_copy)
    if os.path.basename(dst) == "sr_deploy.prototxt":
        net = sr_deploy_from_train_val(train_val, sr_size, sr_size, where=train_val_copy)
        what = ("SR-only net derived from train_val.prototxt beside it "
                "(racnn.nets.build.sr_deploy_from_train_val): the pair database and its "
                "Slice replaced by an Input, the loss dropped; output 'sum'.")
    else:
        net = deploy_from_train_val(train_val, where=train_val_copy)
        what = ("Deploy net derived from train_val.prototxt beside it "
                "(racnn.nets.build.deploy_from_train_val): the Data layers replaced by an "
                "Input of the TEST-phase crop, losses and accuracy dropped, softmax 'prob' "
                "added. This is the net evaluation uses.")
    protoio.write_prototxt(dst, net, [what + " Edit the train_val, not this file."])
    return dst


def load_config(run_dir):
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        return None
    with open(path) as fh:
        return json.load(fh)


def save_config(run_dir, config):
    atomic.write_text(os.path.join(run_dir, "config.json"),
                      json.dumps(config, indent=1, sort_keys=True) + "\n")


def prepare(run_dir, config, compare_keys, keep=()):
    """Create ``run_dir`` (or reuse it): write VERSION and config.json.  A
    folder made with another configuration (any of ``compare_keys``
    differs) is an error naming the differences, never silently mixed.
    The dict entries ``keep`` of an earlier config.json (what earlier
    attempts recorded) are merged into ``config`` first.  Returns the code
    version."""
    os.makedirs(run_dir, exist_ok=True)
    old = load_config(run_dir)
    if old is not None:
        diff = ["%s: %r -> %r" % (k, old.get(k), config.get(k))
                for k in compare_keys if old.get(k) != config.get(k)]
        if diff:
            raise RacnnError("%s was made with another configuration (%s); use another "
                             "--run-dir or delete that folder" % (run_dir, "; ".join(diff)))
        for key in keep:
            config[key].update(old.get(key) or {})
    version = code_version()
    lines = [version]
    vpath = os.path.join(run_dir, "VERSION")
    if os.path.isfile(vpath):
        with open(vpath) as fh:
            previous = fh.read().strip().splitlines()
        if previous and previous[-1] != version:
            lines = previous + [version]        # a resumed run: every version used
    atomic.write_text(vpath, "\n".join(lines) + "\n")
    save_config(run_dir, config)
    return version


# ------------------------------------------------------------ reading runs
# Used by racnn.eval and racnn.report: a "run" given
# on the command line is either an experiment folder (config.json + stage
# folders) or one stage folder (solver.prototxt + train_val.prototxt).
Stage = collections.namedtuple("Stage", "name dir train_val deploy solver snapshots done")
Run = collections.namedtuple("Run", "dir config stages")


def stage_key(name):
    """Sort key of stage names: training order (STAGE_ORDER), other names
    after them by name."""
    return (STAGE_ORDER.index(name) if name in STAGE_ORDER else len(STAGE_ORDER), name)


def _snapshots(stage_dir):
    """[(iteration, path)] of ``snapshots/*_iter_N.caffemodel`` (or of the
    folder itself when it has no snapshots/), oldest first."""
    sub = os.path.join(stage_dir, SNAPSHOT_DIR)
    return snapshots(sub if os.path.isdir(sub) else stage_dir)


def read_stage(stage_dir):
    """The Stage in ``stage_dir`` (paths absolute; deploy None when absent)."""
    d = os.path.abspath(stage_dir)

    def opt(name):
        p = os.path.join(d, name)
        return p if os.path.isfile(p) else None
    return Stage(os.path.basename(d), d, opt("train_val.prototxt"), opt("deploy.prototxt"),
                 opt("solver.prototxt"), _snapshots(d), read_done(d))


def read_run(path):
    """A Run from an experiment folder or a single stage folder."""
    path = os.path.abspath(path)
    if not os.path.isdir(path):
        raise RacnnError("%s: no such run folder" % path)
    if os.path.isfile(os.path.join(path, "solver.prototxt")):
        parent = os.path.dirname(path)
        return Run(path, load_config(parent) or {}, [read_stage(path)])
    config = load_config(path)
    if config is None:
        raise RacnnError("%s: not a run folder (no config.json, no solver.prototxt)" % path)
    names = sorted((n for n in os.listdir(path)
                    if os.path.isfile(os.path.join(path, n, "solver.prototxt"))),
                   key=stage_key)
    return Run(path, config, [read_stage(os.path.join(path, n)) for n in names])


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
    return os.path.join((stage or final_stage(run)).dir, "eval")
