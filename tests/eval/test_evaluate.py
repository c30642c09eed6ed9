"""Exact evaluation (racnn.eval.evaluate) against Caffe itself: the per-class
output of Caffe's own Accuracy layer over the same LMDB (imbalanced classes,
one class absent), batches, preprocessing, and bad input: a snapshot that
does not fit, layers the deploy net lacks, a truncated data.mdb (cases of
issue 14, items 5 and 14: the real tool in a process of its own, its
message, its exit status, and no evaluation folder written)."""
import json
import os
import warnings

import caffe
from caffe import layers as L
import numpy as np
import pytest

from racnn.eval import evaluate as ev
from racnn.errors import RacnnError, RacnnWarning
from tests.support import evalkit as kit
from tests.support.commands import eval_per_class as run_tool

COUNTS, N = kit.IMBALANCED, sum(kit.IMBALANCED)


@pytest.fixture(scope="module")
def result(setup):
    return ev.evaluate(setup["deploy"], setup["weights"], setup["db"], train_val=setup["tv"])


def test_per_class_matches_caffe_accuracy_layer(result, caffe_reference):
    ref = caffe_reference
    assert list(ref["label"]) == list(result.labels)          # same images, same order
    per = result.metrics["per_class"]
    # the data is discriminative: Caffe finds neither all right nor all wrong
    present = [ref["per_class"][k] for k in range(5) if COUNTS[k]]
    assert min(present) < 1 and max(present) > 0 and len(set(present)) > 2
    for k in range(5):
        assert per[k]["images"] == COUNTS[k]
        if COUNTS[k]:
            assert per[k]["accuracy"] == pytest.approx(ref["per_class"][k], abs=1e-6)
        else:
            assert per[k]["accuracy"] is None and ref["per_class"][k] == 0
    assert result.metrics["overall_accuracy"] == pytest.approx(ref["accuracy"], abs=1e-6)
    assert result.metrics["absent_classes"] == [3]
    assert result.metrics["mean_class_accuracy"] == pytest.approx(np.mean(present), abs=1e-6)
    # identical preprocessing (crop offsets, mean, scale): same softmax scores
    np.testing.assert_allclose(result.scores, ref["prob"], rtol=1e-5, atol=1e-6)


def test_every_image_once_with_partial_batch(setup, result):
    assert result.scores.shape == (N, 5) and len(set(result.keys)) == N
    assert result.info["batch_size"] == 8                       # 37 = 4 x 8 + 5
    other = ev.evaluate(setup["deploy"], setup["weights"], setup["db"],
                        train_val=setup["tv"], batch_size=5)
    np.testing.assert_allclose(other.scores, result.scores, rtol=1e-5, atol=1e-6)


def test_wrong_preprocessing_changes_scores(setup, result):
    """Without the train_val's mean/scale the scores differ: the reference
    comparison above can fail."""
    plain = ev.evaluate(setup["deploy"], setup["weights"], setup["db"])
    assert plain.info["transform"]["scale"] == 1.0
    assert not np.allclose(plain.scores, result.scores, atol=1e-3)


def test_snapshot_not_fitting_names_first_bad_layer(setup, tmp_path):
    other = kit.tiny_deploy(str(tmp_path / "wide.prototxt"), conv_out=4)
    wide = kit.hand_weights(other, str(tmp_path / "wide_iter_1.caffemodel"))
    with pytest.raises(RacnnError, match="conv1"):
        ev.evaluate(setup["deploy"], wide, setup["db"])
    r = run_tool("--model", setup["deploy"], "--weights", wide, "--lmdb", setup["db"],
                 "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "conv1" in r.stderr and "Traceback" not in r.stderr
    assert not os.path.exists(str(tmp_path / "o"))


def test_class_count_mismatch_is_an_error(setup, tmp_path):
    images, labels = kit.colour_images([2, 2, 2, 2, 2, 2, 2], seed=4)
    db = kit.write_db(str(tmp_path / "db7"), images, labels,
                      class_names=["c%d" % i for i in range(7)])
    with pytest.raises(RacnnError, match="num_classes|class"):
        ev.evaluate(setup["deploy"], setup["weights"], db)


def test_missing_manifest_is_a_warning(setup, tmp_path):
    images, labels = kit.colour_images([3, 2, 1, 1, 2], seed=5)
    db = kit.write_db(str(tmp_path / "nomanifest"), images, labels, manifest=False)
    with pytest.warns(RacnnWarning, match="manifest"):
        r = ev.evaluate(setup["deploy"], setup["weights"], db, train_val=setup["tv"])
    assert r.metrics["num_images"] == 9
    # without a manifest, an out-of-range label is still caught
    bad = kit.write_db(str(tmp_path / "badlabel"), images, labels[:-1] + [6], manifest=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RacnnWarning)
        with pytest.raises(RacnnError, match="label 6"):
            ev.evaluate(setup["deploy"], setup["weights"], bad)


# ------------------------------------------------ the small set's faults

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


def test_snapshot_layers_the_deploy_net_lacks_are_refused_unless_allowed(small_setup, tmp_path):
    setup = small_setup
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


def test_a_truncated_data_mdb_is_named_not_a_bus_error(small_setup, tmp_path):
    import shutil
    setup = small_setup
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
