"""Stage-1/stage-2 solvers: the release's numbers (docs/METHOD.md, written here),
misspelt fields fail, written files run in real Caffe (pycaffe and the
`caffe` binary, with snapshot + resume), and frozen training leaves the
backbone unchanged while end-to-end training changes it."""
import os
import subprocess

import caffe
import lmdb
import numpy as np
import pytest
from caffe.proto import caffe_pb2
from google.protobuf import text_format

from racnn.errors import RacnnError
from racnn.nets import build_net, write_net
from racnn.nets.solvers import solver_text, stage1_solver, stage2_solver, write_solver

caffe.set_mode_cpu()


def test_stage1_defaults_are_the_release():
    s = stage1_solver("net.prototxt", "runs/x/snap")
    assert s.base_lr == pytest.approx(2e-9)
    assert s.momentum == pytest.approx(0.9) and s.weight_decay == 0
    assert s.lr_policy == "multistep" and s.gamma == pytest.approx(0.5)
    assert list(s.stepvalue) == [200000, 700000, 1200000]
    assert s.type == "SGD" and s.net == "net.prototxt" and s.snapshot_prefix == "runs/x/snap"
    assert s.solver_mode == caffe_pb2.SolverParameter.CPU


def test_stage2_defaults_are_the_release():
    s = stage2_solver("net.prototxt", "runs/x/snap")
    assert s.base_lr == pytest.approx(1e-6) and s.momentum == pytest.approx(0.95)
    assert s.weight_decay == pytest.approx(5e-4)
    assert s.lr_policy == "multistep" and s.gamma == pytest.approx(0.1)
    assert list(s.stepvalue) == [600000] and s.max_iter == 700000
    assert not s.test_iter and not s.HasField("test_interval")    # exact evaluation is outside
    t = stage2_solver("n", "p", test_iter=100, stepvalue=[10, 20], solver_mode="gpu", display=None)
    assert list(t.test_iter) == [100] and t.test_interval == 5000
    assert list(t.stepvalue) == [10, 20] and t.solver_mode == caffe_pb2.SolverParameter.GPU
    assert not t.HasField("display")


def test_misspelt_or_bad_fields_fail():
    with pytest.raises(RacnnError, match="bad solver setting"):
        stage2_solver("n", "p", base_rl=0.1)
    with pytest.raises(RacnnError, match="bad solver setting"):
        stage1_solver("n", "p", max_iter="many")
    with pytest.raises(RacnnError, match="solver_mode"):
        stage2_solver("n", "p", solver_mode="TPU")


def test_written_solver_is_commented_and_parses(tmp_path):
    s = stage2_solver("prototxt/x.prototxt", "runs/x/snap", base_lr=0.01)
    text = solver_text(s, stage=2, header=["hello"])
    assert text.startswith("# hello\n")
    lines = dict(l.split(":", 1) for l in text.splitlines() if not l.startswith("#"))
    assert lines["momentum"] == " 0.95  # release"
    assert lines["weight_decay"] == " 0.0005  # release"
    assert "overridden (default: 1e-06)" in lines["base_lr"]
    path = write_solver(s, str(tmp_path / "solver.prototxt"), stage=2)
    back = caffe_pb2.SolverParameter()
    text_format.Merge(open(path).read(), back)
    assert back == s
    one, back = stage1_solver("n", "p"), caffe_pb2.SolverParameter()
    text_format.Merge(solver_text(one, stage=1), back)
    assert back == one and "base_lr: 2e-09  # release RSRCNN_solver" in solver_text(one, stage=1)


def _write_image_db(path, count, size, classes, rng):
    env = lmdb.open(path, map_size=1 << 26)
    with env.begin(write=True) as txn:
        for i in range(count):
            img = rng.randint(0, 256, (3, size, size)).astype(np.uint8)
            txn.put(b"%08d" % i, caffe.io.array_to_datum(img, i % classes).SerializeToString())
    env.close()
    return path


@pytest.fixture(scope="module")
def image_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("db")
    return _write_image_db(str(root / "train"), 8, 72, 4, np.random.RandomState(0))


def _train(tmp_path, db, mode, steps=3, **solver_kw):
    proto = build_net("tiny", 4, dataset="toy", racnn=True, mode=mode, mults="paper",
                      train_source=db, test_source=db, batch_size=4)
    net_path = write_net(proto, str(tmp_path / ("%s.prototxt" % mode)), ["test net"])
    kw = dict(base_lr=0.01, max_iter=100, snapshot=0)
    kw.update(solver_kw)
    solver_path = write_solver(stage2_solver(net_path, str(tmp_path / mode), **kw),
                               str(tmp_path / ("%s_solver.prototxt" % mode)), stage=2)
    solver = caffe.get_solver(solver_path)
    before = {k: [b.data.copy() for b in v] for k, v in solver.net.params.items()}
    solver.step(steps)
    changed = {k: any(not np.array_equal(a, b.data) for a, b in zip(before[k], v))
               for k, v in solver.net.params.items()}
    return changed, solver_path


def test_frozen_keeps_the_backbone_and_e2e_changes_it(tmp_path, image_db):
    frozen, _ = _train(tmp_path, image_db, "frozen")
    assert frozen == {"sconv1": True, "sconv2": True, "sconv3": True, "conv1": False,
                      "conv2": False, "conv3": False, "fc6": False, "fc7_toy": True}
    e2e, _ = _train(tmp_path, image_db, "e2e")
    assert all(e2e.values()), e2e


def test_caffe_binary_trains_snapshots_and_resumes(tmp_path, image_db):
    _, solver_path = _train(tmp_path, image_db, "e2e", steps=0, max_iter=2, snapshot=2,
                            display=1)
    env = dict(os.environ, GLOG_minloglevel="0", GLOG_logtostderr="1")
    run = subprocess.run(["caffe", "train", "--solver", solver_path], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, env=env)
    assert run.returncode == 0, run.stdout[-2000:]
    state = str(tmp_path / "e2e_iter_2.solverstate")
    assert os.path.isfile(state) and os.path.isfile(str(tmp_path / "e2e_iter_2.caffemodel"))
    s = caffe_pb2.SolverParameter()
    text_format.Merge(open(solver_path).read(), s)
    s.max_iter = 3
    open(solver_path, "w").write(text_format.MessageToString(s))
    run = subprocess.run(["caffe", "train", "--solver", solver_path, "--snapshot", state],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, env=env)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "Resuming from" in run.stdout
    assert "Iteration 2, lr" in run.stdout and "Iteration 0," not in run.stdout
    assert os.path.isfile(str(tmp_path / "e2e_iter_3.caffemodel"))
