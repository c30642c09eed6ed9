"""Smoke subsets (48 training / 24 test images) of a dataset with more
classes than test images keep the same classes in both splits, every kept
class with test images, instead of 24 of 50 classes with test images and a
confusion matrix of empty rows."""
import collections
import os

import numpy as np
from PIL import Image

from racnn.db.classification import ensure_classification_db, subset_classes
from racnn.db.lmdbio import read_datums


def test_subset_classes_are_seeded_and_shared():
    assert subset_classes(50, 24, 1701) == subset_classes(50, 24, 1701)
    assert len(subset_classes(50, 24, 1701)) == 24
    assert subset_classes(50, 24, 1701) != subset_classes(50, 24, 7)
    assert subset_classes(10, 24, 1701) is None           # fewer classes than images: all


def test_train_and_test_subsets_cover_the_same_classes(tmp_path):
    root = str(tmp_path / "many")                  # root/<split>/<class>/<image>, 30 classes
    rng = np.random.RandomState(0)
    for split, n in (("train", 3), ("test", 2)):
        for c in range(30):
            folder = os.path.join(root, split, "class%02d" % c)
            os.makedirs(folder)
            for i in range(n):
                Image.fromarray(rng.randint(0, 255, (24, 24, 3), np.uint8)).save(
                    os.path.join(folder, "%d.png" % i))
    labels = {}
    for split, limit in (("train", 48), ("test", 24)):
        path = str(tmp_path / split)
        m = ensure_classification_db("folder", root, split, path, res=8, size=24, limit=limit,
                                     seed=3, class_count=24)
        labels[split] = collections.Counter(int(label) for _, label, _ in read_datums(path)[1])
        assert m["subset_classes"] == subset_classes(30, 24, 3) and m["count"] == limit
    assert set(labels["train"]) == set(labels["test"]) == set(subset_classes(30, 24, 3))
    assert set(labels["test"].values()) == {1} and set(labels["train"].values()) == {2}
    assert os.path.isfile(os.path.join(str(tmp_path / "test"), "manifest.json"))
