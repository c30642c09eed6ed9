"""What a sweep costs before it is submitted: per job of the graph
(racnn.sweep.jobs) its iterations (racnn.train.schedule's rule: ``iters``,
else the epochs asked for, else the release's schedule), epochs, seconds per
iteration and hours, the total GPU-hours, the critical path (the grid's wall
time with a GPU per ready job) beside the wall time of one task per run
(its stages one after another), and each job's Slurm ``--time`` (the
estimate with a margin).

Seconds per iteration come from a timing file: ``make timing``'s
runs/timing/timing.json (tools/time_nets.py: `caffe time` of each backbone
with and without the SR front, and of stage 1's net) or the GPU bundle's
run-check ``verdict.json`` (its Table I on the GPU), measured where the sweep
will run; without one, from the paper's Table I (seconds per epoch on one
GTX 980, per iteration at the release's batch) divided by a stated speed-up.
A measurement at another batch size is scaled linearly.  Where stage 1 was
not timed (Table I, run-check), it is estimated from the SR front's share of
RACNN-AlexNet (RACNN minus CNN, per input pixel) at stage 1's batch of
patches: an upper estimate, since that difference also holds the backbone's
backward pass.  Pure Python.
"""
import datetime
import json
import math
import os

from .. import paper, protoio, vocab
from ..errors import RacnnError
from ..nets import layout as net_layout
from ..paths import RUNS_DIR
from ..rundir import sr_model
from ..train import schedule
from . import jobs as jobs_mod, plan as plan_mod

#: the default timing file (make timing)
DEFAULT_TIMING = os.path.join(RUNS_DIR, "timing", "timing.json")
#: --time = estimate x MARGIN + SLACK hours (start-up, databases, evaluation)
MARGIN, SLACK_HOURS = 1.5, 0.25


# ------------------------------------------------------------- timings
def load_timing(path=None, speedup=1.0):
    """Seconds per iteration by net: {"source": text, "device": text,
    "nets": {(backbone, racnn): (seconds, batch)}, "stage1": (seconds, batch
    of patch x patch) or None}.  ``path``: a timing.json, a run-check
    verdict.json, or a folder holding one; None: make timing's file when it
    exists, else the paper's Table I divided by ``speedup``."""
    if path is None and os.path.isfile(DEFAULT_TIMING):
        path = DEFAULT_TIMING
    if path is None:
        return table_i(speedup)
    if os.path.isdir(path):
        found = [os.path.join(path, n) for n in ("timing.json", "verdict.json")
                 if os.path.isfile(os.path.join(path, n))]
        if not found:
            raise RacnnError("--timing %s: a folder without timing.json (make timing) or "
                             "verdict.json (the GPU bundle's run-check)" % path)
        path = found[0]
    try:
        with open(path) as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise RacnnError("--timing %s: not a readable JSON file (%s)" % (path, exc))
    nets, stage1, device = {}, None, None
    if isinstance(data, list):              # make timing (tools/time_nets.py)
        for t in data:
            try:
                seconds, batch = float(t["forward_backward_ms"]) / 1000, int(t["batch_size"])
            except (KeyError, TypeError, ValueError):
                raise RacnnError("--timing %s: an entry without forward_backward_ms and "
                                 "batch_size: %r" % (path, t))
            device = t.get("device", device)
            if t.get("stage") == jobs_mod.STAGE1:
                stage1 = (seconds, batch, int(t.get("patch") or vocab.SR_PATCH))
            else:
                nets[(t["backbone"], bool(t["racnn"]))] = (seconds, batch)
        what = "make timing (%s)" % path
    elif isinstance(data, dict) and isinstance(data.get("table1"), list):   # run-check
        for t in data["table1"]:
            backbone, _, kind = str(t.get("net", "")).partition("_")
            try:
                nets[(backbone, kind == "racnn")] = (float(t["ms_per_iter"]) / 1000,
                                                     int(t["batch"]))
            except (KeyError, TypeError, ValueError):
                raise RacnnError("--timing %s: a table1 entry without ms_per_iter and batch: "
                                 "%r" % (path, t))
        device = data.get("device")
        what = "the GPU bundle's run-check (%s)" % path
    else:
        raise RacnnError("--timing %s: neither make timing's timing.json (a list) nor a "
                         "run-check verdict.json (with \"table1\")" % path)
    if not nets and stage1 is None:
        raise RacnnError("--timing %s holds no timing" % path)
    return {"source": what, "device": device or "the timed device", "nets": nets,
            "stage1": stage1}


def table_i(speedup=1.0):
    """The paper's Table I as seconds per iteration (at the release's
    batch; the mean over the three datasets of s/epoch / iterations per
    epoch), divided by ``speedup``."""
    if not speedup or speedup <= 0:
        raise RacnnError("--speedup %r: expected a positive factor (the target GPU's speed over "
                         "the paper's GTX 980)" % (speedup,))
    nets = {}
    for (backbone, racnn), per_dataset in paper.TABLE_I.items():
        batch = vocab.backbone_spec(backbone).train_batch
        per_iter = [s / math.ceil(vocab.dataset_spec(ds).train_count / float(batch))
                    for ds, s in per_dataset.items()]
        nets[(backbone, racnn)] = (sum(per_iter) / len(per_iter) / speedup, batch)
    return {"source": "the paper's Table I (one GTX 980) / %g" % speedup,
            "device": "GTX 980 x %g" % speedup, "nets": nets, "stage1": None}


def _scaled(timed, batch):
    seconds, measured = timed[:2]
    return seconds * float(batch) / measured


def stage1_seconds(timing, batch, patch):
    """Seconds per stage-1 iteration of ``batch`` patch pairs of ``patch``
    x ``patch``, and how it was found."""
    if timing["stage1"]:
        seconds, measured, timed_patch = timing["stage1"]
        return (seconds * batch * patch ** 2 / float(measured * timed_patch ** 2),
                "stage-1 net timed")
    for backbone in vocab.PAPER_BACKBONES:
        if (backbone, True) in timing["nets"] and (backbone, False) in timing["nets"]:
            (r, rb), (c, cb) = timing["nets"][(backbone, True)], timing["nets"][(backbone, False)]
            side = vocab.backbone_spec(backbone).input_size
            per_pixel = (r / rb - c / cb) / side ** 2
            return (per_pixel * batch * patch ** 2,
                    "from RACNN-%s minus %s per input pixel" % (backbone, backbone))
    return None, "no RACNN and CNN timing of one backbone"


# ------------------------------------------------------------ per job
def _images(cfg):
    """Training images a classification stage sees per epoch, when known."""
    if cfg.get("train_limit"):
        return int(cfg["train_limit"])
    if not cfg.get("data_format") and not cfg.get("split_from") and cfg["dataset"] in vocab.DATASETS:
        return vocab.dataset_spec(cfg["dataset"]).train_count
    return None


def _patches(cfg):
    """Stage-1 patch pairs per epoch, when known."""
    n = cfg.get("sr_max_images")
    if n is None and not cfg.get("sr_images"):
        n = _images(dict(cfg, train_limit=None))
    if n is None:
        return None
    per_side = (cfg["sr_size"] - cfg["sr_patch"]) // cfg["sr_stride"] + 1
    return n * per_side ** 2


def _sources(cfg, stage):
    """The committed train_val and solver a stage copies (None where the
    driver generates them: the tiny backbone, custom datasets, backbone_hr,
    other stage-1 patch sizes)."""
    if stage == jobs_mod.STAGE1:
        return sr_model.source_files(cfg)
    if stage == "backbone_hr" or not vocab.committed_nets(cfg["backbone"], cfg["dataset"]) \
            or cfg.get("nets"):
        return None
    net = vocab.VARIANTS[stage].net if stage in vocab.VARIANTS else "cnn"
    b, d = cfg["backbone"], cfg["dataset"]
    return {"train_val": net_layout.train_val_path(b, d, net, cfg["mode"], cfg["mults"]),
            "solver": net_layout.solver_path(b, d, net, cfg["mode"], cfg["mults"])}


def stage_cost(cfg, stage, timing, gpus=1):
    """{"iterations", "batch", "epochs", "seconds_per_iteration", "hours",
    "gpu_hours", "how"} of one stage (None values where it cannot be known)."""
    nets = _sources(cfg, stage)
    racnn = stage in vocab.SR_STAGES
    if stage == jobs_mod.STAGE1:
        batch = cfg["stage1_batch"] or (nets and protoio.train_batch_size(
            nets["train_val"]))
        epochs, images = cfg["stage1_epochs"], _patches(cfg)
    else:
        batch = cfg["stage2_batch"] or (nets and protoio.train_batch_size(
            nets["train_val"])) or vocab.backbone_spec(cfg["backbone"]).train_batch
        epochs = cfg["backbone_hr_epochs"] if stage == "backbone_hr" else cfg["stage2_epochs"]
        images = _images(cfg)
    out = {"iterations": None, "batch": batch, "epochs": None, "seconds_per_iteration": None,
           "hours": None, "gpu_hours": None, "how": ""}
    if cfg["iters"] or (epochs and images) or nets:
        out["iterations"] = schedule.stage_max_iter(cfg, nets, batch, epochs, images or 0,
                                                    vocab.STAGES[stage].solver)
    elif epochs:
        out["how"] = "iterations unknown (how many training images?)"
    else:
        out["how"] = "iterations unknown (generated nets: no committed solver)"
    if out["iterations"] and images:
        out["epochs"] = round(out["iterations"] * batch / float(images), 2)
    if stage == jobs_mod.STAGE1:
        seconds, how = stage1_seconds(timing, batch, cfg["sr_patch"])
    else:
        timed = timing["nets"].get((cfg["backbone"], racnn))
        seconds = timed and _scaled(timed, batch)
        how = "timed" if timed else "no timing of %s%s" % ("RACNN-" if racnn else "",
                                                         cfg["backbone"])
    out["seconds_per_iteration"] = seconds
    out["how"] = out["how"] or how
    if seconds is not None and out["iterations"]:
        out["hours"] = out["iterations"] * seconds / 3600.0
        out["gpu_hours"] = out["hours"] * gpus
    return out


def slurm_time(hours):
    """Slurm's ``--time`` for an estimate of ``hours``: x MARGIN + SLACK,
    whole minutes, D-HH:MM:SS."""
    minutes = int(math.ceil((hours * MARGIN + SLACK_HOURS) * 60))
    days, rest = divmod(minutes, 24 * 60)
    return "%d-%02d:%02d:00" % (days, rest // 60, rest % 60)


def estimate(plan, job_list, timing, gpus=1):
    """The cost of ``job_list`` (racnn.sweep.jobs.build): the per-job rows
    and the totals, as the JSON ``--cost --json`` prints."""
    cfgs = {r["name"]: plan_mod.config(r) for r in plan["runs"]}
    rows, finish, chain = [], {}, {}
    for j in job_list:
        row = {"name": j["name"], "stage": j["stage"], "run": j["run"],
               "depends_on": list(j["depends_on"])}
        if j["stage"] == jobs_mod.REPORT:
            row.update(iterations=0, batch=None, epochs=None, seconds_per_iteration=None,
                       hours=0.0, gpu_hours=0.0, how="the sweep's report")
        else:
            row.update(stage_cost(cfgs[j["run"]], j["stage"], timing, gpus))
        row["time"] = slurm_time(row["hours"]) if row["hours"] is not None else None
        # a dependency outside the list (a job that has finished, not submitted
        # again) ends before anything of the list starts
        before = max((d for d in j["depends_on"] if d in finish), key=lambda d: finish[d],
                     default=None)
        finish[j["name"]] = (finish[before] if before else 0.0) + (row["hours"] or 0.0)
        chain[j["name"]] = (chain[before] if before else []) + [j["name"]]
        rows.append(row)
    end = max(finish, key=lambda n: (finish[n], n == jobs_mod.REPORT))
    per_run = {}
    listed = {j["run"] for j in job_list}
    for r in plan["runs"]:       # one task per run: its stages in sequence, its own stage 1
        if r["name"] not in listed:
            continue
        per_run[r["name"]] = sum(stage_cost(cfgs[r["name"]], s, timing, gpus)["hours"] or 0.0
                                 for s in r["stages"])
    unknown = [row["name"] for row in rows if row["hours"] is None]
    return {"jobs": rows,
            "total_gpu_hours": sum(row["gpu_hours"] or 0.0 for row in rows),
            "critical_path_hours": finish[end], "critical_path": chain[end],
            "one_task_per_run_hours": max(per_run.values()) if per_run else 0.0,
            "one_task_per_run_gpu_hours": sum(per_run.values()) * gpus,
            "unknown": unknown, "gpus_per_job": gpus,
            "timing": {"source": timing["source"], "device": timing["device"]},
            "margin": "--time = estimate x %g + %g h" % (MARGIN, SLACK_HOURS),
            "made": datetime.datetime.now().isoformat(timespec="seconds")}


def _h(x):
    return "-" if x is None else "%.1f" % x if x >= 10 else "%.2f" % x


def table(cost):
    """The cost as aligned text: one line per job, then the totals."""
    fmt = "%%-%ds %%-11s %%10s %%8s %%9s %%8s %%13s" % max(len(r["name"]) for r in cost["jobs"])
    lines = [fmt % ("job", "stage", "iterations", "epochs", "s/iter", "GPU-h", "--time")]
    for row in cost["jobs"]:
        lines.append(fmt % (
            row["name"], row["stage"], row["iterations"] if row["iterations"] is not None
            else "?", "-" if row["epochs"] is None else "%g" % row["epochs"],
            "-" if row["seconds_per_iteration"] is None else "%.4g" % row["seconds_per_iteration"],
            _h(row["gpu_hours"]), row["time"] or "-"))
    lines.append("total: %d jobs, %s GPU-hours; critical path %s h (%s); one task per run "
                 "(its stages in sequence, its own stage 1): %s h, %s GPU-hours" % (
                     len(cost["jobs"]), _h(cost["total_gpu_hours"]),
                     _h(cost["critical_path_hours"]),
                     " -> ".join(n for n in cost["critical_path"] if n != jobs_mod.REPORT),
                     _h(cost["one_task_per_run_hours"]), _h(cost["one_task_per_run_gpu_hours"])))
    lines.append("seconds per iteration: %s; %s; %d GPU(s) per job" % (
        cost["timing"]["source"], cost["margin"], cost["gpus_per_job"]))
    if cost["unknown"]:
        lines.append("no estimate for %d job(s) (%s): %s" % (
            len(cost["unknown"]), ", ".join(cost["unknown"][:3]) + (
                ", ..." if len(cost["unknown"]) > 3 else ""),
            next(r["how"] for r in cost["jobs"] if r["hours"] is None)))
    return lines
