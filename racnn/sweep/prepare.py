"""The shared inputs of a sweep, made once before its runs start: datasets
checked, databases built (racnn.inputs, under the databases'
locks, so a run that starts meanwhile waits instead of building them
twice), the demo's synthetic dataset written.  Runs inside the Caffe
environment (tools/sweep.py prepare, through the sweep's backend).

The stage-1 SR models are not built here: each is a job of the sweep's
graph (racnn.sweep.jobs), one per distinct stage-1 setting, shared by every
run that needs it (racnn.rundir.sr_model).  Only their patch databases are.
"""
import json
import os

from .. import atomic
from ..errors import RacnnError
from ..datasets import synthetic
from ..demo import settings as demo_settings
from ..inputs.checks import check_inputs
from ..inputs.databases import databases
from ..rundir import settings
from . import grids
from .plan import PREPARED


def prepare(plan, folder, indices=None, echo=print):
    """Check and build the inputs of the runs ``indices`` (default: all);
    returns {index: None | error message}, also written to prepared.json.
    A run whose inputs fail is reported and left out, the others go on."""
    out = {}
    for run in plan["runs"]:
        if indices is not None and run["index"] not in indices:
            continue
        try:
            cfg = settings.make_config(run["dataset"], run["backbone"], smoke=run["smoke"],
                                       **run["settings"])
            if cfg["data_root"] == grids.demo_data_dir():
                synthetic.generate(cfg["data_root"], **demo_settings.DATASET_SMOKE)
            stages = settings.stage_plan(cfg)
            found = check_inputs(cfg, stages)
            databases(cfg, found, stages)
            out[run["index"]] = None
            echo("[prepare] %s: inputs ready" % run["name"])
        except RacnnError as exc:
            out[run["index"]] = str(exc)
            echo("[prepare] %s: cannot prepare: %s" % (run["name"], exc))
    atomic.write_text(os.path.join(folder, PREPARED),
                      json.dumps({str(k): v for k, v in out.items()}, indent=1) + "\n")
    return out
