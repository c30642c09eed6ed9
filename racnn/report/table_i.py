"""Table I, training time per epoch, beside the paper's: from ``caffe time``
measurements (racnn.report.caffe_time) and from the train.log of each stage
of a run folder.

``seconds_per_epoch(ms, images, batch)``: forward-backward milliseconds per
iteration x ceil(training images / batch).  ``from_run(run_dir)``: seconds
per epoch of each classification stage from its train.log (median speed over
display intervals, racnn.rundir.caffelog).  ``table_rows(measured)`` /
``markdown(rows)``: Ours | Paper per dataset and backbone with the RACNN/CNN
ratios; the paper's numbers come from racnn.paper.TABLE_I (one GTX-980).
Class count changes only the last layer; one measurement per backbone and
network serves the three datasets.
"""
import math
import os

from .. import paper, vocab
from ..atomic import write_text
from ..errors import RacnnError
from ..rundir import caffelog, layout, reader


def seconds_per_epoch(ms_per_iteration, images, batch_size):
    """Seconds for one pass over ``images`` training images."""
    return ms_per_iteration / 1000.0 * math.ceil(images / float(batch_size))


def from_run(run_dir):
    """[{backbone, dataset, racnn, variant, seconds_per_iteration, batch_size,
    images, seconds_per_epoch, log}] for each classification stage of a run
    with a train.log of at least two displayed iterations."""
    run = reader.read_run(run_dir)
    cfg = run.config
    rows = []
    for st in run.stages:
        log = os.path.join(st.dir, layout.LOG)
        rec = (cfg.get("stages") or {}).get(st.name) or {}
        if st.name not in vocab.VARIANTS or not os.path.isfile(log):
            continue
        spi = caffelog.seconds_per_iteration(caffelog.parse_log(log))
        batch = rec.get("batch_size")
        images = rec.get("images")
        if spi is None or not batch or not images:
            continue
        rows.append({"backbone": cfg.get("backbone"), "dataset": cfg.get("dataset"),
                     # staged is the plain CNN twice: no SR front
                     "racnn": st.name.startswith("racnn"), "variant": st.name,
                     "mode": cfg.get("mode"),
                     "seconds_per_iteration": spi, "batch_size": batch, "images": images,
                     "seconds_per_epoch": spi * math.ceil(images / float(batch)), "log": log})
    return rows


LOG_COLUMNS = ("dataset", "backbone", "variant", "mode", "seconds_per_iteration",
               "batch_size", "images", "seconds_per_epoch", "log")


def write_log_rows(rows, path):
    """CSV of ``from_run`` rows."""
    write_text(path, "\n".join([",".join(LOG_COLUMNS)] + [
        ",".join("%.6g" % r[c] if isinstance(r[c], float) else str(r[c])
                 for c in LOG_COLUMNS) for r in rows]) + "\n")
    return path


def table_rows(measured, datasets=tuple(vocab.DATASETS)):
    """Rows (dataset, backbone) with ours (from ``measured``: {(backbone,
    racnn): ms per iteration, with "batch_size"} dicts of time_net) and the
    paper's seconds per epoch and RACNN/CNN ratios.  Training images per
    epoch: the paper's split sizes (racnn.vocab)."""
    rows = []
    for backbone in vocab.BACKBONES:          # the paper's, then tiny
        for dataset in datasets:
            images = vocab.dataset_spec(dataset).train_count
            ours = {}
            for racnn in (False, True):
                m = measured.get((backbone, racnn))
                if m:
                    ours[racnn] = seconds_per_epoch(m["forward_backward_ms"], images,
                                                    m["batch_size"])
            if not ours:
                continue
            pap = {r: paper.TABLE_I.get((backbone, r), {}).get(dataset) for r in (False, True)}
            rows.append({"dataset": dataset, "backbone": backbone,
                         "ours_cnn": ours.get(False), "ours_racnn": ours.get(True),
                         "ours_ratio": _ratio(ours.get(True), ours.get(False)),
                         "paper_cnn": pap[False], "paper_racnn": pap[True],
                         "paper_ratio": _ratio(pap[True], pap[False])})
    return rows


def _ratio(a, b):
    return a / float(b) if a is not None and b else None


def _f(x, fmt="%.1f"):
    return "-" if x is None else fmt % x


def markdown(rows, note=""):
    """Table I beside ours: seconds per epoch, CNN | RACNN | RACNN/CNN."""
    lines = ["| dataset | backbone | ours CNN (s/epoch) | ours RACNN | ours ratio "
             "| paper CNN | paper RACNN | paper ratio |", "|---" * 8 + "|"]
    for r in rows:
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["dataset"], vocab.backbone_spec(r["backbone"]).title, _f(r["ours_cnn"]),
            _f(r["ours_racnn"]), _f(r["ours_ratio"], "%.2f"), _f(r["paper_cnn"], "%g"),
            _f(r["paper_racnn"], "%g"), _f(r["paper_ratio"], "%.2f")))
    return "\n".join(lines) + ("\n\n" + note if note else "") + "\n"


def check_backbones(names):
    """Canonical backbone names; RacnnError for an unknown one."""
    if not names:
        raise RacnnError("no backbone given")
    return [vocab.backbone_spec(n).name for n in names]
