"""The Dockerfiles: well formed and pinned, built from the repository root,
compiling the resize kernel into the image (its RUN line executed here)."""
import os
import re
import shutil
import subprocess

import pytest

from racnn.resize import compiled as cresize
from racnn.paths import REPO
from tests.support.versions import CAFFE_DEBIAN_VERSION


def _dockerfile_instructions(path):
    text = open(path).read().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_dockerfiles_are_well_formed_and_pinned(name):
    lines = _dockerfile_instructions(os.path.join(REPO, "docker", name))
    keywords = {"FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "WORKDIR", "CMD", "LABEL", "USER"}
    for line in lines:
        assert line.split()[0] in keywords, "%s: unknown instruction: %s" % (name, line)
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert froms == ["debian:bullseye-slim"], froms        # a release, never :latest
    text = " ".join(lines)
    assert "docker/provision.sh" in text                    # one environment, one script
    if name == "Dockerfile.gpu":
        args = dict(re.findall(r"ARG (\w+)=(\S+)", text))
        assert args["CAFFE_DEBIAN_VERSION"] == CAFFE_DEBIAN_VERSION
        assert re.fullmatch(r"\d+-\d+", args["CUDA_VERSION"])
        # the one GPU build script, shared with docker/run's GPU rootfs
        assert "sh /tmp/racnn-gpu/build_caffe_gpu.sh" in text
        build = open(os.path.join(REPO, "docker", "gpu", "build_caffe_gpu.sh")).read()
        assert 'caffe=$CAFFE_DEBIAN_VERSION' in build
        assert "-DCPU_ONLY=OFF" in build


def test_dockerfiles_are_built_with_the_repository_root_as_context():
    # COPY sources are relative to the build context: the repository root,
    # both in `make image` and in docker/run's own build.
    for name in ("Dockerfile", "Dockerfile.gpu"):
        for line in _dockerfile_instructions(os.path.join(REPO, "docker", name)):
            if line.startswith("COPY "):
                src = line.split()[1]
                assert os.path.exists(os.path.join(REPO, src)), "%s: COPY %s" % (name, src)
    # what `make image` runs (make's dry run), not the Makefile's text; the
    # image built from it: tests/docker/test_image.py
    dry = subprocess.run(["make", "-n", "image"], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True)
    assert dry.returncode == 0, dry.stdout
    build = [line.split() for line in dry.stdout.splitlines() if " build " in line]
    assert build and build[-1][-1] == ".", dry.stdout          # context: the repository root
    assert build[-1][build[-1].index("-f") + 1] == "docker/Dockerfile"


def _kernel_run(lines):
    runs = [line for line in lines if line.startswith("RUN ") and "RACNN_EXT_DIR=" in line]
    assert len(runs) == 1, runs
    return runs[0]


def test_dockerfiles_compile_the_kernel_into_the_image():
    """Both images compile the kernel after the package is in place, into
    the folder their RACNN_EXT_DIR names, so `docker run` finds it."""
    runs = []
    for name in ("Dockerfile", "Dockerfile.gpu"):
        lines = _dockerfile_instructions(os.path.join(REPO, "docker", name))
        run = _kernel_run(lines)
        folder = re.search(r"RACNN_EXT_DIR=(\S+)", run).group(1)
        env = [line for line in lines if line.startswith("ENV ") and "RACNN_EXT_DIR=" in line]
        assert len(env) == 1 and re.search(r"RACNN_EXT_DIR=%s(\s|$)" % re.escape(folder), env[0])
        at = lines.index(run)
        assert lines.index("COPY . /racnn") < at and lines.index("WORKDIR /racnn") < at, name
        assert lines.index(env[0]) > at, "%s: ENV before the RUN that fills the folder" % name
        assert "RACNN_RESIZE=c" in run        # a failed compile fails the build, loudly
        runs.append(run)
    assert runs[0] == runs[1]


def test_the_dockerfile_run_line_builds_the_library_under_its_hashed_name(
        tmp_path, unchosen_env, fresh_python):
    """The RUN line of the Dockerfile, executed here with its folder moved
    to a temporary one: the library lands there under its hashed name,
    nothing half-written remains, the folder lets `docker run -u` users in,
    and a later process loads it without compiling again."""
    run = _kernel_run(_dockerfile_instructions(os.path.join(REPO, "docker", "Dockerfile")))
    folder = re.search(r"RACNN_EXT_DIR=(\S+)", run).group(1)
    ext = str(tmp_path / "racnn-ext")
    command = run[len("RUN "):].replace(folder, ext)
    res = subprocess.run(["sh", "-c", command], cwd=REPO, env=unchosen_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    name = cresize.library_name(shutil.which("gcc"))
    assert re.fullmatch(r"resize-[0-9a-f]{16}\.so", name)
    assert os.listdir(ext) == [name]                          # no *.partial left behind
    lib_path = os.path.join(ext, name)
    assert os.stat(ext).st_mode & 0o1777 == 0o1777           # any uid may add a library
    assert os.stat(lib_path).st_mode & 0o555 == 0o555
    before = os.stat(lib_path)
    res = fresh_python("from racnn.resize import compiled, degrade; lib = compiled.load(); "
                       "print(lib._name, lib.racnn_resize_path(), degrade.resize_engine())",
                       {"RACNN_EXT_DIR": ext, "RACNN_RESIZE": "c"})
    assert res.returncode == 0, res.stderr
    path, _, engine = res.stdout.split()
    assert path == lib_path and engine == "c"
    after = os.stat(lib_path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert os.listdir(ext) == [name]
