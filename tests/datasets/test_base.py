"""racnn.datasets.base: ``load(format, root, split)`` and its errors, and train
and test drawn from one split (``derive_split``, --split-from)."""
import collections
import os

import pytest

from racnn import datasets
from racnn.datasets import synthetic
from racnn.errors import RacnnError


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


# the experiment on such a tree: tests/workflows/test_a_folder_of_photos.py
