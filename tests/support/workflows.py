"""The slow end-to-end runs of tests/workflows/: the SMOKE demo and SMOKE
experiments on the CUB fixture, each a real tool in a process of its own,
and readers of their outputs."""
import json
import os
import pathlib
import subprocess
import sys
import time

from racnn.paths import REPO
from tests.support import evalkit as kit

#: the SMOKE demo's run folder (its name: racnn.rundir.settings.run_name)
DEMO_RUN = "synthetic-tiny-r16-frozen-release-smoke"


def demo(tmp):
    """tools/demo.py --smoke with data and runs under ``tmp``: (output, seconds)."""
    env = dict(os.environ, RACNN_DATA=str(tmp / "data"), RACNN_RUNS=str(tmp / "runs"))
    t0 = time.time()
    proc = subprocess.run([sys.executable, "tools/demo.py", "--smoke"], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    assert proc.returncode == 0, proc.stdout[-5000:]
    return proc.stdout, time.time() - t0


def cub_smoke(tmp, shared, *args, weights_name="tiny_imagenet_standin.caffemodel"):
    """A stand-in for ImageNet weights of the tiny backbone (made here, at
    ``tmp/weights_name``), then `tools/experiment.py birds tiny --smoke` on
    the CUB fixture with those weights plus ``args``, data and runs under
    ``tmp``: (weights, output)."""
    weights = kit.standin_weights(tmp / weights_name)
    return weights, experiment_smoke(tmp, [
        "birds", "tiny", "--smoke", "--data-root", os.path.join(shared, "data", "cub_mini"),
        "--backbone-weights", weights] + list(args))


def experiment_smoke(tmp, args):
    """tools/experiment.py ARGS with data and runs under ``tmp``, which must
    succeed: its output (stdout and stderr)."""
    env = dict(os.environ, RACNN_DATA=str(tmp / "data"), RACNN_RUNS=str(tmp / "runs"))
    proc = subprocess.run([sys.executable, "tools/experiment.py"] + list(args), cwd=REPO,
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    assert proc.returncode == 0, proc.stdout[-5000:]
    return proc.stdout


def run_folder(stdout):
    """The run folder the driver's summary names (its name carries the settings)."""
    lines = [l for l in stdout.splitlines() if l.startswith("run folder: ")]
    assert len(lines) == 1, stdout[-2000:]
    return pathlib.Path(lines[0][len("run folder: "):])


def load(path):
    """A JSON file's value."""
    with open(str(path)) as fh:
        return json.load(fh)
