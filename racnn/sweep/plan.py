"""A sweep's plan: the list of runs, each the exact tools/experiment.py
command of one run folder, written as ``plan.json`` in the sweep folder
(runs/sweeps/<name>/ by default) before anything starts.

A plan is fixed once written: submitting or running the same sweep again
reads it back (so a resubmission names the same runs and the same Slurm
task numbers), and a different grid under the same name is an error rather
than a silent mix of two plans.
"""
import json
import os

from .. import atomic
from ..errors import RacnnError
from ..rundir import settings
from ..paths import REPO, RUNS_DIR

PLAN = "plan.json"
#: what ``prepare`` could make ready: {run index: None | error message}
PREPARED = "prepared.json"


def sweep_dir(name, root=None):
    return os.path.join(root or os.path.join(RUNS_DIR, "sweeps"), name)



def config(p):
    """The configuration a point (or a planned run: the same keys) trains with."""
    return settings.make_config(p["dataset"], p["backbone"], smoke=p["smoke"], **p["settings"])


def command(p, run_dir):
    """The tools/experiment.py argument list of point ``p`` (from the
    repository root)."""
    argv = ["python3", "tools/experiment.py", p["dataset"], p["backbone"], "--run-dir", run_dir]
    if p["smoke"]:
        argv.append("--smoke")
    for key in sorted(p["settings"]):
        argv += ["--set", "%s=%s" % (key, json.dumps(p["settings"][key]))]
    return argv


def expand(points, runs_dir=None):
    """The plan's runs: ``points`` resolved by racnn.rundir.settings (so
    every name and value is checked now), one per run folder; a point that
    lands in a run folder already planned is dropped (``all`` holds Table
    III's r = 50 run once)."""
    runs, seen = [], set()
    for p in points:
        cfg = config(p)
        run_dir = settings.default_run_dir(cfg, runs_dir)
        if run_dir in seen:
            continue
        seen.add(run_dir)
        runs.append({"index": len(runs), "name": os.path.basename(run_dir),
                     "run_dir": run_dir, "dataset": cfg["dataset"], "backbone": cfg["backbone"],
                     "smoke": p["smoke"], "settings": p["settings"],
                     "variants": list(cfg["variants"]), "stages": settings.stage_plan(cfg),
                     "command": command(p, run_dir)})
    if not runs:
        raise RacnnError("the sweep has no runs")
    return runs


def write(folder, name, runs, source):
    """Write ``plan.json`` in ``folder`` (or check that the one there is the
    same plan); returns the plan."""
    plan = {"sweep": name, "source": source, "repository": REPO, "runs": runs}
    path = os.path.join(folder, PLAN)
    old = read(folder) if os.path.isfile(path) else None
    if old is not None:
        if [r["command"] for r in old["runs"]] != [r["command"] for r in runs]:
            raise RacnnError("sweep folder %s already holds another plan (%s, %d runs); "
                             "choose another --name or remove %s"
                             % (folder, old.get("source"), len(old["runs"]), path))
        return old
    os.makedirs(folder, exist_ok=True)
    atomic.write_text(path, json.dumps(plan, indent=1) + "\n")
    return plan


def read(folder):
    path = os.path.join(folder, PLAN)
    try:
        with open(path) as fh:
            plan = json.load(fh)
        plan["runs"]
    except FileNotFoundError:
        raise RacnnError("%s: no such sweep plan (plan the sweep first: tools/sweep.py plan "
                         "NAME)" % path)
    except (ValueError, KeyError, TypeError):
        raise RacnnError("%s is not a sweep plan (unreadable JSON or no \"runs\")" % path)
    return plan


def describe(plan):
    """The plan as a few readable lines."""
    lines = ["sweep %s: %d run(s) (%s)" % (plan["sweep"], len(plan["runs"]), plan["source"])]
    for r in plan["runs"]:
        lines.append("  %3d  %-45s stages: %s" % (r["index"], r["name"], ", ".join(r["stages"])))
    lines.append("each run: %s" % " ".join(plan["runs"][0]["command"][:4]) + " ...")
    return lines


def read_prepared(folder):
    """``prepared.json`` (written by racnn.sweep.prepare, inside the
    environment) as {run index: None | error message}."""
    path = os.path.join(folder, PREPARED)
    try:
        with open(path) as fh:
            return {int(k): v for k, v in json.load(fh).items()}
    except (OSError, ValueError) as exc:
        raise RacnnError("%s: unreadable (%s)" % (path, exc))
