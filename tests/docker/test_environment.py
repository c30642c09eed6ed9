"""The environment itself (docker/provision.sh): Debian's BVLC Caffe 1.0,
OpenBLAS, a real `caffe train` run with snapshot and resume, the packages
the script asks for.  Runs inside the environment."""
import os
import re
import subprocess
import sys

import lmdb
import numpy as np

import caffe
from caffe.proto import caffe_pb2

from racnn.paths import REPO
from tests.support.versions import CAFFE_VERSION


def test_inside_the_provisioned_environment():
    assert os.path.isfile("/etc/racnn-caffe-env"), \
        "tests must run inside the Caffe environment: use `make test` or docker/run"
    assert sys.version_info[:2] == (3, 9)


def test_caffe_is_debians_pycaffe_version_1_0():
    assert caffe.__file__.startswith("/usr/lib/python3/dist-packages/caffe/") or \
        caffe.__file__.startswith("/opt/caffe-cuda/"), caffe.__file__
    assert caffe.__version__ == CAFFE_VERSION
    out = subprocess.run(["caffe", "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True).stdout
    # gflags names the program after its file: Debian's prints "caffe version
    # 1.0.0", the CUDA build's wrapper execs caffe.bin ("caffe.bin version 1.0.0")
    assert re.search(r"^caffe(\.bin)? version %s$" % re.escape(CAFFE_VERSION), out, re.M), out


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


def test_provisioned_packages_match_the_provision_script():
    script = open(os.path.join(REPO, "docker", "provision.sh")).read()
    wanted = set(re.findall(r"\b(python3-[a-z0-9]+|caffe|libopenblas0-pthread)\b", script))
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Status}\n"],
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    installed = {l.split()[0] for l in out.splitlines() if l.endswith("installed")}
    missing = sorted(wanted - installed)
    assert not missing, "provision.sh asks for packages that are not installed: %s" % missing
