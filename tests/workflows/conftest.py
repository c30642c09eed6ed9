"""The slow runs of the workflows, each made once per session and shared by
the tests that only read it (tests.support.workflows makes them).  Where the
collected tests need them, they start at the beginning of the session and run
while the other tests go on (tests.support.ahead); the fixtures wait for them."""
import pytest

from racnn.paths import shared_dir
from tests.support import ahead, workflows


def _demo_in(folder):
    """What makes a SMOKE demo run with data and runs in a new ``folder``."""
    def make(tmp_path_factory):
        tmp = tmp_path_factory.mktemp(folder)
        return tmp, workflows.demo_run(tmp)
    return make


ahead.recipe("smoke")(_demo_in("demo"))
ahead.recipe("second_smoke")(_demo_in("demo-again"))


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """The SMOKE demo (tools/demo.py --smoke) with data and runs in a folder
    of its own: (that folder, the run folder, the demo's output, seconds).
    The tests read it; the one test that runs the demo again in the same
    folders (tests/workflows/test_smoke_demo.py, last) rewrites only files
    of the same content and appends to experiment.log.  (A copy elsewhere
    cannot stand in: config.json names the data folder, so a copy is
    another configuration to the driver.)"""
    tmp, run = ahead.take("smoke", tmp_path_factory)
    out, seconds = workflows.finished(run)
    return tmp, tmp / "runs" / workflows.DEMO_RUN, out, seconds


@pytest.fixture(scope="session")
def second_smoke(tmp_path_factory):
    """The same SMOKE demo again in other folders: the folder holding its
    data and runs."""
    tmp, run = ahead.take("second_smoke", tmp_path_factory)
    workflows.finished(run)
    return tmp


@ahead.recipe("cub_run")
def _cub_run(tmp_path_factory):
    if shared_dir() is None:
        return None                             # the fixture skips (``shared``)
    tmp = tmp_path_factory.mktemp("cub")
    weights, run = workflows.cub_smoke_run(tmp, shared_dir())
    return (tmp, weights), run


@pytest.fixture(scope="session")
def cub_run(shared, tmp_path_factory):
    """`tools/experiment.py birds tiny --smoke` on the CUB fixture, every
    variant but Staged-Training, from a stand-in for ImageNet weights:
    (run folder, weights, output, the folder holding data and runs)."""
    (tmp, weights), run = ahead.take("cub_run", tmp_path_factory)
    out, _ = workflows.finished(run)
    return workflows.run_folder(out), weights, out, tmp


@ahead.recipe("staged_run")
def _staged_run(tmp_path_factory):
    if shared_dir() is None:
        return None
    tmp = tmp_path_factory.mktemp("staged")
    weights, run = workflows.cub_smoke_run(tmp, shared_dir(), "--variants", "cnn,staged",
                                           "--set", "tests=2", "--set", "iters=6",
                                           weights_name="standin.caffemodel")
    return (tmp, weights), run


@pytest.fixture(scope="session")
def staged_run(shared, tmp_path_factory):
    """`tools/experiment.py birds tiny --smoke --variants cnn,staged`, 6
    iterations and 2 test passes, on the CUB fixture from a stand-in for
    ImageNet weights: (run folder, weights, output)."""
    (tmp, weights), run = ahead.take("staged_run", tmp_path_factory)
    out, _ = workflows.finished(run)
    runs = [p for p in (tmp / "runs").iterdir() if (p / "config.json").is_file()]
    assert len(runs) == 1, runs         # its name: racnn.rundir.settings.run_name
    return runs[0], weights, out
