"""A run's results, from their one home: each stage's evaluation,
``<stage>/eval/metrics.json`` (written by racnn.eval; its keys:
docs/EVALUATION.md).  config.json holds settings and provenance, never
results."""
import json
import os

from . import layout
from .reader import read_run

#: what a run's summary keeps of a stage's metrics.json
SUMMARY = ("mean_class_accuracy", "overall_accuracy", "num_images")


def stage_metrics(stage):
    """The metrics.json of a Stage's evaluation, or None when it has none."""
    path = os.path.join(stage.dir, layout.EVAL, "metrics.json")
    if not os.path.isfile(path):
        return None
    with open(path) as fh:
        return json.load(fh)


def evaluated_final(stage):
    """The metrics of a finished stage's evaluation when it is of the stage's
    final model (DONE), else None (not finished, not evaluated, or an
    evaluation of an earlier snapshot)."""
    if not stage.done:
        return None
    m = stage_metrics(stage)
    return m if m is not None and is_final_model(m.get("snapshot"), stage) else None


def is_final_model(snapshot, stage):
    """Whether ``snapshot`` (a path a metrics.json recorded) is the stage's
    final model: the same file below the stage folder, wherever the run
    folder is now (run folders can be moved)."""
    final = stage.done["final_model"]
    if not snapshot:
        return False
    rel = os.path.relpath(final, stage.dir).split(os.sep)
    return os.path.abspath(snapshot) == final or os.path.normpath(snapshot).split(
        os.sep)[-len(rel) - 1:] == [stage.name] + rel


def final_results(run_dir):
    """{stage: {mean_class_accuracy, overall_accuracy, num_images, eval_dir,
    final_model}} of every stage of the run whose final model was evaluated."""
    out = {}
    for st in read_run(run_dir).stages:
        m = evaluated_final(st)
        if m is not None:
            out[st.name] = dict({k: m[k] for k in SUMMARY},
                                eval_dir=os.path.join(st.dir, layout.EVAL),
                                final_model=st.done["final_model"])
    return out
