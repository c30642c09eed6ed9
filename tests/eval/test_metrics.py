"""racnn.eval.metrics: the paper's metric from scores (Caffe's tie rule,
absent classes, top-k), and a diverged model is an error, not 100 % (a case
of issue 14, item 1: the real tool in a process of its own)."""
import json
import os

import caffe
import numpy as np
import pytest

from racnn.eval import metrics
from racnn.errors import RacnnError
from tests.support import evalkit as kit
from tests.support.commands import eval_per_class as run_tool


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


def test_a_diverged_model_is_an_error_not_100_percent(small_setup, tmp_path):
    setup = small_setup
    caffe.set_mode_cpu()
    net = caffe.Net(setup["deploy"], caffe.TEST, weights=setup["weights"])
    net.params["fc_cls"][0].data[...] = np.nan                  # a diverged classifier
    nan_model = str(tmp_path / "diverged_iter_20.caffemodel")
    net.save(nan_model)
    out = str(tmp_path / "eval")
    r = run_tool("--model", setup["deploy"], "--weights", nan_model, "--lmdb", setup["db"],
                 "--out", out)
    n = sum(kit.SMALL)
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
