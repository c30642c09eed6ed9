"""Exact evaluation: one pass over every image of a test database, the saved
scores, and the metrics computed from them (the paper's metric is the mean
over classes of each class's accuracy).

Public API
----------
``evaluate(deploy, weights, db_dir, *, train_val=None, transform=None,
batch_size=None, gpu=None) -> EvalResult(scores, labels, keys, metrics, info)``
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
``load_net(deploy, weights) -> (net, audit)``, ``output_blob(net)``.
``snapshot_iteration(path)``: N of ``*_iter_N.caffemodel`` (None otherwise).

Run folders (racnn.experiment, docs/EVALUATION.md) are read by racnn.runfolder;
tools/eval_per_class.py evaluates each classification stage into <stage>/eval/.
"""
import collections
import json
import os
import re
import time
import warnings

import numpy as np

from .. import atomic, protoio
from ..db import lmdbio as db
from ..errors import RacnnError, RacnnWarning
from ..progress import progress
from .transform import DEFAULT_TRANSFORM, Preprocessor, Transform, transform_from_train_val
from ..db.manifest import check_manifest
from .. import plots
from ..db import datum

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


def _records(db_dir):
    """(count, iterator of (key, label, CHW uint8 BGR)) in key order, the
    order Caffe's Data layer reads.  Like racnn.db.iter_datums (whose
    parse_datum decodes each record) but usable without a manifest, which
    is only a warning here."""
    import lmdb
    try:
        env = lmdb.open(db_dir, readonly=True, lock=False, readahead=False)
    except lmdb.Error as exc:
        raise RacnnError("database %s: cannot open the LMDB (%s)" % (db_dir, exc))

    def gen():
        try:
            with env.begin() as txn:
                for key, value in txn.cursor():
                    label, arr = datum.parse_datum(value)
                    yield key.decode("utf-8", "replace"), label, arr
        finally:
            env.close()
    return env.stat()["entries"], gen()


# ---------------------------------------------------------------- the pass
def set_mode(gpu):
    """Caffe on the CPU (``gpu`` None or negative) or on GPU ``gpu``."""
    import caffe
    if gpu is None or int(gpu) < 0:
        caffe.set_mode_cpu()
    else:
        caffe.set_mode_gpu()
        caffe.set_device(int(gpu))


def load_net(deploy, weights):
    """A TEST-phase caffe.Net of ``deploy`` with every parameter blob loaded
    from ``weights`` (a path or a list), audited; returns (net, audit)."""
    import caffe
    from ..weights import load_weights
    protoio.read_net(deploy)                 # clear error before Caffe aborts
    weights = caffemodels(weights)
    net = caffe.Net(deploy, caffe.TEST)
    audit = load_weights(net, weights, expected_new=())
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
             gpu=None, desc="evaluate"):
    """Score every image of ``db_dir`` once; see the module docstring."""
    if transform is None:
        transform = transform_from_train_val(train_val) if train_val else DEFAULT_TRANSFORM
    set_mode(gpu)
    net, audit = load_net(deploy, weights)
    in_name, out_name = net.inputs[0], output_blob(net)
    in_shape = tuple(net.blobs[in_name].data.shape)
    if len(in_shape) != 4:
        raise RacnnError("%s: input blob %r is %s, expected N x C x H x W"
                         % (deploy, in_name, in_shape))
    out_shape = net.blobs[out_name].data.shape
    num_classes = int(np.prod(out_shape[1:]))
    manifest = _manifest(db_dir, num_classes)
    class_names = (manifest or {}).get("class_names")
    count, records = _records(db_dir)
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
    metrics = metrics_from_scores(scores, labels, class_names=class_names)
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
            "loaded_layers": len({r.layer for r in audit.rows})}
    return EvalResult(scores, labels, keys, metrics, info)


# ---------------------------------------------------------------- metrics
def metrics_from_scores(scores, labels, class_names=None, top_k=5):
    """Metrics of an N x classes score matrix; see the module docstring."""
    scores = np.asarray(scores)
    labels = np.asarray(labels).astype(np.int64).ravel()
    if scores.ndim != 2 or scores.shape[0] != labels.shape[0]:
        raise RacnnError("scores %s and labels %s do not match (need N x classes and N)"
                         % (scores.shape, labels.shape))
    n, c = scores.shape
    if n == 0:
        raise RacnnError("no scores to evaluate")
    if labels.min() < 0 or labels.max() >= c:
        raise RacnnError("labels range %d..%d, scores have %d classes"
                         % (labels.min(), labels.max(), c))
    if class_names is not None and len(class_names) != c:
        raise RacnnError("%d class names for %d classes" % (len(class_names), c))
    true = scores[np.arange(n), labels]
    better = (scores >= true[:, None]).sum(axis=1) - 1   # other classes >= true
    correct = better < 1
    pred = scores.argmax(axis=1)
    images = np.bincount(labels, minlength=c)
    hits = np.bincount(labels[correct], minlength=c)
    present = images > 0
    acc = np.where(present, hits / np.maximum(images, 1), np.nan)
    confusion = np.bincount(labels * c + pred, minlength=c * c).reshape(c, c)
    per_class = [{"class": k, "name": class_names[k] if class_names else str(k),
                  "images": int(images[k]), "correct": int(hits[k]),
                  "accuracy": float(acc[k]) if present[k] else None} for k in range(c)]
    k5 = min(top_k, c)
    return {
        "mean_class_accuracy": float(acc[present].mean()),
        "overall_accuracy": float(correct.mean()),
        "top%d_accuracy" % top_k: float((better < k5).mean()),
        "num_images": int(n), "num_classes": int(c),
        "num_classes_present": int(present.sum()),
        "absent_classes": [int(k) for k in np.flatnonzero(~present)],
        "per_class": per_class, "confusion": confusion}


def snapshot_iteration(path):
    """The iteration N of a snapshot ``..._iter_N.caffemodel``, else None."""
    m = re.search(r"_iter_(\d+)\.caffemodel(?:\.h5)?$", os.path.basename(str(path)))
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------- files
SUMMARY_KEYS = ("mean_class_accuracy", "overall_accuracy", "top5_accuracy", "num_images",
                "num_classes", "num_classes_present", "absent_classes")


def write_eval_files(folder, scores, labels, metrics, extra=None):
    """Write the five files of an evaluation into an existing ``folder``."""
    np.save(os.path.join(folder, "scores.npy"), np.asarray(scores, np.float32))
    np.save(os.path.join(folder, "labels.npy"), np.asarray(labels, np.int64))
    doc = {k: metrics[k] for k in SUMMARY_KEYS}
    doc.update(extra or {})
    with open(os.path.join(folder, "metrics.json"), "w") as fh:
        json.dump(doc, fh, indent=1, sort_keys=True)
        fh.write("\n")
    with open(os.path.join(folder, "per_class.csv"), "w") as fh:
        fh.write("class,name,images,correct,accuracy\n")
        for row in metrics["per_class"]:
            fh.write("%d,%s,%d,%d,%s\n" % (
                row["class"], csv_field(row["name"]), row["images"], row["correct"],
                "" if row["accuracy"] is None else "%.6f" % row["accuracy"]))
    plots.confusion_matrix(metrics["confusion"], os.path.join(folder, "confusion.png"),
                           class_names=[r["name"] for r in metrics["per_class"]],
                           title="mean class accuracy %.2f%%"
                           % (100 * metrics["mean_class_accuracy"]))


def csv_field(text):
    """``text`` as one CSV field: quoted (quotes doubled) when it holds a
    comma, a quote or a newline."""
    text = str(text)
    return '"%s"' % text.replace('"', '""') if any(ch in text for ch in ',"\n') else text


def write_eval(out_dir, scores, labels, metrics, extra=None):
    """Write one evaluation atomically into ``out_dir`` (replaced if present):
    scores.npy, labels.npy, metrics.json (summary + ``extra``), per_class.csv,
    confusion.png."""
    with atomic.atomic_dir(out_dir, overwrite=True) as tmp:
        write_eval_files(tmp, scores, labels, metrics, extra)
    return out_dir


def load_eval(eval_dir):
    """(scores, labels, metrics.json dict or {}) of a folder written by
    write_eval or by ``tools/eval_per_class.py``."""
    paths = [os.path.join(eval_dir, f) for f in ("scores.npy", "labels.npy")]
    for p in paths:
        if not os.path.isfile(p):
            raise RacnnError("%s: missing (not an evaluation folder?)" % p)
    try:
        scores, labels = np.load(paths[0]), np.load(paths[1])
    except (ValueError, OSError) as exc:
        raise RacnnError("%s: cannot read saved scores (%s)" % (eval_dir, exc))
    mpath = os.path.join(eval_dir, "metrics.json")
    meta = {}
    if os.path.isfile(mpath):
        with open(mpath) as fh:
            meta = json.load(fh)
    return scores, labels, meta
