"""A sweep's plan as a graph of jobs: one job per stage of each run (each
``tools/experiment.py ... --only-stage STAGE`` in the run's folder, exactly
what the experiment does for that stage), one job per shared stage-1 model
(racnn.rundir.sr_model: one per distinct stage-1 setting, trained in the
first run that needs it, linked into the others), and one report job at the
end.  A job depends on the jobs of the stages it starts from (p-RACNN on its
stage-1 model, every classifier of a tiny run on its backbone_hr, staged on
staged_hr); the report job on every other job, run however they ended.

Each job: ``name`` (``<run>:<stage>``, ``sr:<model folder>``, ``report``),
``stage``, ``run`` (the run it trains in; None for the report), ``index``
(that run's index), ``depends_on`` (names), ``command`` (from the
repository root, inside the environment), ``log`` (its output, beside the
run folder, the model folder or in the sweep folder); stage-1 jobs also
``model`` (the shared folder) and ``runs`` (every run that uses it).
"""
import os

from .. import vocab
from ..rundir import settings, sr_model
from . import plan as plan_mod

REPORT = "report"
STAGE1 = "stage1_sr"


def job_name(run, stage):
    return "%s:%s" % (run["name"], stage)


def build(plan, folder):
    """The jobs of ``plan`` (a sweep folder's), in an order where every job
    comes after the jobs it depends on."""
    shared, jobs, names = {}, [], {}
    for run in plan["runs"]:
        cfg = plan_mod.config(run)
        for stage in run["stages"]:
            if stage == STAGE1:
                model = sr_model.folder(run["run_dir"], cfg)
                if model not in shared:
                    shared[model] = {
                        "name": "sr:%s" % os.path.basename(model), "stage": STAGE1,
                        "run": run["name"], "index": run["index"], "depends_on": [],
                        "command": run["command"] + ["--only-stage", STAGE1],
                        "log": model, "model": model, "runs": []}
                    jobs.append(shared[model])
                shared[model]["runs"].append(run["name"])
                names[(run["name"], stage)] = shared[model]["name"]
                continue
            name = job_name(run, stage)
            names[(run["name"], stage)] = name
            jobs.append({"name": name, "stage": stage, "run": run["name"],
                         "index": run["index"],
                         "depends_on": [names[(run["name"], r)] for r in settings.stage_reads(cfg, stage)],
                         "command": run["command"] + ["--only-stage", stage],
                         "log": "%s.%s" % (run["run_dir"], stage)})
    jobs.append({"name": REPORT, "stage": REPORT, "run": None, "index": None,
                 "depends_on": [j["name"] for j in jobs],
                 "command": ["python3", "tools/sweep.py", "report", folder, "--backend", "none"],
                 "log": os.path.join(folder, REPORT)})
    return jobs


def by_name(jobs):
    return {j["name"]: j for j in jobs}


def describe(jobs):
    """A few lines: how many jobs of each stage, the shared stage-1 models."""
    models = [j for j in jobs if j["stage"] == STAGE1]
    counts = {}
    for j in jobs:
        if j["stage"] not in (STAGE1, REPORT):
            counts[j["stage"]] = counts.get(j["stage"], 0) + 1
    lines = ["jobs: %d (%d stage-1 model(s) for %d run(s) that train stage 1; %s; 1 report)"
             % (len(jobs), len(models), sum(len(j["runs"]) for j in models),
                ", ".join("%d %s" % (n, s) for s, n in sorted(
                    counts.items(), key=lambda kv: vocab.stage_key(kv[0]))))]
    for j in models:
        lines.append("  %s: stage 1 of %s" % (j["model"], ", ".join(j["runs"])))
    return lines
