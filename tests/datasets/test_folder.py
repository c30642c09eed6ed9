"""The ``folder`` adapter on trees the tests write: split lists, split
folders, plain trees, class order, and a file listed twice (a case of issue
14, item 6)."""
import os

import numpy as np
import pytest

from racnn import datasets
from racnn.errors import RacnnError
from tests.support import builds


def _write_jpg(path, value=128, shape=(20, 30, 3)):
    import cv2
    os.makedirs(os.path.dirname(path), exist_ok=True)
    cv2.imwrite(path, np.full(shape, value, np.uint8))


def test_folder_split_lists_and_class_order(tmp_path):
    root = str(tmp_path / "shapes")
    names = ["zebra", "apple", "mango"]                 # not sorted: classes.txt decides
    for i, c in enumerate(names):
        for k in range(3):
            _write_jpg(os.path.join(root, c, "train_%d.jpg" % k), 40 * i)
            _write_jpg(os.path.join(root, c, "test_%d.jpg" % k), 40 * i)
    with open(os.path.join(root, "classes.txt"), "w") as fh:
        fh.write("\n".join(names) + "\n")
    with open(os.path.join(root, "train.txt"), "w") as fh:
        fh.write("".join("%s/train_%d.jpg\n" % (c, k) for c in names for k in range(3)))
    with open(os.path.join(root, "test.txt"), "w") as fh:     # Caffe list format: path label
        fh.write("apple/test_0.jpg 1\nzebra/test_1.jpg 0\n")
    train = datasets.load("folder", root, "train")
    assert train.class_names == names and train.name == "shapes"
    assert [s.label for s in train.samples] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    test = datasets.load("folder", root, "test")
    assert [(s.id, s.label) for s in test.samples] == [("apple/test_0.jpg", 1),
                                                       ("zebra/test_1.jpg", 0)]
    with open(os.path.join(root, "test.txt"), "a") as fh:
        fh.write("plum/x.jpg\n")
    with pytest.raises(RacnnError, match="folder 'plum', which is not a class"):
        datasets.load("folder", root, "test", check_files=False)
    with open(os.path.join(root, "test.txt"), "w") as fh:
        fh.write("mango/test_0.jpg 3\n")
    with pytest.raises(RacnnError, match=r"label 3, outside 0\.\.2"):
        datasets.load("folder", root, "test")
    with open(os.path.join(root, "test.txt"), "w") as fh:
        fh.write("../outside.jpg 0\n")
    with pytest.raises(RacnnError, match="must be relative"):
        datasets.load("folder", root, "test")


def test_folder_split_folders_and_plain_tree(tmp_path):
    root = str(tmp_path / "tree")
    for split, classes in (("train", ["b", "a", "c"]), ("test", ["a", "c"])):
        for c in classes:
            _write_jpg(os.path.join(root, split, c, "x.jpg"))
            _write_jpg(os.path.join(root, split, c, "y.png"))
    train = datasets.load("folder", root, "train")
    test = datasets.load("folder", root, "test")
    # sorted union of the class folders of all splits: train and test agree
    assert train.class_names == test.class_names == ["a", "b", "c"]
    assert sorted(set(s.label for s in test.samples)) == [0, 2]
    with pytest.raises(RacnnError, match=r"no split list .*val\.txt[\s\S]*Expected layout"):
        datasets.load("folder", root, "val")
    plain = datasets.load("folder", os.path.join(root, "train"), "all")
    assert plain.class_names == ["a", "b", "c"] and len(plain) == 6
    # use_boxes is accepted (and ignored: no boxes) like cars' and cub's
    assert datasets.load("folder", root, "test", use_boxes=False).samples == test.samples


def test_folder_reads_synthetic_dataset(tmp_path):
    synthetic = pytest.importorskip("racnn.datasets.synthetic")
    root = str(tmp_path / "syn")
    synthetic.generate(root, num_classes=3, train_per_class=2, test_per_class=1, size=32)
    train = datasets.load("folder", root, "train")
    test = datasets.load("synthetic", root, "test")
    assert train.class_names == synthetic.class_names(3) == test.class_names
    assert len(train) == 6 and len(test) == 3
    assert sorted(s.label for s in train.samples) == [0, 0, 1, 1, 2, 2]


def test_a_file_listed_twice_in_a_split_list_is_refused(tmp_path):
    root = tmp_path / "birds"
    for name in ("a/1.png", "a/2.png", "b/3.png"):
        builds.flat_png(str(root / name))
    (root / "train.txt").write_text("a/1.png\nb/3.png\na/2.png\n./a/1.png\n")
    with pytest.raises(RacnnError) as err:
        datasets.load("folder", str(root), "train")
    assert "train.txt line 4: ./a/1.png is listed again (first at line 1)" in str(err.value)
    out = str(tmp_path / "db")
    r = builds.build_lmdb("--dataset", "folder", "--root", str(root), "--split", "train",
                   "--res", "8", "--size", "16", "--out", out, "--workers", "1")
    assert r.returncode == 2 and "listed again" in r.stderr and "Traceback" not in r.stderr
    assert not os.path.exists(out)
