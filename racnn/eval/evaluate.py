"""Exact evaluation: one pass over every image of a test database, the saved
scores, and the metrics computed from them (the paper's metric is the mean
over classes of each class's accuracy).

Public API
----------
``evaluate(deploy, weights, db_dir, *, train_val=None, transform=None,
batch_size=None, gpu=None, allow_unused=False) -> EvalResult(scores, labels, keys, metrics, info)``
    Load ``deploy`` (an Input-layer net whose output blob is ``prob``, else its
    last output) with the caffemodel(s) ``weights`` (through
    ``racnn.weights.load_weights``: a snapshot that does not fit names the
    first mismatching layer) and score every Datum of the LMDB folder
    ``db_dir`` exactly once, in key order; the last partial batch is run once
    with the input blob reshaped to its size.  Preprocessing equals the TEST
    phase of Caffe's DataTransformer: centre crop to the net's input size, no
    mirror, ``(pixel - mean) * scale`` in float32, with mean/scale taken from
    the TEST Data layer of ``train_val`` when given (or an explicit
    ``Transform``), and no mean, scale 1 otherwise (the released nets).
    The database's ``manifest.json`` must agree with the net's class count
    (RacnnError otherwise); a missing manifest is a ``RacnnWarning``.
``metrics_from_scores(scores, labels, class_names=None, top_k=5) -> dict``
    ``mean_class_accuracy`` (mean over the classes that have test images;
    classes without images are listed in ``absent_classes`` and left out),
    ``overall_accuracy``, ``top5_accuracy``, ``num_images``, ``num_classes``,
    ``per_class`` (list of dicts: class, name, images, correct, accuracy or
    None) and ``confusion`` (classes x classes, rows = true, columns = argmax).
    A prediction is top-k correct when fewer than k other classes score at
    least as high as the true class (Caffe's Accuracy layer rule: ties count
    against).
``Transform`` / ``transform_from_train_val(path)``: the preprocessing.
    ``info``: deploy, weights, db, train_val, transform, batch_size,
    seconds, images_per_second, manifest summary.
``write_eval(out_dir, scores, labels, metrics, extra=None)`` (atomic, replaces
``out_dir``) / ``write_eval_files(folder, ...)``, ``load_eval(eval_dir) ->
(scores, labels, metrics.json dict)``: ``scores.npy`` (N x classes float32),
    ``labels.npy`` (N int64), ``metrics.json`` (SUMMARY_KEYS + ``extra``,
    e.g. iteration, snapshot, class_names), ``per_class.csv`` (class, name,
    images, correct, accuracy; empty accuracy for a class without images)
    and ``confusion.png``.
``load_net(deploy, weights, allow_unused=False) -> (net, audit)``: snapshot
    layers the net lacks are an error unless ``allow_unused``; ``output_blob(net)``.

Run folders (docs/DESIGN.md, docs/EVALUATION.md) are read through racnn.rundir;
tools/eval_per_class.py evaluates each classification stage into <stage>/eval/.
"""
import collections
import os
import time
import warnings

import numpy as np

from .. import protoio
from ..errors import RacnnError, RacnnWarning
from ..progress import progress
from .transform import DEFAULT_TRANSFORM, Preprocessor, transform_from_train_val
from ..db.manifest import check_manifest
from .metrics import metrics_from_scores
from ..db.lmdbio import read_datums

EvalResult = collections.namedtuple(
    "EvalResult", "scores labels keys metrics info")


# ---------------------------------------------------------------- database
def _manifest(db_dir, num_classes):
    """The manifest of ``db_dir`` checked against the net; None (with a
    warning) when the folder has none."""
    if not os.path.isdir(db_dir):
        raise RacnnError("%s: no such database folder" % db_dir)
    if not os.path.isfile(os.path.join(db_dir, "manifest.json")):
        warnings.warn("%s: no manifest.json; class names, image count and class count "
                      "cannot be checked" % db_dir, RacnnWarning)
        return None
    return check_manifest(db_dir, num_classes=num_classes, kind="classification")


# ---------------------------------------------------------------- the pass
def set_mode(gpu):
    """Caffe on the CPU (``gpu`` None or negative) or on GPU ``gpu``."""
    import caffe
    if gpu is None or int(gpu) < 0:
        caffe.set_mode_cpu()
    else:
        caffe.set_mode_gpu()
        caffe.set_device(int(gpu))


def load_net(deploy, weights, allow_unused=False):
    """A TEST-phase caffe.Net of ``deploy`` with every parameter blob loaded
    from ``weights`` (a path or a list), audited; returns (net, audit).
    A snapshot layer with weights that the net lacks (a p-RACNN snapshot
    with the CNN deploy net drops sconv1-3) is a RacnnError unless
    ``allow_unused``: the number would be of another model."""
    import caffe
    # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
    from ..weights import load_weights
    protoio.read_net(deploy)                 # clear error before Caffe aborts
    weights = caffemodels(weights)
    net = caffe.Net(deploy, caffe.TEST)
    audit = load_weights(net, weights, expected_new=())
    unused = {path: names for path, names in audit.ignored.items() if names}
    if unused and not allow_unused:
        raise RacnnError("%s: the snapshot has weights for layers that %s lacks: %s; the "
                         "deploy net is not the one this snapshot was trained with (give "
                         "the matching --model, or --allow-unused to drop them)"
                         % ("; ".join(unused), deploy,
                            "; ".join(", ".join(n) for n in unused.values())))
    return net, audit


def caffemodels(weights):
    """``weights`` (a path or a list of paths) as a list; a RacnnError names
    a file that does not exist."""
    weights = [weights] if isinstance(weights, str) else list(weights)
    for w in weights:
        if not os.path.isfile(w):
            raise RacnnError("%s: no such caffemodel" % w)
    return weights


def output_blob(net):
    """``prob`` when the net has it, else its last output."""
    return "prob" if "prob" in net.blobs else net.outputs[-1]


def evaluate(deploy, weights, db_dir, *, train_val=None, transform=None, batch_size=None,
             gpu=None, desc="evaluate", allow_unused=False):
    """Score every image of ``db_dir`` once; see the module docstring."""
    if transform is None:
        transform = transform_from_train_val(train_val) if train_val else DEFAULT_TRANSFORM
    set_mode(gpu)
    net, audit = load_net(deploy, weights, allow_unused)
    in_name, out_name = net.inputs[0], output_blob(net)
    in_shape = tuple(net.blobs[in_name].data.shape)
    if len(in_shape) != 4:
        raise RacnnError("%s: input blob %r is %s, expected N x C x H x W"
                         % (deploy, in_name, in_shape))
    out_shape = net.blobs[out_name].data.shape
    num_classes = int(np.prod(out_shape[1:]))
    manifest = _manifest(db_dir, num_classes)
    class_names = (manifest or {}).get("class_names")
    count, records = read_datums(db_dir, manifest=False)   # a missing manifest only warns
    if manifest and manifest.get("count") not in (None, count):
        raise RacnnError("%s: manifest says %s images, the LMDB holds %d"
                         % (db_dir, manifest.get("count"), count))
    batch = int(batch_size or in_shape[0])
    prep = Preprocessor(transform, in_shape[1:])
    scores = np.empty((count, num_classes), np.float32)
    labels = np.empty(count, np.int64)
    keys = []
    buf = np.empty((batch,) + in_shape[1:], np.float32)

    def run(n, start):
        blob = net.blobs[in_name]
        if blob.data.shape[0] != n:
            blob.reshape(n, *in_shape[1:])
        blob.data[...] = buf[:n]
        net.forward()
        scores[start:start + n] = net.blobs[out_name].data.reshape(n, -1)

    t0 = time.time()
    i = filled = 0
    for key, label, img in progress(records, total=count, desc=desc,
                                    unit="img"):
        if i >= count:
            raise RacnnError("%s: more records than its %d entries" % (db_dir, count))
        if not 0 <= label < num_classes:
            raise RacnnError("%s: record %s has label %d, the net has %d classes (0..%d)"
                             % (db_dir, key, label, num_classes, num_classes - 1))
        buf[filled] = prep(img, key)
        labels[i] = label
        keys.append(key)
        i += 1
        filled += 1
        if filled == batch:
            run(batch, i - batch)
            filled = 0
    if filled:
        run(filled, i - filled)                 # the last partial batch, once
    seconds = time.time() - t0
    if i != count:
        raise RacnnError("%s: read %d records, the LMDB reports %d" % (db_dir, i, count))
    if count == 0:
        raise RacnnError("%s: the database is empty" % db_dir)
    metrics = metrics_from_scores(scores, labels, class_names=class_names,
                                  source="snapshot %s" % ", ".join(caffemodels(weights)))
    info = {"deploy": os.path.abspath(deploy),
            "weights": [os.path.abspath(w) for w in ([weights] if isinstance(weights, str)
                                                      else weights)],
            "db": os.path.abspath(db_dir), "train_val": train_val and os.path.abspath(train_val),
            "transform": transform.describe(), "input_shape": list(in_shape[1:]),
            "batch_size": batch, "output_blob": out_name, "seconds": round(seconds, 3),
            "images_per_second": round(count / seconds, 2) if seconds > 0 else None,
            "manifest": {k: manifest.get(k) for k in ("dataset", "split", "res", "size",
                                                      "kernel", "count", "num_classes")}
            if manifest else None,
            "loaded_layers": len({r.layer for r in audit.rows}),
            "unused_layers": sorted({n for names in audit.ignored.values() for n in names})}
    return EvalResult(scores, labels, keys, metrics, info)
