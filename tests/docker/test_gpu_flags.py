"""GPU requests on a machine or a Caffe build that cannot serve them stop at
once with one clear line: `caffe -gpu` of the CUDA build (its caffe wrapper
and caffe-gpu-check, docker/gpu/), and an experiment's GPU= on either build,
before any database or run folder is made.

Runs in the CPU environment (`make test`) and in the GPU one
(`make check-gpu-build`, RACNN_ENV=gpu); the CUDA-build tests skip in the
first, the no-GPU tests skip where a GPU is usable."""
import os
import shutil
import subprocess
import sys
import time

import pytest

from racnn.paths import REPO
from tests.support.versions import CAFFE_VERSION

GPU_BUILD = os.environ.get("RACNN_CAFFE_GPU_BUILD")


def _run(cmd, env_extra=None, timeout=120):
    env = dict(os.environ, **(env_extra or {}))
    start = time.time()
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, cwd=REPO, env=env, timeout=timeout)
    return res, time.time() - start


def _gpu_usable():
    if not shutil.which("caffe-gpu-check"):
        return False
    return subprocess.run(["caffe-gpu-check", "0"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


cuda_build = pytest.mark.skipif(not GPU_BUILD, reason="not the CUDA build of Caffe "
                                "(RACNN_ENV=gpu; make check-gpu-build)")


@cuda_build
def test_the_cuda_build_is_the_caffe_on_path():
    assert shutil.which("caffe") == os.path.join(GPU_BUILD, "bin", "caffe")
    assert os.access(os.path.join(GPU_BUILD, "bin", "caffe.bin"), os.X_OK)
    import caffe
    assert caffe.__file__.startswith(GPU_BUILD + "/"), caffe.__file__


@cuda_build
@pytest.mark.parametrize("args", [["device_query", "-gpu", "0"], ["device_query", "--gpu=0"],
                                  ["time", "-model", "x.prototxt", "-gpu", "all"]])
def test_caffe_with_gpu_and_no_gpu_stops_at_once_with_one_line(args):
    if _gpu_usable():
        pytest.skip("a GPU is usable here")
    res, seconds = _run(["caffe"] + args, timeout=60)
    assert res.returncode == 1, res.stdout
    assert seconds < 10, seconds
    assert res.stdout.startswith("caffe-gpu-check: GPU "), res.stdout
    assert "580" in res.stdout and "7.5" in res.stdout          # driver and GPU needed
    assert "Check failed" not in res.stdout and "stack trace" not in res.stdout


@cuda_build
def test_caffe_without_gpu_flag_runs_the_real_binary_on_the_cpu():
    res, _ = _run(["caffe", "--version"])
    # the wrapper execs caffe.bin, and gflags names the program after its file
    assert res.returncode == 0 and "caffe.bin version %s" % CAFFE_VERSION in res.stdout, \
        res.stdout


@cuda_build
def test_gpu_list_that_is_not_one_is_named():
    res, _ = _run(["caffe-gpu-check", "zero"])
    if not _gpu_usable():        # the driver is checked first: that is the one line then
        assert res.returncode == 1 and "no NVIDIA driver" in res.stdout, res.stdout
    else:
        assert res.returncode == 2 and "'zero' is not a GPU list" in res.stdout, res.stdout


@cuda_build
def test_multi_gpu_request_without_enough_gpus_is_refused():
    if _gpu_usable():
        pytest.skip("a GPU is usable here")
    res, _ = _run(["caffe", "train", "-solver", "x.prototxt", "-gpu", "0,1"])
    assert res.returncode == 1 and "caffe-gpu-check: GPU 0,1 requested" in res.stdout, res.stdout


def test_experiment_gpu_request_without_a_usable_gpu_stops_before_any_work(tmp_path):
    """`make cars-alexnet GPU=0` (tools/experiment.py --gpu 0) where no GPU can
    be used: one clear line, exit 2, and no database built."""
    if _gpu_usable():
        pytest.skip("a GPU is usable here")
    data, runs = tmp_path / "data", tmp_path / "runs"
    res, seconds = _run([sys.executable, "tools/experiment.py", "cars", "alexnet", "--gpu", "0"],
                        {"RACNN_DATA": str(data), "RACNN_RUNS": str(runs)})
    assert res.returncode == 2, res.stdout
    assert "GPU 0" in res.stdout, res.stdout
    if GPU_BUILD:
        assert "caffe-gpu-check: GPU 0 requested" in res.stdout, res.stdout
    else:
        assert "CPU-only" in res.stdout and "RACNN_ENV=gpu" in res.stdout, res.stdout
    assert "Traceback" not in res.stdout
    assert not (data / "db").exists() and not list(runs.glob("*/*/train.log"))
    assert seconds < 30, seconds
