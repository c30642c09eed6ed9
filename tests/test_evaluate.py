"""Exact evaluation against Caffe itself: the per-class output of Caffe's own
Accuracy layer over the same LMDB (imbalanced classes, one class absent),
--from-scores equality, and bad input."""
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import caffe
import _evalkit as kit
from _pictures import check_png
from racnn.eval import cli, metrics
from racnn.eval import evaluate as ev
from racnn.errors import RacnnError, RacnnWarning

COUNTS = [15, 9, 2, 0, 11]          # imbalanced; class 3 has no test image
N = sum(COUNTS)                     # 37 = 4 x 8 + 5: a partial last batch


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("eval")
    images, labels = kit.colour_images(COUNTS)
    db = kit.write_db(str(d / "test_db"), images, labels)
    tv = kit.tiny_train_val(str(d / "train_val.prototxt"), db, batch=N)
    deploy = kit.tiny_deploy(str(d / "deploy.prototxt"), batch=8)
    weights = kit.hand_weights(deploy, str(d / "tiny_iter_100.caffemodel"))
    return dict(dir=d, db=db, tv=tv, deploy=deploy, weights=weights, labels=labels)


@pytest.fixture(scope="module")
def caffe_reference(setup):
    """One TEST forward of the train_val net: its Data layer reads all N
    images in one batch, Caffe's Accuracy layer gives per-class accuracy."""
    caffe.set_mode_cpu()
    net = caffe.Net(setup["tv"], caffe.TEST, weights=setup["weights"])
    net.forward()
    return dict(accuracy=float(net.blobs["accuracy"].data),
                per_class=net.blobs["per_class"].data.copy(),
                prob=net.blobs["prob"].data.reshape(N, -1).copy(),
                label=net.blobs["label"].data.astype(int).copy())


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


def test_metrics_rules():
    scores = np.array([[0.5, 0.5, 0.0], [0.1, 0.7, 0.2], [0.6, 0.3, 0.1], [0.2, 0.3, 0.5]])
    labels = np.array([0, 1, 1, 0])
    m = metrics.metrics_from_scores(scores, labels, class_names=["a", "b", "c"], top_k=2)
    # a tie with another class is not a hit (Caffe's Accuracy layer rule)
    assert [r["correct"] for r in m["per_class"]] == [0, 1, 0]
    assert m["per_class"][0]["accuracy"] == 0 and m["per_class"][1]["accuracy"] == 0.5
    assert m["absent_classes"] == [2] and m["mean_class_accuracy"] == 0.25
    assert m["top2_accuracy"] == 0.75      # row 3 has two classes above the true one
    assert m["confusion"].tolist() == [[1, 0, 1], [1, 1, 0], [0, 0, 0]]
    with pytest.raises(RacnnError, match="labels range"):
        metrics.metrics_from_scores(scores, np.array([0, 1, 3, 0]))


def run_tool(*args):
    return subprocess.run([sys.executable, "tools/eval_per_class.py"] + list(args),
                          capture_output=True, text=True, cwd=kit.REPO)


def test_tool_and_from_scores(setup, caffe_reference, tmp_path):
    out = str(tmp_path / "eval")
    cli.main(["--model", setup["deploy"], "--weights", setup["weights"],
              "--lmdb", setup["db"], "--train-val", setup["tv"], "--out", out, "--quiet"])
    for f in ("scores.npy", "labels.npy", "metrics.json", "per_class.csv"):
        assert os.path.getsize(os.path.join(out, f)) > 0
    check_png(os.path.join(out, "confusion.png"), 150, 150)
    live = json.load(open(os.path.join(out, "metrics.json")))
    assert live["iteration"] == 100 and live["num_images"] == N and live["num_classes"] == 5
    assert live["overall_accuracy"] == pytest.approx(caffe_reference["accuracy"], abs=1e-6)
    csv_rows = open(os.path.join(out, "per_class.csv")).read().splitlines()
    assert csv_rows[0] == "class,name,images,correct,accuracy"
    assert csv_rows[4].startswith("3,grey,0,0,") and csv_rows[4].endswith(",")

    again = str(tmp_path / "again")
    r = run_tool("--from-scores", out, "--out", again)
    assert r.returncode == 0, r.stderr
    assert "mean class accuracy" in r.stdout and "without test images" in r.stdout
    re_m = json.load(open(os.path.join(again, "metrics.json")))
    for k in metrics.SUMMARY_KEYS + ("iteration", "class_names"):
        assert re_m[k] == live[k], k
    assert open(os.path.join(again, "per_class.csv")).read() == \
        open(os.path.join(out, "per_class.csv")).read()


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


def test_run_folder_all_snapshots(tmp_path):
    run = kit.make_run(tmp_path, "synthetic-tiny-r16-e2e-paper", {"dataset": "synthetic"})
    r = run_tool(run, "--all-snapshots")
    assert r.returncode == 0, r.stderr
    out = os.path.join(run, "cnn", "eval")
    rows = open(os.path.join(out, "accuracy_vs_iteration.csv")).read().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["10", "20", "30"]
    top = json.load(open(os.path.join(out, "metrics.json")))
    sub = json.load(open(os.path.join(out, "iter_30", "metrics.json")))
    assert top["iteration"] == 30 and top == sub
    assert top["num_images"] == 24 and top["transform"]["crop_size"] == 16
    check_png(os.path.join(out, "accuracy_vs_iteration.png"))
    # the mean class accuracy in the CSV is the one of each snapshot's folder
    m20 = json.load(open(os.path.join(out, "iter_20", "metrics.json")))
    assert float(rows[2].split(",")[1]) == pytest.approx(m20["mean_class_accuracy"], abs=1e-6)


NO_CAFFE = """
import builtins, runpy, sys
real = builtins.__import__
def guarded(name, *a, **k):
    if name == "caffe" or name.startswith("caffe."):
        raise ImportError("caffe is blocked in this test")
    return real(name, *a, **k)
builtins.__import__ = guarded
sys.argv = ["eval_per_class.py", "--from-scores", sys.argv[1], "--out", sys.argv[2], "--quiet"]
runpy.run_module("racnn.eval", run_name="__main__")
"""


def test_from_scores_needs_no_caffe(setup, tmp_path):
    out = str(tmp_path / "live")
    r = run_tool("--model", setup["deploy"], "--weights", setup["weights"], "--lmdb",
                 setup["db"], "--train-val", setup["tv"], "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-c", NO_CAFFE, out, str(tmp_path / "re")],
                       capture_output=True, text=True, cwd=kit.REPO)
    assert r.returncode == 0, r.stderr
    assert json.load(open(str(tmp_path / "re" / "metrics.json")))["mean_class_accuracy"] == \
        json.load(open(os.path.join(out, "metrics.json")))["mean_class_accuracy"]
    bad = run_tool("--from-scores", str(tmp_path))
    assert bad.returncode == 2 and "scores.npy" in bad.stderr


@pytest.mark.parametrize("legacy", [True, False])
def test_mean_file_loads_both_blob_shapes(tmp_path, legacy):
    """A binaryproto mean file, with the legacy num/channels/height/width or
    with ``shape``, loads as its CxHxW array."""
    from caffe.proto import caffe_pb2
    from racnn.eval.transform import _load_mean_file
    mean = np.arange(2 * 3 * 4, dtype=np.float32).reshape(1, 2, 3, 4) / 7
    blob = caffe_pb2.BlobProto()
    if legacy:
        blob.num, blob.channels, blob.height, blob.width = mean.shape
    else:
        blob.shape.dim.extend(mean.shape)
    blob.data.extend(mean.ravel().tolist())
    path = tmp_path / "mean.binaryproto"
    path.write_bytes(blob.SerializeToString())
    np.testing.assert_array_equal(_load_mean_file(str(path)), mean[0])
