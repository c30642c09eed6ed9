"""The environment itself: Debian's BVLC Caffe 1.0, OpenBLAS, a real
`caffe train` run with snapshot and resume, and the Dockerfiles (pinned,
built from the repository root, compiling the resize kernel into the image).
Runs inside the environment."""
import os
import re
import shutil
import subprocess
import sys

import lmdb
import numpy as np
import pytest

import caffe
from caffe.proto import caffe_pb2

from racnn.resize import compiled as cresize
from racnn.paths import REPO


def test_inside_the_provisioned_environment():
    assert os.path.isfile("/etc/racnn-caffe-env"), \
        "tests must run inside the Caffe environment: use `make test` or docker/run"
    assert sys.version_info[:2] == (3, 9)


def test_caffe_is_debians_pycaffe_version_1_0():
    assert caffe.__file__.startswith("/usr/lib/python3/dist-packages/caffe/") or \
        caffe.__file__.startswith("/opt/caffe-cuda/"), caffe.__file__
    assert caffe.__version__ == "1.0.0"
    out = subprocess.run(["caffe", "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True).stdout
    # gflags names the program after its file: Debian's prints "caffe version
    # 1.0.0", the CUDA build's wrapper execs caffe.bin ("caffe.bin version 1.0.0")
    assert re.search(r"^caffe(\.bin)? version 1\.0\.0$", out, re.M), out


def _resolved(library, soname_re):
    """The file a library linked by ``library`` resolves to (``ldd``)."""
    out = subprocess.run(["ldd", library], stdout=subprocess.PIPE,
                         universal_newlines=True, check=True).stdout
    m = re.search(soname_re + r" => (\S+)", out)
    assert m, "%s does not link %s:\n%s" % (library, soname_re, out)
    return os.path.realpath(m.group(1))


def test_blas_is_openblas_not_the_reference_one():
    # libcaffe through the extension module's own link map, then its BLAS.
    libcaffe = _resolved(caffe._caffe.__file__, r"libcaffe\.so\S*")
    blas = _resolved(libcaffe, r"libblas\.so\.3")
    assert "openblas" in blas, "libblas.so.3 resolves to %s, not OpenBLAS" % blas


SOLVER = """net: "{net}"
base_lr: 0.05
momentum: 0.9
lr_policy: "fixed"
display: 10
max_iter: {max_iter}
snapshot: {snapshot}
snapshot_prefix: "{prefix}"
solver_mode: CPU
random_seed: 1
"""

NET = """name: "envtest"
layer {{ name: "data" type: "Data" top: "data" top: "label"
  data_param {{ source: "{db}" batch_size: 16 backend: LMDB }}
  transform_param {{ scale: 0.00390625 }} }}
layer {{ name: "ip1" type: "InnerProduct" bottom: "data" top: "ip1"
  inner_product_param {{ num_output: 2 weight_filler {{ type: "xavier" }} }} }}
layer {{ name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" top: "loss" }}
"""


def _write_two_class_db(path, n=64, seed=0):
    """Two linearly separable classes: bright top half vs bright bottom half."""
    rng = np.random.RandomState(seed)
    env = lmdb.open(path, map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i in range(n):
            label = i % 2
            img = rng.randint(0, 60, size=(3, 8, 8)).astype(np.uint8)
            if label:
                img[:, :4] += 150
            else:
                img[:, 4:] += 150
            datum = caffe.io.array_to_datum(img, label)
            txn.put(b"%08d" % i, datum.SerializeToString())
    env.close()


def _caffe(*args, cwd):
    env = dict(os.environ, GLOG_minloglevel="0", GLOG_logtostderr="1")
    return subprocess.run(["caffe"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, cwd=str(cwd), env=env)


def _losses(log):
    return [float(x) for x in re.findall(r"Iteration \d+ .*loss = ([0-9.e+-]+)", log)]


def test_caffe_train_cli_learns_snapshots_and_resumes(tmp_path):
    db = str(tmp_path / "db")
    _write_two_class_db(db)
    net = tmp_path / "net.prototxt"
    net.write_text(NET.format(db=db))
    prefix = str(tmp_path / "snap")

    def solver(max_iter):
        path = tmp_path / ("solver_%d.prototxt" % max_iter)
        path.write_text(SOLVER.format(net=net, max_iter=max_iter, snapshot=40, prefix=prefix))
        return str(path)

    run = _caffe("train", "--solver", solver(40), cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    losses = _losses(run.stdout)
    assert len(losses) >= 4, run.stdout[-3000:]
    assert losses[-1] < 0.5 * losses[0], losses
    assert os.path.isfile(prefix + "_iter_40.caffemodel")
    assert os.path.isfile(prefix + "_iter_40.solverstate")

    resumed = _caffe("train", "--solver", solver(60),
                     "--snapshot", prefix + "_iter_40.solverstate", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert "Resuming from " + prefix + "_iter_40.solverstate" in resumed.stdout
    iters = [int(x) for x in re.findall(r"Iteration (\d+)", resumed.stdout)]
    assert min(iters) >= 40, iters          # no iteration before 40 runs again
    assert os.path.isfile(prefix + "_iter_60.caffemodel")
    state = caffe_pb2.SolverState()
    with open(prefix + "_iter_60.solverstate", "rb") as fh:
        state.ParseFromString(fh.read())
    assert state.iter == 60


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
        assert args["CAFFE_DEBIAN_VERSION"] == "1.0.0+git20180821.99bd997-8"
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
    # image built from it: tests/test_docker_image.py
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


def test_provisioned_packages_match_the_provision_script():
    script = open(os.path.join(REPO, "docker", "provision.sh")).read()
    wanted = set(re.findall(r"\b(python3-[a-z0-9]+|caffe|libopenblas0-pthread)\b", script))
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Status}\n"],
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    installed = {l.split()[0] for l in out.splitlines() if l.endswith("installed")}
    missing = sorted(wanted - installed)
    assert not missing, "provision.sh asks for packages that are not installed: %s" % missing
