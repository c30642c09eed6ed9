"""The slow end-to-end runs of tests/workflows/: the SMOKE demo and SMOKE
experiments on the CUB fixture, each a real tool in a process of its own,
and readers of their outputs."""
import json
import os
import pathlib
import sys

from tests.support import evalkit as kit
from tests.support.ahead import Run
from tests.support.commands import data_env

#: the SMOKE demo's run folder (its name: racnn.rundir.settings.run_name)
DEMO_RUN = "synthetic-tiny-r16-frozen-release-smoke"


def finished(run):
    """(output, seconds) of a run (tests.support.ahead.Run) that must succeed."""
    code, out, seconds = run.result()
    assert code == 0, out[-5000:]
    return out, seconds


def demo_run(tmp):
    """tools/demo.py --smoke with data and runs under ``tmp`` (a Run)."""
    return Run([sys.executable, "tools/demo.py", "--smoke"], data_env(tmp))


def demo(tmp):
    """tools/demo.py --smoke with data and runs under ``tmp``, now: (output, seconds)."""
    return finished(demo_run(tmp))


def cub_smoke_run(tmp, shared, *args, weights_name="tiny_imagenet_standin.caffemodel"):
    """A stand-in for ImageNet weights of the tiny backbone (made now, at
    ``tmp/weights_name``), and the run of `tools/experiment.py birds tiny
    --smoke` on the CUB fixture with those weights plus ``args``, data and
    runs under ``tmp``: (weights, Run)."""
    weights = kit.standin_weights(tmp / weights_name)
    return weights, experiment_run(tmp, [
        "birds", "tiny", "--smoke", "--data-root", os.path.join(shared, "data", "cub_mini"),
        "--backbone-weights", weights] + list(args))


def experiment_run(tmp, args):
    """tools/experiment.py ARGS with data and runs under ``tmp`` (a Run)."""
    return Run([sys.executable, "tools/experiment.py"] + list(args), data_env(tmp))


def experiment_smoke(tmp, args):
    """tools/experiment.py ARGS with data and runs under ``tmp``, now, which
    must succeed: its output (stdout and stderr)."""
    return finished(experiment_run(tmp, args))[0]


def run_folder(stdout):
    """The run folder the driver's summary names (its name carries the settings)."""
    lines = [l for l in stdout.splitlines() if l.startswith("run folder: ")]
    assert len(lines) == 1, stdout[-2000:]
    return pathlib.Path(lines[0][len("run folder: "):])


def load(path):
    """A JSON file's value."""
    with open(str(path)) as fh:
        return json.load(fh)
