"""The paper's metric and its companions, computed from saved scores only
(no Caffe): mean class accuracy (the mean over classes of each class's
accuracy, classes without test images left out), overall and top-5 accuracy,
per-class rows and the confusion matrix; and the short text table the tools
print."""
import numpy as np

from ..errors import RacnnError

# ---------------------------------------------------------------- files
SUMMARY_KEYS = ("mean_class_accuracy", "overall_accuracy", "top5_accuracy", "num_images",
                "num_classes", "num_classes_present", "absent_classes")


# ---------------------------------------------------------------- metrics
def metrics_from_scores(scores, labels, class_names=None, top_k=5, source=None):
    """Metrics of an N x classes score matrix; see the module docstring.
    Non-finite scores are a RacnnError naming ``source`` (the snapshot or
    scores file they came from)."""
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
    check_finite(scores, source)
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


def check_finite(scores, source=None):
    """A RacnnError when any score is NaN or infinite: every comparison with
    NaN is false, so "no other class scores at least as high" would hold
    for every image and a diverged model would score 100 %."""
    bad = ~np.isfinite(scores).all(axis=1)
    if bad.any():
        raise RacnnError(
            "%s%d of %d images have non-finite scores (NaN or inf): the model diverged or "
            "its weights are corrupt; no accuracy is computed from them"
            % (source + ": " if source else "", int(bad.sum()), len(bad)))


def format_table(metrics, label=""):
    """A short text table: summary, then per class (worst and best when many)."""
    m = metrics
    lines = ["%s%d images, %d classes (%d with images)" % (
        label and label + ": ", m["num_images"], m["num_classes"], m["num_classes_present"]),
        "  mean class accuracy %6.2f %%   (the paper's metric)" % (100 * m["mean_class_accuracy"]),
        "  overall accuracy    %6.2f %%" % (100 * m["overall_accuracy"]),
        "  top-5 accuracy      %6.2f %%" % (100 * m["top5_accuracy"])]
    if m["absent_classes"]:
        lines.append("  classes without test images (left out of the mean): %s"
                     % ", ".join(map(str, m["absent_classes"])))
    rows = [r for r in m.get("per_class", []) if r["accuracy"] is not None]
    if rows:
        rows_sorted = sorted(rows, key=lambda r: (r["accuracy"], r["class"]))
        shown = rows_sorted if len(rows) <= 12 else rows_sorted[:5] + [None] + rows_sorted[-5:]
        lines.append("  %5s  %-24s %6s %7s %8s" % ("class", "name", "images", "correct",
                                                   "accuracy"))
        for r in shown:
            lines.append("  %5s" % "..." if r is None else "  %5d  %-24s %6d %7d %7.2f%%" % (
                r["class"], str(r["name"])[:24], r["images"], r["correct"],
                100 * r["accuracy"]))
    return "\n".join(lines)
