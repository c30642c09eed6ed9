"""docker/run's environment names (RACNN_ENV=cpu|gpu|gpu-build) and the
deprecated RACNN_VARIANT, and the GPU checks' one naming scheme under
docker/gpu/ (issue 22). Cheap: every case stops before an environment is
entered (RACNN_ENV_MARKER points away from the marker of the environment the
suite runs in)."""
import os
import subprocess

from racnn.paths import REPO

RUN = os.path.join(REPO, "docker", "run")


def _run(env):
    e = {k: v for k, v in os.environ.items() if not k.startswith("RACNN_")}
    e.update(env, RACNN_ENV_MARKER="/nonexistent/marker", RACNN_BACKEND="rootfs",
             RACNN_CACHE="/nonexistent/cache")
    return subprocess.run([RUN, "true"], env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=60)


def test_an_unknown_environment_is_named():
    res = _run({"RACNN_ENV": "cuda"})
    assert res.returncode == 2
    assert "RACNN_ENV must be cpu, gpu or gpu-build, not 'cuda'" in res.stdout


def test_racnn_variant_still_works_with_a_note():
    res = _run({"RACNN_VARIANT": "cuda"})
    assert "RACNN_VARIANT is deprecated, use RACNN_ENV=cuda" in res.stdout
    assert "RACNN_ENV must be cpu, gpu or gpu-build, not 'cuda'" in res.stdout
    # RACNN_ENV wins over the old name, without a note
    res = _run({"RACNN_VARIANT": "cuda", "RACNN_ENV": "gpu-build-x"})
    assert "deprecated" not in res.stdout and "not 'gpu-build-x'" in res.stdout


def test_the_gpu_build_environment_is_rootfs_only():
    e = {k: v for k, v in os.environ.items() if not k.startswith("RACNN_")}
    e.update(RACNN_ENV="gpu-build", RACNN_BACKEND="docker", RACNN_ENV_MARKER="/nonexistent/marker")
    res = subprocess.run([RUN, "true"], env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, timeout=60)
    assert res.returncode == 2 and "RACNN_BACKEND=rootfs" in res.stdout, res.stdout


def test_the_gpu_checks_live_in_docker_gpu():
    gpu = os.path.join(REPO, "docker", "gpu")
    for f in ("check-build.sh", "check-gpu.sh", "caffe-gpu-check.c", "build_caffe_gpu.sh",
              "deps.sh", "cuda-wheels.txt", "bundle/run-check", "bundle/racnn-env.sh"):
        assert os.path.isfile(os.path.join(gpu, f)), f
    for old in ("docker/check_gpu_build.sh", "bench/gpu_check.sh", "docker/gpu/gpu_check.c"):
        assert not os.path.exists(os.path.join(REPO, old)), old
    make = subprocess.run(["make", "-n", "check-gpu-build", "gpu-check", "gpu-bundle"], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    assert make.returncode == 0, make.stdout
    assert "docker/gpu/check-build.sh" in make.stdout and "docker/gpu/check-gpu.sh" in make.stdout
    assert "docker/gpu/bundle/make-bundle.sh" in make.stdout
