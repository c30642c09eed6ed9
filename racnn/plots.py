"""Pictures of results (matplotlib, Agg backend, no display needed):
confusion matrix, learning curves from a parsed Caffe log, accuracy against
iteration over snapshots (the paper's Fig. 5 style).  Every function writes
one PNG atomically and returns its path."""
import os

import numpy as np

from . import atomic


def pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(fig, path):
    plt = pyplot()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic.atomic_file(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def most_confused(confusion, class_names=None, k=15):
    """The ``k`` largest off-diagonal cells of a confusion matrix (rows: true
    class) as ``(count, true index, predicted index, true name, predicted
    name)``, largest first (ties: lower indices first); names are the class
    indices when ``class_names`` is None."""
    cm = np.asarray(confusion)
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(cm))]
    cells = [(-int(cm[i, j]), i, j) for i in range(cm.shape[0]) for j in range(cm.shape[1])
             if i != j and cm[i, j] > 0]
    return [(-n, i, j, str(names[i]), str(names[j])) for n, i, j in sorted(cells)[:k]]


def confusion_matrix(confusion, path, class_names=None, title=None, pairs=15):
    """Row-normalised confusion matrix (rows: true class, columns: predicted);
    class names on the axes when there are at most 30 classes, and beside
    the matrix the ``pairs`` most confused pairs with their counts and class
    names (with 50 or 200 classes, the axes can only show indices).  A class
    without test images is a hatched grey row, not a row of zeros that
    would read as "none correct"."""
    plt = pyplot()
    cm = np.asarray(confusion, dtype=np.float64)
    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    c = cm.shape[0]
    side = min(14.0, 3.0 + 0.3 * c)
    confused = most_confused(cm.astype(np.int64), class_names, pairs)
    fig = plt.figure(figsize=(side + 1.2 + (5.0 if confused else 0), side))
    grid = fig.add_gridspec(1, 2 if confused else 1,
                            width_ratios=[side + 1.2, 5.0] if confused else None)
    ax = fig.add_subplot(grid[0, 0])
    if confused:
        _confused_list(fig.add_subplot(grid[0, 1]), confused, int(cm.sum()))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    absent = np.flatnonzero(rows[:, 0] == 0)
    for i in absent:
        ax.add_patch(plt.Rectangle((-0.5, i - 0.5), c, 1, facecolor="0.8", edgecolor="0.5",
                                   hatch="//", linewidth=0))
    if class_names is not None and c <= 30:
        ticks = np.arange(c)
        ax.set_xticks(ticks)
        ax.set_yticks(ticks)
        ax.set_xticklabels([str(n)[:18] for n in class_names], rotation=90, fontsize=7)
        ax.set_yticklabels([str(n)[:18] for n in class_names], fontsize=7)
    if c <= 12:
        for i in range(c):
            for j in range(c):
                if cm[i, j]:
                    ax.text(j, i, "%d" % cm[i, j], ha="center", va="center", fontsize=7,
                            color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title((title or "confusion matrix") + (
        "\nhatched rows: %d of %d classes without test images" % (len(absent), c)
        if len(absent) else ""))
    return save(fig, path)


def _confused_list(ax, confused, total):
    """The most confused pairs as a text column (true -> predicted: count)."""
    ax.axis("off")
    lines = ["most confused pairs", "images  true class", "        -> predicted as", ""]
    for n, i, j, a, b in confused:
        lines.append("%6d  %d %s\n        -> %d %s" % (n, i, a[:26], j, b[:26]))
    ax.text(0, 1, "\n".join(lines), va="top", ha="left", family="monospace",
            fontsize=10, transform=ax.transAxes)


def learning_curves(train_rows, test_rows, path, title=None):
    """Training loss (and learning rate) and every scalar test output against
    iteration, from ``racnn.rundir.caffelog.parse_log``."""
    return save(learning_curves_figure(train_rows, test_rows, title), path)


def learning_curves_figure(train_rows, test_rows, title=None):
    """The figure of ``learning_curves``: loss over learning rate on the
    left, test outputs on the right."""
    plt = pyplot()
    # the learning rate in a panel of its own under the loss (a twin axis on
    # the right of the loss panel ran into the test panel's label and ticks)
    fig = plt.figure(figsize=(12, 5.5), constrained_layout=True)
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 1])
    ax1 = fig.add_subplot(grid[0, 0])
    lr_ax = fig.add_subplot(grid[1, 0], sharex=ax1)
    ax2 = fig.add_subplot(grid[:, 1])
    if train_rows:
        it = [r["iteration"] for r in train_rows if r.get("loss") is not None]
        ax1.plot(it, [r["loss"] for r in train_rows if r.get("loss") is not None],
                 lw=1, label="train loss")
        lr = [(r["iteration"], r["lr"]) for r in train_rows if r.get("lr") is not None]
        if lr:
            lr_ax.plot(*zip(*lr), color="grey", lw=1)
            lr_ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3))
    lr_ax.set_xlabel("iteration")
    lr_ax.set_ylabel("learning rate")
    ax1.tick_params(labelbottom=False)
    ax1.set_ylabel("loss")
    ax1.legend(loc="upper right")
    names = []
    for r in test_rows:
        names += [k for k in r if k not in ("iteration", "seconds") and k not in names]
    for name in names:
        pts = [(r["iteration"], r[name]) for r in test_rows if r.get(name) is not None]
        if pts:
            ax2.plot(*zip(*pts), marker="o", ms=3, lw=1, label="test " + name)
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("test output")
    if names:
        ax2.legend(loc="best", fontsize=8)
    fig.suptitle(title or "learning curves")
    return fig


def accuracy_vs_iteration(curves, path, title=None, ylabel="mean class accuracy (%)"):
    """``curves``: {label: [(iteration, accuracy in 0..1), ...]}, one line each."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, pts in curves.items():
        pts = sorted(pts)
        ax.plot([p[0] for p in pts], [100 * p[1] for p in pts], marker="o", ms=3,
                label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title or "accuracy against iteration")
    return save(fig, path)


def paper_vs_ours(cells, path, title=None):
    """Grouped bars, paper vs ours, one group per filled cell of the report
    (racnn.report.cells.paper_rows); None (no file) when no cell is filled."""
    cells = [c for c in cells if c.get("ours") is not None]
    if not cells:
        return None
    plt = pyplot()
    labels = ["%s: %s\n%s" % (c["table"], c["row"], c["dataset"] if c["table"] != "Table III"
                              else "r=%s" % c["res"]) for c in cells]
    x = np.arange(len(cells))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(cells) + 2), 4.2))
    ax.bar(x - 0.2, [c["paper"] for c in cells], 0.4, label="paper", color="#999999")
    ax.bar(x + 0.2, [c["ours"] for c in cells], 0.4, label="ours", color="#1f77b4")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("mean class accuracy (%)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title or "paper vs ours")
    return save(fig, path)
