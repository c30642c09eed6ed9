"""The files of one evaluation folder (docs/EVALUATION.md): ``scores.npy``
(N x classes float32), ``labels.npy`` (N int64), ``metrics.json`` (the
summary keys + extra fields, e.g. iteration, snapshot, class_names),
``per_class.csv`` (empty accuracy for a class without images),
``confusion.png``; and, over several snapshots, ``accuracy_vs_iteration``."""
import json
import os

import numpy as np

from .. import atomic, plots
from ..errors import RacnnError
from .metrics import SUMMARY_KEYS


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


def write_curve(folder, pts):
    """``accuracy_vs_iteration.csv`` and ``.png`` in ``folder`` from
    [(iteration, metrics)]."""
    with open(os.path.join(folder, "accuracy_vs_iteration.csv"), "w") as fh:
        fh.write("iteration,mean_class_accuracy,overall_accuracy,top5_accuracy\n")
        for x, m in pts:
            fh.write("%d,%.6f,%.6f,%.6f\n" % (x, m["mean_class_accuracy"],
                                              m["overall_accuracy"], m["top5_accuracy"]))
    plots.accuracy_vs_iteration(
        {"mean class accuracy": [(x, m["mean_class_accuracy"]) for x, m in pts],
         "overall accuracy": [(x, m["overall_accuracy"]) for x, m in pts]},
        os.path.join(folder, "accuracy_vs_iteration.png"), ylabel="accuracy (%)")
