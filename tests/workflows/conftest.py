"""The slow runs of the workflows, each made once per session and shared by
the tests that only read it (tests.support.workflows runs them)."""
import pytest

from tests.support import workflows


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """The SMOKE demo (tools/demo.py --smoke) with data and runs in a folder
    of its own: (that folder, the run folder, the demo's output, seconds).
    The tests read it; the one test that runs the demo again in the same
    folders (tests/workflows/test_smoke_demo.py, last) rewrites only files
    of the same content and appends to experiment.log.  (A copy elsewhere
    cannot stand in: config.json names the data folder, so a copy is
    another configuration to the driver.)"""
    tmp = tmp_path_factory.mktemp("demo")
    out, seconds = workflows.demo(tmp)
    return tmp, tmp / "runs" / workflows.DEMO_RUN, out, seconds


@pytest.fixture(scope="session")
def cub_run(shared, tmp_path_factory):
    """`tools/experiment.py birds tiny --smoke` on the CUB fixture, every
    variant but Staged-Training, from a stand-in for ImageNet weights:
    (run folder, weights, output, the folder holding data and runs)."""
    tmp = tmp_path_factory.mktemp("cub")
    weights, out = workflows.cub_smoke(tmp, shared)
    return workflows.run_folder(out), weights, out, tmp


@pytest.fixture(scope="session")
def staged_run(shared, tmp_path_factory):
    """`tools/experiment.py birds tiny --smoke --variants cnn,staged`, 6
    iterations and 2 test passes, on the CUB fixture from a stand-in for
    ImageNet weights: (run folder, weights, output)."""
    tmp = tmp_path_factory.mktemp("staged")
    weights, out = workflows.cub_smoke(tmp, shared, "--variants", "cnn,staged", "--set",
                                       "tests=2", "--set", "iters=6",
                                       weights_name="standin.caffemodel")
    runs = [p for p in (tmp / "runs").iterdir() if (p / "config.json").is_file()]
    assert len(runs) == 1, runs         # its name: racnn.rundir.settings.run_name
    return runs[0], weights, out
