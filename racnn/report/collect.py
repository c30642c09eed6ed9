"""Result records from run folders: one per evaluated network (the
classification stages of racnn.vocab.VARIANTS: cnn, staged, racnn_g,
racnn_p), with every setting that decides where it may be placed
(racnn.rundir.keying.fields) and its schedule (short -- itself or a stage
it starts from -- or the release's, best in-solver test pass).  Each record's number is its stage's
``eval/metrics.json`` (racnn.rundir.results), read, never recomputed."""
import os

from .. import vocab
from ..rundir import layout, reader
from ..rundir.results import stage_metrics
from ..rundir import keying
from ..rundir.verdict import folder_reasons, short_stages
from . import fig5


def collect(run_dirs):
    """Result records, one per evaluated classification stage."""
    out = []
    for rd in run_dirs:
        run = reader.read_run(rd)
        cfg = run.config
        for st in run.stages:
            m = stage_metrics(st) if st.name in vocab.VARIANTS else None
            if m is None:
                continue
            mpath = os.path.join(reader.eval_dir(run, st), "metrics.json")
            log = os.path.join(st.dir, layout.LOG)
            out.append({
                "dataset": cfg.get("dataset"), "backbone": cfg.get("backbone"),
                "variant": st.name, "res": cfg.get("res"), "mode": cfg.get("mode"),
                "mults": cfg.get("mults"), "sr_weights": cfg.get("sr_weights"),
                "smoke": bool(cfg.get("smoke")), "ours": 100.0 * m["mean_class_accuracy"],
                "overall": 100.0 * m["overall_accuracy"], "num_images": m["num_images"],
                "iteration": m.get("iteration"), "run": run.dir,
                "config": os.path.join(run.dir, layout.CONFIG),
                "log": log if os.path.isfile(log) else None,
                "model": m.get("snapshot"), "eval": os.path.dirname(mpath),
                "evaluated": os.path.getmtime(mpath)})
            out[-1].update(schedule_fields(cfg, st.name, log))
            out[-1].update(keying.fields(cfg, st.name))
            out[-1]["sr_label"] = keying.sr_label(out[-1])
            out[-1]["folder_reasons"] = folder_reasons(run.dir, st.name)
    return out


def schedule_fields(cfg, stage, log):
    """``short_schedule`` (the driver's flag in config.json: fewer iterations
    than the release with the release's learning rate, on the stage or on a
    stage it starts from: ``short_stages`` names them, racnn.rundir.verdict)
    and ``best_test`` ((accuracy %, iteration) of the best in-solver test
    pass, or None)."""
    short = short_stages(cfg, stage)
    best = fig5.best_in_solver(log) if log else None
    return {"short_schedule": bool(short), "short_stages": short,
            "best_test": (100.0 * best[0], best[1]) if best else None}


