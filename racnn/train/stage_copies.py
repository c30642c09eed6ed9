"""A stage folder's copies of the nets it trains: the committed (or
generated, or --nets) train_val written into the stage folder with only its
run-specific fields rewritten (through protobuf ``text_format``, never by
string editing), and the deploy net derived from that copy.

* train/val net: the ``source`` of each ``Data`` layer (TRAIN / TEST database
  by its ``include { phase }``), and ``batch_size`` only when the configuration
  sets one;
* deploy net (stage 1: the SR-only net): derived from the copied train_val,
  never copied, so an edit of the train_val holds for evaluation too.

Everything else (multipliers, layers, fillers) is trained exactly as written.
The solver's copy: racnn.train.schedule.
"""
import os

from .. import protoio
from ..db.manifest import existing_manifest
from ..errors import RacnnError
from ..rundir import layout


def write_copy(src, dst, msg):
    """Write ``msg``, the run folder's copy of the prototxt ``src``, in the
    text ``src`` was written in (racnn.protoio), keeping its header, plus a
    line saying where it came from and what this module rewrote."""
    header = protoio.header_lines(src) + [
        "Run-folder copy of %s: only the run-specific fields are rewritten "
        "(racnn.train.stage_copies)." % src]
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


def write_deploy(train_val_copy, dst, sr_size=None):
    """A stage's deploy net, derived from the copy of the train_val it trains
    (racnn.nets.build): an edit of the train_val holds for evaluation too.
    A classification stage's deploy.prototxt (deploy_from_train_val), or
    stage 1's sr_deploy.prototxt (sr_deploy_from_train_val, ``sr_size``
    square input) when ``dst`` is named so."""
    # deferred: racnn.nets imports pycaffe (~1 s)
    from ..nets.build import deploy_from_train_val, sr_deploy_from_train_val
    train_val = protoio.read_net(train_val_copy)
    if os.path.basename(dst) == layout.SR_DEPLOY:
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


