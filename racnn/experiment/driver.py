"""The experiment driver: the stages of one run in order (docs/DESIGN.md
draws the run folder): fail-fast checks, databases, stage folders (nets +
solver copied from prototxt/ and solvers/, or generated for a
backbone/dataset without committed files), audited initial weights,
``caffe train`` per stage, evaluation (racnn.eval) and the results table
(racnn.report)."""
import json
import math
import os
import subprocess
import sys

from .. import locks, protoio
from ..errors import RacnnError
from ..paths import REPO
from . import caffe_train, inputs, runfolder, stage_files
from .config import DEFAULTS, VARIANTS, VOLATILE, default_run_dir, dumps, stage_plan
from .net_sources import classifier_sources, expected_new, generated_classifier, sr_sources
from .stage_files import final_model


def run(cfg, run_dir=None, echo=False, command=None):
    """Run (or resume) the experiment ``cfg``; return the run folder's
    ``config.json`` content, whose ``results`` holds each network's metrics.
    ``command``: the command line that reruns it (for the stale-stage message)."""
    return Experiment(cfg, run_dir or default_run_dir(cfg), echo=echo, command=command).run()


def summary_lines(record):
    """A few lines for the terminal: where things are and each network's
    mean class accuracy."""
    lines = ["run folder: %s" % record["run_dir"]]
    for name, res in sorted(record.get("results", {}).items(), key=lambda kv: runfolder.stage_key(kv[0])):
        lines.append("  %-8s mean class accuracy %6.2f %%  (eval: %s)%s"
                     % (name, 100 * res["mean_class_accuracy"], res["eval_dir"],
                        "  STALE: see above" if name in record.get("stale", {}) else ""))
    if record.get("report"):
        lines.append("results table: %s" % record["report"])
    return lines


class Experiment(object):
    def __init__(self, cfg, run_dir, echo=False, command=None):
        self.cfg = cfg
        self.run_dir = os.path.abspath(run_dir)
        self.echo = echo
        self.command = command or "docker/run python3 tools/experiment.py %s %s --run-dir %s" % (
            cfg["dataset"], cfg["backbone"], self.run_dir)
        self.restart = []
        self.record = dict(cfg, run_dir=self.run_dir, paths={}, stages={}, results={})
        self.data = None

    # ------------------------------------------------------------ helpers
    def log(self, text, echo=True):
        stage_files.log_line(os.path.join(self.run_dir, "experiment.log"), text, echo=echo)

    def save(self):
        runfolder.save_config(self.run_dir, self.record)

    def stage_dir(self, name):
        return os.path.join(self.run_dir, name)

    # ------------------------------------------------------------- main
    def run(self):
        # one driver per run folder: a second one would train into the same
        # snapshots/ and train.log; it refuses, naming the holder
        # (the lock file sits beside the folder: a refused or failed start
        # leaves no run folder behind)
        with locks.hold_beside(self.run_dir, "run folder %s" % self.run_dir, wait=False):
            return self._run()

    def _run(self):
        cfg = self.cfg
        plan = stage_plan(cfg)
        self.restart = runfolder.restart_set(cfg.get("restart"), plan)
        found = inputs.check_inputs(cfg, plan)            # fail fast, before any work
        version = runfolder.prepare(self.run_dir, self.record,
                                    [k for k in DEFAULTS if k not in VOLATILE],
                                    keep=("paths", "stages", "results"))
        self.gpu = inputs.usable_gpu(cfg["gpu"])
        self.log("experiment %s: stages %s; code %s" % (
            os.path.basename(self.run_dir), ", ".join(plan), version))
        with open(os.path.join(self.run_dir, "experiment.log"), "a") as fh:
            fh.write("configuration (config.json):\n%s\n" % dumps({k: cfg[k] for k in DEFAULTS}))
        self.data = inputs.databases(cfg, found, plan)
        self.record["paths"].update(self.data["paths"])
        self.save()

        backbone = found.get("backbone_weights")
        if "backbone_hr" in plan:
            backbone = self.train_backbone_hr()
        sr = None
        if "stage1_sr" in plan:
            sr = self.train_stage1()
        elif "racnn_p" in plan:
            sr = found["authors_sr_weights"]
        self.record["paths"].update(backbone_weights=backbone, sr_weights=sr)
        for variant in VARIANTS:
            if variant == "staged" and "staged" in plan:
                self.train_staged(backbone)
            elif variant in plan:
                self.train_classifier(variant, backbone, sr)
                self.evaluate(variant)
        self.record["report"] = self.report()
        self.save()
        self.log("experiment finished: %s" % self.run_dir)
        return self.record

    # ------------------------------------------------------- stage setup
    def _setup(self, name, src, sources, batches, epochs, count, kind, test_count=None,
               extra_files=()):
        """Write the stage folder's copies (once: a resumed stage keeps the
        files it started with) and return its record."""
        d = self.stage_dir(name)
        solver_dst = os.path.join(d, "solver.prototxt")
        if os.path.isfile(solver_dst) and not self._refresh(name, d, src):
            return self.record["stages"].get(name) or {}
        os.makedirs(d, exist_ok=True)
        cfg = self.cfg
        used = runfolder.copy_net(src["train_val"], os.path.join(d, "train_val.prototxt"),
                                  sources, batches)
        for src_path, dst_name in extra_files:
            if dst_name in ("deploy.prototxt", "sr_deploy.prototxt"):
                # derived, not copied: one file to edit per net
                runfolder.write_deploy(os.path.join(d, "train_val.prototxt"),
                                       os.path.join(d, dst_name), sr_size=cfg["sr_size"])
                continue
            with open(src_path) as fh, open(os.path.join(d, dst_name), "w") as out:
                out.write(fh.read())
        committed = protoio.read_solver(src["solver"])
        committed_batch = runfolder.data_layers(protoio.read_net(src["train_val"]))[
            "train"].data_param.batch_size
        batch = used["train"]
        if cfg["iters"]:
            max_iter = int(cfg["iters"])
        elif epochs:
            max_iter = int(math.ceil(float(epochs) * count / batch))
        else:   # the release's schedule: as many images as the committed solver
            max_iter = int(math.ceil(committed.max_iter * float(committed_batch) / batch))
        test_iter = None
        if test_count and "test" in used and cfg["tests"]:
            test_iter = int(math.ceil(test_count / float(used["test"])))
            if cfg["test_iter_max"]:
                test_iter = min(test_iter, int(cfg["test_iter_max"]))
        msg = runfolder.scaled_solver(src["solver"], max_iter, test_iter, cfg["snapshots"],
                                      cfg["tests"], gpu=bool(self.gpu), seed=cfg["seed"],
                                      stage_dir=d)
        for key, value in (cfg["solver"] or {}).get(kind, {}).items():
            _set_field(msg, key, value, src["solver"])
        rec = {"source": {k: os.path.relpath(v, REPO) if v.startswith(REPO) else v
                          for k, v in src.items() if k in runfolder.COPIED},
               "source_sha256": runfolder.source_hashes(src),
               "max_iter": max_iter, "batch_size": batch, "images": count,
               "epochs": round(max_iter * batch / float(count), 3) if count else None,
               "test_iter": test_iter}
        self.record["stages"][name] = rec
        runfolder.write_copy(src["solver"], solver_dst, msg)          # last: marks the folder as set up
        self.save()
        self.log("%s: trains %s" % (name, runfolder.source_note(src["train_val"], d)))
        return rec

    def _refresh(self, name, d, src):
        """Whether a stage folder already set up must be set up again: when
        --restart names it, or when a source it copied has changed and it has
        not finished (its old files go to superseded/, saying so).  A finished
        stage whose sources changed is reported as stale, with the command
        that retrains it, and kept."""
        rel = os.path.relpath
        if name in self.restart:
            self.restart.remove(name)
            old = runfolder.supersede(d)
            self.log("%s: restarted (--restart); its earlier files are in %s"
                     % (name, rel(old, self.run_dir)))
            self.record["results"].pop(name, None)
            return True
        changed = runfolder.changed_sources(self.record["stages"].get(name), src)
        if not changed:
            return False
        if stage_files.read_done(d):
            msg = runfolder.stale_message(name, changed, self.command)
            self.record.setdefault("stale", {})[name] = msg
            self.log("warning: " + msg)
            return False
        old = runfolder.supersede(d)
        self.log("%s: %s changed since this stage was set up; the stage starts afresh with "
                 "the current file (its earlier copies and snapshots are in %s)"
                 % (name, "; ".join(changed), rel(old, self.run_dir)))
        return True

    def _train(self, name, weights=None):
        self.log("%s: training (log: %s)" % (name, os.path.join(name, stage_files.LOG)), echo=False)
        final = caffe_train.run_stage(self.stage_dir(name), weights=weights, gpu=self.gpu,
                                 echo=self.echo)
        self.log("%s: final model %s" % (name, os.path.relpath(final, self.run_dir)), echo=False)
        self.record["stages"].setdefault(name, {})["final_model"] = final
        self.save()
        return final

    # ------------------------------------------------------------ stages
    def train_backbone_hr(self):
        """The backbone trained on the undegraded images: the stand-in for
        ImageNet pre-training when a backbone has no ImageNet weights."""
        name, cfg, data = "backbone_hr", self.cfg, self.data
        src = generated_classifier(cfg, "backbone_hr", data, self.stage_dir(name))
        self._setup(name, src, {"train": data["hr_train_db"], "test": data["hr_test_db"]},
                    {"train": cfg["stage2_batch"], "test": cfg["test_batch"]},
                    cfg["backbone_hr_epochs"], data["train_count"], "backbone_hr",
                    data["test_count"], [(src["deploy"], "deploy.prototxt")])
        final = self._train(name)
        self.evaluate(name, db=data["hr_test_db"])
        return final

    def train_stage1(self):
        name, cfg, data = "stage1_sr", self.cfg, self.data
        src = sr_sources(cfg, data, self.stage_dir(name))
        rec = self._setup(name, src, {"train": data["sr_db"]}, {"train": cfg["stage1_batch"]},
                          cfg["stage1_epochs"], data["sr_count"], "stage1", None,
                          [(src["sr_deploy"], "sr_deploy.prototxt")])
        self.check_schedule(name, "stage1", src, rec)
        return self._train(name)

    # ------------------------------------------------ honest schedules
    def check_schedule(self, name, kind, src, rec):
        """A stage shorter than the release's schedule that keeps the
        release's learning rate (tuned for 700k stage-2 iterations) under-trains
        its new layers: say so once per run and record it in config.json
        (``stages.<name>.short_schedule``, ``schedule_note``) for the report."""
        short = schedule_shortfall(self.cfg, kind, src, rec)
        self.record["stages"].setdefault(name, {})["short_schedule"] = short
        if short is not None:
            note = ("short schedule: %s trains %d iterations where the release trains %d, "
                    "with the release's base_lr %g (tuned for the full schedule), so its new "
                    "layers are under-trained and its accuracy is not comparable with the "
                    "paper's; set base_lr (--set 'solver={...}') or drop "
                    "stage1_epochs/stage2_epochs/iters"
                    % (name, short["max_iter"], short["release_max_iter"], short["base_lr"]))
            self.record["schedule_note"] = note
            self.log("warning: " + note, echo=not getattr(self, "_schedule_warned", False))
            self._schedule_warned = True
        self.save()

    def train_staged(self, backbone):
        """Staged-Training (Fig. 4's competitor, the paper's reference [35]):
        the CNN fine-tuned on the HR images (``staged_hr``), then on the LR
        images from that stage's final model (``staged``), each with the CNN's
        nets, schedule and audited weight loading."""
        data = self.data
        hr = self.train_classifier("staged_hr", backbone, None, net="cnn",
                                   dbs=(data["hr_train_db"], data["hr_test_db"]))
        self.evaluate("staged_hr", db=data["hr_test_db"])
        self.train_classifier("staged", hr, None, net="cnn", expect_new=())
        self.evaluate("staged")

    def train_classifier(self, variant, backbone, sr, net=None, dbs=None, expect_new=None):
        """Stage 2 into the stage folder ``variant`` with the nets of ``net``
        (default: the variant's own), reading ``dbs`` (default: the LR
        train/test databases), initialised from ``backbone`` (+ ``sr``); the
        layers allowed to be new: ``expect_new`` (default: net_sources.expected_new)."""
        # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
        from ..weights import init_caffemodel
        cfg, data = self.cfg, self.data
        d = self.stage_dir(variant)
        net = net or variant
        train_db, test_db = dbs or (data["train_db"], data["test_db"])
        src = classifier_sources(cfg, net, data, d)
        rec = self._setup(variant, src, {"train": train_db, "test": test_db},
                          {"train": cfg["stage2_batch"], "test": cfg["test_batch"]},
                          cfg["stage2_epochs"], data["train_count"], "stage2",
                          data["test_count"], [(src["deploy"], "deploy.prototxt")])
        self.check_schedule(variant, "stage2", src, rec)

        def init_weights():       # run_stage calls it only when starting afresh
            files = [w for w in [backbone] + ([sr] if net == "racnn_p" else []) if w]
            if not files:
                return None
            train_val = os.path.join(d, "train_val.prototxt")
            new = expect_new if expect_new is not None else expected_new(
                cfg, net, train_val, bool(backbone), bool(sr and net == "racnn_p"))
            swap = net == "racnn_p" and cfg["sr_weights"] == "authors"
            weights = os.path.join(d, "init.caffemodel")
            audit = init_caffemodel(train_val, files, weights, expected_new=new,
                                    swap_sr_rgb_to_bgr=swap, seed=cfg["seed"])
            with open(os.path.join(d, "init_audit.txt"), "w") as fh:
                fh.write(audit.format() + "\n")
            with open(os.path.join(d, "init_audit.json"), "w") as fh:
                json.dump(audit.to_dict(), fh, indent=1)
            stage_files.log_line(os.path.join(d, stage_files.LOG), "%s: initialised from %s "
                            "(audit: init_audit.txt; new: %s)" % (
                                variant, ", ".join(files), ", ".join(audit.new_layers())
                                or "nothing"), echo=self.echo)
            return weights
        return self._train(variant, init_weights)

    # ---------------------------------------------- evaluation and report
    # racnn.eval and racnn.report sit above this package: they run as modules
    # in processes of their own (one Caffe net per process, as the tools).
    def report(self):
        """racnn.report's results table of this run (beside the paper's
        numbers) in ``<run>/report``."""
        out = os.path.join(self.run_dir, "report")
        _run_module("racnn.report", [self.run_dir, "--out", out], "the report of %s" % self.run_dir)
        return out

    def evaluate(self, name, db=None):
        """racnn.eval (tools/eval_per_class.py) on the stage's final model ->
        <stage>/eval."""
        d = self.stage_dir(name)
        final = final_model(d)
        out = os.path.join(d, "eval")
        metrics_path = os.path.join(out, "metrics.json")
        metrics = None
        if os.path.isfile(metrics_path):
            with open(metrics_path) as fh:
                metrics = json.load(fh)
            if os.path.abspath(metrics.get("snapshot", "")) != final:
                metrics = None
        if metrics is None:
            args = ["--model", os.path.join(d, "deploy.prototxt"), "--weights", final,
                   "--lmdb", db or self.data["test_db"], "--train-val",
                   os.path.join(d, "train_val.prototxt"), "--out", out, "--quiet"]
            if self.gpu:
                args += ["--gpu", self.gpu.split(",")[0] if self.gpu != "all" else "0"]
            self.log("%s: evaluating %s" % (name, os.path.basename(final)))
            _run_module("racnn.eval", args, "evaluation of %s" % final)
            with open(metrics_path) as fh:
                metrics = json.load(fh)
        res = {"mean_class_accuracy": metrics["mean_class_accuracy"],
               "overall_accuracy": metrics["overall_accuracy"],
               "num_images": metrics["num_images"], "eval_dir": out, "final_model": final}
        self.record["results"][name] = res
        self.save()
        self.log("%s: mean class accuracy %.2f %% on %d images"
                 % (name, 100 * res["mean_class_accuracy"], res["num_images"]))
        return res


def schedule_shortfall(cfg, kind, src, rec):
    """{"max_iter", "release_max_iter", "base_lr"} when the stage of record
    ``rec`` sees fewer images than the release's schedule (the committed
    solver's max_iter x its batch) and keeps the committed base_lr; else None
    (the release's schedule, or a learning rate the configuration chose)."""
    if not rec or not rec.get("max_iter") or "base_lr" in (cfg["solver"] or {}).get(kind, {}):
        return None
    committed = protoio.read_solver(src["solver"])
    committed_batch = runfolder.data_layers(protoio.read_net(src["train_val"]))[
        "train"].data_param.batch_size
    release = int(math.ceil(committed.max_iter * float(committed_batch) / rec["batch_size"]))
    if rec["max_iter"] >= release:
        return None
    return {"max_iter": rec["max_iter"], "release_max_iter": release,
            "base_lr": float("%.6g" % committed.base_lr)}     # as written, not float32


def _run_module(module, args, what):
    """``python3 -m module args`` from the repository root; a RacnnError with
    the end of its output when it fails."""
    proc = subprocess.run([sys.executable, "-m", module] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, cwd=REPO)
    if proc.returncode != 0:
        raise RacnnError("%s failed:\n%s" % (what, proc.stdout[-3000:]))


def _set_field(msg, key, value, where):
    """Set a solver field from the configuration's ``solver`` overrides."""
    try:
        field = msg.DESCRIPTOR.fields_by_name[key]
    except KeyError:
        raise RacnnError("unknown solver field %r in the configuration's solver overrides "
                         "(for %s)" % (key, where))
    if field.label == field.LABEL_REPEATED:
        del getattr(msg, key)[:]
        getattr(msg, key).extend(value if isinstance(value, (list, tuple)) else [value])
    else:
        setattr(msg, key, value)
