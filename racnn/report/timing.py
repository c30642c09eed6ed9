"""Training time per epoch, beside the paper's Table I.

``time_net(backbone, racnn, ...)`` builds the training net (racnn.nets,
Data layers swapped for DummyData of the training batch size) and runs
Caffe's own ``caffe time`` on it (forward + backward in the TRAIN phase;
layers with lr_mult 0 and nothing to back-propagate to are skipped by Caffe,
which is why the frozen CNN is cheap and RACNN is not).  Seconds per epoch =
forward-backward seconds per iteration x ceil(training images / batch).
Class count changes only the last layer; one measurement per backbone and
network serves the three datasets.

``from_run(run_dir)``: seconds per epoch from the train.log of each stage of
a run folder (median speed over display intervals, racnn.eval.caffelog).

``table_rows(measured)`` / ``markdown(rows)``: Ours | Paper per dataset and
backbone with the RACNN/CNN ratios; the paper's numbers come from
racnn.paper.TABLE_I (one GTX-980).
"""
import math
import os
import re
import subprocess

from .. import paper, specs
from ..errors import RacnnError
from ..experiment.stage_files import LOG
from ..experiment.caffe_train import caffe_env
from ..atomic import write_text
from ..eval import caffelog
from ..experiment import runfolder
from ..experiment.config import VARIANTS

_AVG = re.compile(r"Average (Forward pass|Backward pass|Forward-Backward): ([0-9.eE+-]+) ms")


def parse_caffe_time(text):
    """{"forward_ms", "backward_ms", "forward_backward_ms"} from the output
    of ``caffe time``; RacnnError when the averages are missing."""
    found = {}
    for what, value in _AVG.findall(text):
        found[{"Forward pass": "forward_ms", "Backward pass": "backward_ms",
               "Forward-Backward": "forward_backward_ms"}[what]] = float(value)
    if "forward_backward_ms" not in found:
        tail = "\n".join(text.strip().splitlines()[-8:])
        raise RacnnError("caffe time printed no averages; its last lines:\n%s" % tail)
    return found


def timing_net(backbone, racnn, mode="frozen", mults="paper", batch_size=None,
               num_classes=200):
    """The TRAIN-phase net that ``caffe time`` runs: build_net's train_val
    with DummyData instead of the databases."""
    # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
    from ..nets import DEFAULT_BATCH, build_net
    from ..nets.dummy import with_dummy_data
    batch = int(batch_size or DEFAULT_BATCH[specs.backbone_spec(backbone).name][0])
    proto = build_net(backbone, num_classes, racnn=racnn, mode=mode, mults=mults,
                      phase="train_val", train_source="dummy", test_source="dummy",
                      batch_size=batch, test_batch_size=1)
    return with_dummy_data(proto), batch


def time_net(backbone, racnn, mode="frozen", mults="paper", batch_size=None, iterations=5,
             gpu=None, num_classes=200):
    """Run ``caffe time`` on the training net; returns a dict with the
    averages in ms, ``batch_size``, ``iterations``, ``device``."""
    # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
    from ..nets.dummy import write_temp_net
    proto, batch = timing_net(backbone, racnn, mode, mults, batch_size, num_classes)
    path = write_temp_net(proto)
    cmd = ["caffe", "time", "-model", path, "-iterations", str(int(iterations))]
    if gpu is not None and str(gpu) != "":
        cmd += ["-gpu", str(gpu)]
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, env=caffe_env())
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise RacnnError("caffe time failed for %s%s (exit %d):\n%s" % (
            "RACNN-" if racnn else "", backbone, proc.returncode,
            "\n".join(proc.stdout.strip().splitlines()[-10:])))
    out = parse_caffe_time(proc.stdout)
    out.update(backbone=specs.backbone_spec(backbone).name, racnn=bool(racnn), mode=mode,
               mults=mults, batch_size=batch, iterations=int(iterations),
               device="GPU %s" % gpu if gpu not in (None, "") else "CPU")
    return out


def seconds_per_epoch(ms_per_iteration, images, batch_size):
    """Seconds for one pass over ``images`` training images."""
    return ms_per_iteration / 1000.0 * math.ceil(images / float(batch_size))


def from_run(run_dir):
    """[{backbone, dataset, racnn, variant, seconds_per_iteration, batch_size,
    images, seconds_per_epoch, log}] for each classification stage of a run
    with a train.log of at least two displayed iterations."""
    run = runfolder.read_run(run_dir)
    cfg = run.config
    rows = []
    for st in run.stages:
        log = os.path.join(st.dir, LOG)
        rec = (cfg.get("stages") or {}).get(st.name) or {}
        if st.name not in VARIANTS or not os.path.isfile(log):
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


def table_rows(measured, datasets=paper.DATASETS):
    """Rows (dataset, backbone) with ours (from ``measured``: {(backbone,
    racnn): ms per iteration, with "batch_size"} dicts of time_net) and the
    paper's seconds per epoch and RACNN/CNN ratios.  Training images per
    epoch: the paper's split sizes (racnn.specs)."""
    rows = []
    for backbone in specs.PAPER_BACKBONES + ("tiny",):
        for dataset in datasets:
            images = specs.dataset_spec(dataset).train_count
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
            r["dataset"], specs.backbone_spec(r["backbone"]).title, _f(r["ours_cnn"]),
            _f(r["ours_racnn"]), _f(r["ours_ratio"], "%.2f"), _f(r["paper_cnn"], "%g"),
            _f(r["paper_racnn"], "%g"), _f(r["paper_ratio"], "%.2f")))
    return "\n".join(lines) + ("\n\n" + note if note else "") + "\n"


def check_backbones(names):
    """Canonical backbone names; RacnnError for an unknown one."""
    if not names:
        raise RacnnError("no backbone given")
    return [specs.backbone_spec(n).name for n in names]
