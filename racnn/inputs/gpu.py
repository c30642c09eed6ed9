"""Whether Caffe can use the GPU(s) a run asks for: the CUDA build's
``caffe-gpu-check`` (docker/gpu/), else Debian's CPU-only Caffe says no.  A
run asked for a GPU that cannot be used stops at once, naming why."""
import functools
import shutil
import subprocess

from ..errors import RacnnError


@functools.lru_cache(maxsize=None)
def _gpu_problem(gpu):
    """None when Caffe can use GPU(s) ``gpu`` here, else one line saying why."""
    if shutil.which("caffe-gpu-check"):       # the CUDA build (docker/gpu/, docs/GPU.md)
        out = subprocess.run(["caffe-gpu-check", gpu], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True)
        return None if out.returncode == 0 else out.stdout.strip()
    out = subprocess.run(["caffe", "device_query", "--gpu", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True)
    if out.returncode == 0 and "CPU-only" not in out.stdout:
        return None
    return ("GPU %s requested, but this environment's Caffe is a CPU-only build (Debian's "
            "caffe); the CUDA build is RACNN_ENV=gpu docker/run ... (make gpu-env) or the "
            "racnn-caffe-gpu image (docs/GPU.md)" % gpu)


def usable_gpu(gpu):
    """Caffe's ``--gpu`` value, or None (CPU) when none was asked for.  A GPU
    that this Caffe build or machine cannot use stops the run at once: a
    run asked for a GPU is not quietly a CPU run."""
    if not gpu:
        return None
    problem = _gpu_problem(str(gpu))
    if problem:
        raise RacnnError("%s\nLeave GPU= / --gpu out to train on the CPU." % problem)
    return gpu


