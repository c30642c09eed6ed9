"""The Oxford Flowers 102 adapter on the real fixture (../shared/data): the
paper's splits, classes.txt, and paths made from image ids only."""
import os
import shutil

import numpy as np
import pytest

from racnn import datasets
from racnn.errors import RacnnError


def test_flowers_fixture(shared):
    import scipy.io
    root = os.path.join(shared, "data", "flowers_mini")
    setid = scipy.io.loadmat(os.path.join(root, "setid.mat"))
    labels = scipy.io.loadmat(os.path.join(root, "imagelabels.mat"))["labels"].ravel()
    train = datasets.load("flowers", root, "train")
    test = datasets.load("flowers", root, "test")
    # the paper trains on trnid + valid
    want = list(setid["trnid"].ravel()) + list(setid["valid"].ravel())
    assert [int(s.id) for s in train.samples] == want
    assert [int(s.id) for s in test.samples] == list(setid["tstid"].ravel())
    assert len(datasets.load("flowers", root, "val")) == setid["valid"].size
    assert train.num_classes == 102
    for s in train.samples + test.samples:
        assert s.label == labels[int(s.id) - 1] - 1 and s.box is None
        assert os.path.basename(s.path) == "image_%05d.jpg" % int(s.id)
    assert train.label_range() == (0, 4)
    # use_boxes is accepted (and ignored: no boxes) like cars' and cub's
    assert datasets.load("flowers", root, "test", use_boxes=False).samples == test.samples


def test_flowers_classes_txt(shared, tmp_path):
    """An optional classes.txt names the classes; it must have one name per class."""
    src = os.path.join(shared, "data", "flowers_mini")
    for name in ("imagelabels.mat", "setid.mat"):
        shutil.copy(os.path.join(src, name), str(tmp_path))
    names = ["flower %d" % i for i in range(102)]
    (tmp_path / "classes.txt").write_text("".join(n + "\n" for n in names))
    assert datasets.load("flowers", str(tmp_path), "test", check_files=False).class_names == names
    (tmp_path / "classes.txt").write_text("".join(n + "\n" for n in names[:-1]))
    with pytest.raises(RacnnError, match=r"classes\.txt has 101 names but .*imagelabels\.mat "
                                         r"has 102 classes"):
        datasets.load("flowers", str(tmp_path), "test", check_files=False)


def test_image_paths_come_from_image_ids_only(tmp_path):
    """Flowers' files hold image ids, never paths: every path is
    root/jpg/image_NNNNN.jpg, inside the dataset."""
    import scipy.io
    root = tmp_path / "flowers"
    root.mkdir()
    scipy.io.savemat(str(root / "imagelabels.mat"), {"labels": np.array([[1, 2, 1]])})
    scipy.io.savemat(str(root / "setid.mat"), {"trnid": np.array([[1, 2]]),
                                               "valid": np.array([[3]]),
                                               "tstid": np.array([[3]])})
    ds = datasets.load("flowers", str(root), "train", check_files=False)
    for s in ds.samples:
        assert os.path.dirname(s.path) == os.path.join(str(root), "jpg")
