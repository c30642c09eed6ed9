"""One experiment from start to end: train -> evaluate -> report, in one run
folder (tools/experiment.py, ``make <dataset>-<backbone>``).

``run(cfg, run_dir)`` holds the run folder's lock and every stage's lock for
the whole pipeline (a second driver refuses, naming the holder), has
racnn.train's Trainer train each stage in order, evaluates every
classification stage's final model exactly (racnn.eval, into
``<stage>/eval``) as soon as it is trained, and ends with racnn.report's
table of the run beside the paper (``<run>/report``).  ``run(..., only=S)``
is that pipeline for stage S alone (a sweep's stage job, tools/experiment.py
--only-stage S): it holds S's lock only, so drivers of other stages of the
same run folder work beside it (on other nodes); it trains and evaluates S
and, when that finishes the run, writes the run's report.  racnn.eval and
racnn.report run as modules in processes of their own (one Caffe net per
process, as the tools): this module sits above both, so these are calls
down the layers.
"""
import contextlib
import os
import subprocess
import sys

from . import locks, vocab
from .errors import RacnnError
from .paths import REPO
from .rundir import layout
from .rundir.results import evaluated_final, final_results
from .rundir.reader import read_stage
from .rundir.settings import default_run_dir
from .rundir.verdict import run_finished, stage_done
from .train.driver import Trainer


def run(cfg, run_dir=None, echo=False, command=None, only=None):
    """Run (or resume) the experiment ``cfg`` (``only``: its stage of that
    name alone); return its record: config.json's content plus ``results``
    (each evaluated stage's metrics summary, read back from
    ``<stage>/eval/metrics.json``) and ``finished`` / ``not_finished``
    (racnn.rundir.verdict's rule, for the run or for stage ``only``: False,
    with the reasons, when a stale stage was kept).  ``command``: the
    command line that reruns it (for the stale-stage message)."""
    run_dir = os.path.abspath(run_dir or default_run_dir(cfg))
    # the lock files sit beside the folder: a refused or failed start leaves
    # no run folder behind
    trainer = Trainer(cfg, run_dir, echo=echo, command=command, only=only)
    with contextlib.ExitStack() as held:
        for path, what in run_locks(run_dir, trainer.stages, only):
            held.enter_context(locks.hold(path, what, wait=False))
        for stage in trainer.prepare():
            trainer.train(stage)
            if stage in vocab.CLASSIFIER_STAGES:
                evaluate(trainer, stage)
        verdict = run_finished(run_dir, cfg)
        if only is None or verdict.ok:
            with trainer.config_lock():        # (two last stages may end at once)
                trainer.record["report"] = report(run_dir)
                trainer.save()
        if only is not None:
            verdict = stage_done(run_dir, only)
        trainer.log("%s %s: %s" % ("experiment" if only is None else "stage %s of" % only,
                                   run_dir, "finished" if verdict.ok else
                                   "NOT finished (%s)" % "; ".join(verdict.reasons)))
    return dict(trainer.record, results=final_results(run_dir), finished=verdict.ok,
                not_finished=verdict.reasons)


def run_locks(run_dir, stages, only=None):
    """[(lock file, what it protects)] a driver of ``stages`` holds: the
    run's and every stage's, or stage ``only``'s alone."""
    out = [] if only else [(layout.lock_file(run_dir), "run folder %s" % run_dir)]
    return out + [(layout.lock_file(run_dir, s), "stage %s of run folder %s" % (s, run_dir))
                  for s in stages]


def evaluate(trainer, stage):
    """racnn.eval (tools/eval_per_class.py) on the stage's final model ->
    ``<stage>/eval``, unless that evaluation exists; returns its metrics."""
    d = trainer.stage_dir(stage)
    metrics = evaluated_final(read_stage(d))
    if metrics is None:
        final = read_stage(d).done["final_model"]
        args = ["--model", os.path.join(d, layout.DEPLOY), "--weights", final,
                "--lmdb", trainer.test_db(stage), "--train-val",
                os.path.join(d, layout.TRAIN_VAL), "--out", os.path.join(d, layout.EVAL),
                "--quiet"]
        if trainer.gpu:
            args += ["--gpu", trainer.gpu.split(",")[0] if trainer.gpu != "all" else "0"]
        trainer.log("%s: evaluating %s" % (stage, os.path.basename(final)))
        run_module("racnn.eval", args, "evaluation of %s" % final, env=trainer.caffe_env)
        metrics = evaluated_final(read_stage(d))
    trainer.log("%s: mean class accuracy %.2f %% on %d images"
                % (stage, 100 * metrics["mean_class_accuracy"], metrics["num_images"]))
    return metrics


def report(run_dir):
    """racnn.report's results table of this run (beside the paper's
    numbers) in ``<run>/report``."""
    out = os.path.join(run_dir, layout.REPORT)
    run_module("racnn.report", [run_dir, "--out", out], "the report of %s" % run_dir)
    return out


def run_module(module, args, what, env=None):
    """``python3 -m module args`` from the repository root (with the extra
    environment variables ``env``); a RacnnError with the end of its output
    when it fails."""
    proc = subprocess.run([sys.executable, "-m", module] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, cwd=REPO,
                          env=dict(os.environ, **(env or {})))
    if proc.returncode != 0:
        raise RacnnError("%s failed:\n%s" % (what, proc.stdout[-3000:]))


def summary_lines(record):
    """A few lines for the terminal: where things are and each network's
    mean class accuracy."""
    lines = ["run folder: %s" % record["run_dir"]]
    for name, res in sorted(record.get("results", {}).items(),
                            key=lambda kv: vocab.stage_key(kv[0])):
        lines.append("  %-8s mean class accuracy %6.2f %%  (eval: %s)%s"
                     % (name, 100 * res["mean_class_accuracy"], res["eval_dir"],
                        "  STALE: see above" if name in record.get("stale", {}) else ""))
    if record.get("report"):
        lines.append("results table: %s" % record["report"])
    for reason in record.get("not_finished") or ():
        lines.append("NOT finished: %s" % reason)
    return lines
