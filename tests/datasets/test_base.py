"""racnn.datasets.base: ``load(format, root, split)`` and its errors, and train
and test drawn from one split (``derive_split``, --split-from)."""
import collections
import json
import os
import subprocess
import sys

import pytest

from racnn import datasets
from racnn.datasets import synthetic
from racnn.errors import RacnnError
from racnn.paths import REPO


def test_unknown_format_and_missing_root(tmp_path):
    with pytest.raises(RacnnError, match="unknown dataset format"):
        datasets.load("imagenet", str(tmp_path), "train")
    with pytest.raises(RacnnError, match="does not exist"):
        datasets.load("cub", str(tmp_path / "nope"), "train")


# ---------- train and test drawn from one split
# A plain folder-per-class tree (no split lists, no train/test folders):
# train and test drawn from all of it, stratified by class and seeded
# (racnn.datasets.base.derive_split; tools/experiment.py --split-from all
# --test-fraction F), instead of an error pointing at an option that did not
# exist.
@pytest.fixture
def tree(tmp_path):
    """A folder per class, uneven class sizes, nothing saying which is test."""
    root = tmp_path / "photos"
    made = tmp_path / "made"
    synthetic.generate(str(made), num_classes=3, train_per_class=7, test_per_class=3, seed=0)
    for n, cls in enumerate(sorted(d for d in os.listdir(str(made)) if (made / d).is_dir())):
        (root / cls).mkdir(parents=True)
        for i, f in enumerate(sorted(os.listdir(str(made / cls)))):
            if i < 4 + 3 * n:            # 4, 7, 10 images
                os.link(str(made / cls / f), str(root / cls / ("img%02d.jpg" % i)))
    return str(root)


def test_the_error_names_the_option_that_exists(tree):
    with pytest.raises(RacnnError, match=r"--split-from all --test-fraction 0.3"):
        datasets.load("folder", tree, "train")


def test_train_and_test_are_stratified_disjoint_and_seeded(tree):
    whole = datasets.load("folder", tree, "all")
    train = datasets.load("folder", tree, "train", split_from="all", test_fraction=0.3, seed=5)
    test = datasets.load("folder", tree, "test", split_from="all", test_fraction=0.3, seed=5)
    per = lambda ds: collections.Counter(s.label for s in ds.samples)  # noqa: E731
    assert per(test) == {0: 1, 1: 2, 2: 3} and per(train) == {0: 3, 1: 5, 2: 7}
    assert not {s.path for s in train.samples} & {s.path for s in test.samples}
    assert {s.path for s in train.samples} | {s.path for s in test.samples} == \
        {s.path for s in whole.samples}
    again = datasets.load("folder", tree, "test", split_from="all", test_fraction=0.3, seed=5)
    other = datasets.load("folder", tree, "test", split_from="all", test_fraction=0.3, seed=6)
    assert [s.path for s in again.samples] == [s.path for s in test.samples]
    assert [s.path for s in other.samples] != [s.path for s in test.samples]
    assert test.derived_from == {"split_from": "all", "test_fraction": 0.3, "seed": 5}
    with pytest.raises(RacnnError, match="test_fraction must be between 0 and 1"):
        datasets.load("folder", tree, "test", split_from="all", test_fraction=1.5)


def test_an_experiment_on_a_plain_tree(tree, tmp_path):
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    r = subprocess.run([sys.executable, "tools/experiment.py", "mine", "tiny", "--format",
                        "folder", "--data-root", tree, "--split-from", "all", "--test-fraction",
                        "0.3", "--seed", "5", "--smoke", "--variants", "cnn",
                        "--backbone-weights", "none", "--res", "12"],
                       cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # (a seed other than the default is part of the run's name)
    run = tmp_path / "runs" / "mine-tiny-r12-e2e-paper-seed5-bwnone-fromall30-smoke"
    cfg = json.loads((run / "config.json").read_text())
    test_db = cfg["paths"]["test_db"]
    assert "mine-sub48x24-fromall30" in test_db
    manifest = json.loads(open(os.path.join(test_db, "manifest.json")).read())
    assert manifest["derived_from"] == {"split_from": "all", "test_fraction": 0.3, "seed": 5}
    assert manifest["count"] == 6 and manifest["num_classes"] == 3
    metrics = json.loads((run / "cnn" / "eval" / "metrics.json").read_text())
    assert metrics["num_classes_present"] == 3
