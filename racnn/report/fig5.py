"""The paper's Fig. 5: test accuracy against training iteration of CNN,
g-RACNN and p-RACNN (and Staged-Training when a run has it), one picture per
dataset, drawn from run folders.

Each network's curve comes from the best source its stage folder has:

* ``snapshots``: ``<stage>/eval/accuracy_vs_iteration.csv``, racnn.eval over
  the stage's snapshots (``python3 -m racnn.eval RUN --all-snapshots``): the
  paper's metric, mean class accuracy on the whole test set;
* ``solver``: the in-solver test passes in ``<stage>/train.log`` (Caffe's
  Accuracy layer: overall accuracy over ``test_iter`` batches, which the
  smoke settings cap), labelled as such;

and ends, when the stage was evaluated, at the final model's mean class
accuracy (``<stage>/eval/metrics.json``).  ``write_fig5(run_dirs, out_dir)``
writes ``fig5_<dataset>.png`` and ``fig5_<dataset>.csv`` (every point
drawn) per dataset.
"""
import collections
import csv
import json
import os

from .. import atomic, paper, plots
from ..errors import RacnnError
from .. import vocab
from ..rundir import caffelog, layout, reader

#: the networks of Fig. 5, in the legend's order: the classification variants
#: the networks of Fig. 5: the classification variants, and the backbone
#: trained on the undegraded images when a run has one (the HR reference)
NETWORKS = ("backbone_hr",) + tuple(vocab.VARIANTS)
#: one marker shape per series, so that equal points stay visible
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")
CSV_COLUMNS = ("dataset", "run", "variant", "source", "iteration", "accuracy")


def accuracy_key(row):
    """The test output holding top-1 accuracy in a parsed log's test row:
    ``accuracy`` (AlexNet, VGG-16, tiny), else GoogLeNet's ``loss3/top-1``,
    else the first output named like an accuracy; None when there is none."""
    names = [k for k in row if k not in ("iteration", "seconds") and not k.startswith("test1/")]
    for want in ("accuracy", "loss3/top-1"):
        if want in row:
            return want
    hits = [k for k in names if "acc" in k.lower() or "top-1" in k.lower()]
    return hits[0] if hits else None


def solver_curve(log_path):
    """[(iteration, accuracy 0..1)] of the in-solver test passes of a
    train.log (empty when the log has none)."""
    if not os.path.isfile(log_path):
        return []
    rows = caffelog.parse_log(log_path).test
    key = accuracy_key(rows[0]) if rows else None
    return [(r["iteration"], r[key]) for r in rows if key and r.get(key) is not None]


def snapshot_curve(eval_dir):
    """[(iteration, mean class accuracy 0..1)] of racnn.eval's evaluation of
    a stage's snapshots, or [] when it was not run."""
    path = os.path.join(eval_dir, "accuracy_vs_iteration.csv")
    if not os.path.isfile(path):
        return []
    with open(path) as fh:
        return [(int(r["iteration"]), float(r["mean_class_accuracy"]))
                for r in csv.DictReader(fh)]


def final_point(eval_dir):
    """(iteration, mean class accuracy) of the stage's final evaluation, or None."""
    path = os.path.join(eval_dir, "metrics.json")
    if not os.path.isfile(path):
        return None
    with open(path) as fh:
        m = json.load(fh)
    if m.get("iteration") is None:
        return None
    return int(m["iteration"]), float(m["mean_class_accuracy"])


def run_curves(run_dir):
    """{variant: {"source", "points", "final"}} of one run folder."""
    run = reader.read_run(run_dir)
    out = collections.OrderedDict()
    for st in run.stages:
        if st.name not in NETWORKS:
            continue
        ev = os.path.join(st.dir, layout.EVAL)
        pts, source = snapshot_curve(ev), "snapshots"
        if not pts:
            pts, source = solver_curve(os.path.join(st.dir, layout.LOG)), "solver"
        final = final_point(ev)
        if pts or final:
            out[st.name] = {"source": source, "points": pts, "final": final}
    return out


def collect(run_dirs):
    """{dataset: [(run folder, {variant: curve})]} of the runs with a curve."""
    by = collections.OrderedDict()
    for rd in run_dirs:
        curves = run_curves(rd)
        if curves:
            cfg = reader.load_config(rd) or {}
            by.setdefault(cfg.get("dataset") or "?", []).append((rd, curves))
    return by


def _label(variant, backbone, run_name, several):
    try:
        title = (vocab.STAGES[variant].title if variant not in vocab.VARIANTS
                 else paper.title(backbone, variant))
    except RacnnError:          # a run folder without a known backbone
        title = variant
    return title + (" (%s)" % run_name if several else "")


def draw(dataset, series, path):
    """The picture: one colour per network, its curve as a line, its final
    model as a star of the same colour.  ``series``: [(label, points, final)]."""
    plt = plots.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    (lo, hi), shifts = x_layout(series)
    for i, (label, pts, final) in enumerate(series):
        colour, shift = "C%d" % i, shifts[i]
        if pts:
            pts = sorted(pts)
            ax.plot([p[0] + shift for p in pts], [100 * p[1] for p in pts],
                    marker=MARKERS[i % len(MARKERS)], ms=4, color=colour, label=label)
        if final:
            ax.plot([final[0] + shift], [100 * final[1]], marker="*", ms=13, ls="none",
                    color=colour, markeredgecolor="black", markeredgewidth=0.6,
                    label=None if pts else label)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("iterations")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    ax.set_title("Fig. 5 (%s): test accuracy against iterations\n"
                 "line: curve as labelled; star: final model, mean class accuracy; equal "
                 "points drawn side by side" % dataset, fontsize=10)
    return plots.save(fig, path)


def x_layout(series):
    """((x min, x max), [x shift of each series]): the iterations from 0 with
    a margin (a run whose points all sit at one iteration is not drawn on an
    axis of 3.8..4.2), and series shifted apart a little, so that equal
    points (two final models with the same accuracy) do not hide each other."""
    xs = [p[0] for _, pts, final in series for p in list(pts) + ([final] if final else [])]
    lo, hi = min(xs + [0]), max(xs + [1])
    pad = 0.06 * (hi - lo) or 1
    step = 0.012 * (hi - lo + 2 * pad)
    return (lo - pad, hi + pad), [(i - (len(series) - 1) / 2.0) * step
                                  for i in range(len(series))]


def write_fig5(run_dirs, out_dir):
    """Fig. 5 per dataset into ``out_dir``; returns the paths written
    (PNG and CSV per dataset; nothing when no run has a curve)."""
    paths = []
    for dataset, runs in collect(run_dirs).items():
        series, rows = [], []
        for rd, curves in runs:
            cfg = reader.load_config(rd) or {}
            name = os.path.basename(rd)
            for variant in NETWORKS:
                c = curves.get(variant)
                if not c:
                    continue
                what = ("mean class acc. of snapshots" if c["source"] == "snapshots"
                        else "in-solver test acc.")
                series.append(("%s (%s)" % (_label(variant, cfg.get("backbone"), name,
                                                   len(runs) > 1), what),
                               c["points"], c["final"]))
                rows += [(dataset, name, variant, c["source"], it, acc)
                         for it, acc in c["points"]]
                if c["final"]:
                    rows.append((dataset, name, variant, "final", c["final"][0],
                                 c["final"][1]))
        png = draw(dataset, series, os.path.join(out_dir, "fig5_%s.png" % dataset))
        csv_path = os.path.join(out_dir, "fig5_%s.csv" % dataset)
        with atomic.atomic_file(csv_path) as fh:
            fh.write(",".join(CSV_COLUMNS) + "\n")
            for r in rows:
                fh.write("%s,%s,%s,%s,%d,%.6f\n" % r)
        paths += [png, csv_path]
    return paths


def best_in_solver(log_path):
    """(accuracy 0..1, iteration) of the best in-solver test pass of a
    train.log (the first, when several tie), or None without test passes."""
    pts = solver_curve(log_path)
    if not pts:
        return None
    it, acc = max(pts, key=lambda p: (p[1], -p[0]))
    return acc, it
