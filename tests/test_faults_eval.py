"""Issue 14, evaluation attacks: a diverged model (item 1), a snapshot with
layers the deploy net lacks (item 5), a truncated data.mdb (item 14).  Each
runs the real tool in a process of its own and checks the message, the exit
status and that no evaluation folder was written."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import caffe
from caffe import layers as L
import _evalkit as kit

COUNTS = [4, 3, 2, 3, 2]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("faults_eval")
    images, labels = kit.colour_images(COUNTS, seed=7)
    db = kit.write_db(str(d / "test_db"), images, labels)
    deploy = kit.tiny_deploy(str(d / "deploy.prototxt"), batch=4)
    weights = kit.hand_weights(deploy, str(d / "tiny_iter_10.caffemodel"))
    return dict(dir=d, db=db, deploy=deploy, weights=weights)


def run_tool(*args):
    return subprocess.run([sys.executable, "tools/eval_per_class.py"] + list(args),
                          capture_output=True, text=True, cwd=kit.REPO, timeout=300)


def test_item01_nan_classifier_is_an_error_not_100_percent(setup, tmp_path):
    caffe.set_mode_cpu()
    net = caffe.Net(setup["deploy"], caffe.TEST, weights=setup["weights"])
    net.params["fc_cls"][0].data[...] = np.nan                  # a diverged classifier
    nan_model = str(tmp_path / "diverged_iter_20.caffemodel")
    net.save(nan_model)
    out = str(tmp_path / "eval")
    r = run_tool("--model", setup["deploy"], "--weights", nan_model, "--lmdb", setup["db"],
                 "--out", out)
    n = sum(COUNTS)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "%d of %d images have non-finite scores" % (n, n) in r.stderr
    assert nan_model in r.stderr and "Traceback" not in r.stderr
    assert "100.00" not in r.stdout and not os.path.exists(out)

    # --from-scores on all-NaN scores (saved by an older version) refuses too
    saved = tmp_path / "saved"
    saved.mkdir()
    np.save(str(saved / "scores.npy"), np.full((n, 5), np.nan, np.float32))
    np.save(str(saved / "labels.npy"), np.arange(n) % 5)
    (saved / "metrics.json").write_text(json.dumps({"snapshot": nan_model}))
    r = run_tool("--from-scores", str(saved), "--out", str(tmp_path / "re"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "%d of %d images have non-finite scores" % (n, n) in r.stderr
    assert str(saved / "scores.npy") in r.stderr and nan_model in r.stderr
    assert not os.path.exists(str(tmp_path / "re"))


def _sr_deploy(path, batch=4, crop=16):
    """The tiny net with an SR-like front (sconv1) before conv1: a p-RACNN
    shaped net whose snapshot has a layer the plain deploy lacks."""
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[batch, 3, crop, crop]))
    n.sconv1 = L.Convolution(n.data, num_output=3, kernel_size=1)
    n.conv1 = L.Convolution(n.sconv1, num_output=3, kernel_size=1)
    n.pool1 = L.Pooling(n.conv1, pool=caffe.params.Pooling.AVE, global_pooling=True)
    n.fc_cls = L.InnerProduct(n.pool1, num_output=5)
    n.prob = L.Softmax(n.fc_cls)
    with open(path, "w") as fh:
        fh.write(str(n.to_proto()))
    return path


def test_item05_unused_snapshot_layers_refused_unless_allowed(setup, tmp_path):
    caffe.set_mode_cpu()
    sr_deploy = _sr_deploy(str(tmp_path / "racnn_deploy.prototxt"))
    net = caffe.Net(sr_deploy, caffe.TEST)
    plain = caffe.Net(setup["deploy"], caffe.TEST, weights=setup["weights"])
    for name in ("conv1", "fc_cls"):
        for dst, src in zip(net.params[name], plain.params[name]):
            dst.data[...] = src.data
    net.params["sconv1"][0].data[...] = np.eye(3)[:, :, None, None]
    net.params["sconv1"][1].data[...] = 0
    snap = str(tmp_path / "racnn_p_iter_30.caffemodel")
    net.save(snap)
    out = str(tmp_path / "eval")
    r = run_tool("--model", setup["deploy"], "--weights", snap, "--lmdb", setup["db"],
                 "--out", out)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "layers that %s lacks: sconv1" % setup["deploy"] in r.stderr
    assert "--allow-unused" in r.stderr and "Traceback" not in r.stderr
    assert not os.path.exists(out)
    r = run_tool("--model", setup["deploy"], "--weights", snap, "--lmdb", setup["db"],
                 "--out", out, "--allow-unused", "--quiet")
    assert r.returncode == 0, r.stderr
    assert json.load(open(os.path.join(out, "metrics.json")))["unused_layers"] == ["sconv1"]


def test_item14_truncated_data_mdb_is_named_not_a_bus_error(setup, tmp_path):
    import shutil
    db = str(tmp_path / "cut_db")
    shutil.copytree(setup["db"], db)
    data = os.path.join(db, "data.mdb")
    full = os.path.getsize(data)
    with open(data, "r+b") as fh:
        fh.truncate(full // 2)                 # a copy cut short
    out = str(tmp_path / "eval")
    r = run_tool("--model", setup["deploy"], "--weights", setup["weights"], "--lmdb", db,
                 "--out", out)
    assert r.returncode == 2, (r.returncode, r.stderr)          # not 135 / -SIGBUS
    assert "%s is truncated (%d bytes, its LMDB header says %d)" % (data, full // 2, full) \
        in r.stderr
    assert "Traceback" not in r.stderr and not os.path.exists(out)
    with open(data, "r+b") as fh:
        fh.truncate(100)                       # not even a header
    r = run_tool("--model", setup["deploy"], "--weights", setup["weights"], "--lmdb", db,
                 "--out", out)
    assert r.returncode == 2 and "is not an LMDB file (100 bytes" in r.stderr
