"""A run's stage 1 as the shared stage-1 model of its settings
(racnn.rundir.sr_model): ``<run>/stage1_sr`` is a relative link to
``<runs>/sr/<images>-<hash>/``, trained there by the first run that needs it
(under the model's lock: a second one waits, then finds it finished) and
reused by every other.  A model that is not usable (its final model missing,
unreadable, or not the one shared.json records) is never used: its files
move aside and it is trained again."""
import os
import shutil

from ..rundir import sr_model
from ..rundir.stage import read_done
from . import provenance


def readable(model):
    """Whether ``model`` is a complete caffemodel holding the SR layers'
    weights (a file cut short does not parse)."""
    # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
    from caffe.proto import caffe_pb2
    from ..nets import SR_NAMES
    net = caffe_pb2.NetParameter()
    try:
        with open(model, "rb") as fh:
            net.ParseFromString(fh.read())
    except Exception:               # protobuf's DecodeError: truncated or not a model
        return False
    blobs = {l.name: len(l.blobs) for l in net.layer}
    return all(blobs.get(n) for n in SR_NAMES)


def problems(shared, cfg):
    """Why the shared model in ``shared`` may not be used ([]: it may),
    checked like a snapshot (racnn.rundir.sr_model.problems, and the final
    model parsed).  A final model whose record was never written (a driver
    killed right after DONE) gets its record now when it parses."""
    done = read_done(shared)
    if done and sr_model.read_record(shared) is None and readable(done["final_model"]):
        sr_model.write_record(shared, cfg, {}, "recovered: DONE without %s" % sr_model.RECORD)
    out = sr_model.problems(shared, sr_model.settings_hash(cfg))
    if not out and not readable(done["final_model"]):
        out.append("%s does not parse as a caffemodel with the SR layers" % done["final_model"])
    return out


def link(stage_dir, shared):
    """Make ``<run>/stage1_sr`` the relative link to ``shared``; an earlier
    stage1_sr folder of the run is moved aside to ``<run>/superseded/``
    first, a link elsewhere replaced."""
    os.makedirs(shared, exist_ok=True)
    target = os.path.relpath(shared, os.path.dirname(stage_dir))
    if os.path.islink(stage_dir):
        if os.readlink(stage_dir) == target:
            return
        os.unlink(stage_dir)
    elif os.path.isdir(stage_dir):
        aside = provenance.supersede(stage_dir)
        for entry in os.listdir(stage_dir):        # generated/ too: the folder goes
            shutil.move(os.path.join(stage_dir, entry), os.path.join(aside, entry))
        os.rmdir(stage_dir)
    os.symlink(target, stage_dir)


def set_aside(shared):
    """Move the files of an unusable shared model aside (beside the shared
    folders, in superseded/); returns where."""
    return provenance.supersede(shared)


def is_shared(stage_dir):
    """Whether a run's stage1_sr is a link to a shared model."""
    return os.path.islink(stage_dir)


def linked_to(stage_dir):
    """The shared model folder a run's stage1_sr links to, or None."""
    return os.path.realpath(stage_dir) if os.path.islink(stage_dir) else None
