"""The Stanford Cars adapter on the real devkit fixture (../shared/data) and
on layouts the tests write: test labels, class order, boxes, and an
annotation whose path climbs out of the dataset (a case of issue 14, item
15)."""
import os
import shutil

import numpy as np
import pytest

from racnn import datasets
from racnn.errors import RacnnError


def test_cars_devkit_fixture(shared):
    import scipy.io
    root = os.path.join(shared, "data", "cars_devkit")
    train = datasets.load("cars", root, "train", check_files=False)
    test = datasets.load("cars", root, "test", check_files=False)
    assert (len(train), len(test)) == (8144, 8041)        # the paper's splits
    assert train.num_classes == 196 and train.class_names[0] == "AM General Hummer SUV 2000"
    assert train.label_range() == (0, 195) and test.label_range() == (0, 195)
    # first training row: bbox 39 116 569 375, class 14, 00001.jpg (1-based, inclusive)
    s = train.samples[0]
    assert s.path == os.path.join(root, "cars_train", "00001.jpg")
    assert (s.box, s.label, s.id) == ((38, 115, 569, 375), 13, "00001")
    # test labels from test_labels.txt, boxes from cars_test_annos.mat
    with open(os.path.join(root, "test_labels.txt")) as fh:
        want = {line.split()[0]: int(line.split()[1]) - 1 for line in fh if line.strip()}
    assert all(s.label == want[os.path.basename(s.path)] for s in test.samples)
    ann = scipy.io.loadmat(os.path.join(root, "cars_test_annos.mat"))["annotations"][0, 0]
    assert test.samples[0].box == (int(ann["bbox_x1"]) - 1, int(ann["bbox_y1"]) - 1,
                                   int(ann["bbox_x2"]), int(ann["bbox_y2"]))
    # the class names come from cars_meta.mat in its order, never sorted
    meta = scipy.io.loadmat(os.path.join(root, "cars_meta.mat"))["class_names"].ravel()
    assert train.class_names == [str(n[0]) for n in meta]


def test_cars_test_labels_missing(shared, tmp_path):
    """cars_test_annos.mat without cars_test_annos_withlabels.mat or test_labels.txt."""
    src = os.path.join(shared, "data", "cars_devkit")
    for name in ("cars_meta.mat", "cars_test_annos.mat"):
        shutil.copy(os.path.join(src, name), str(tmp_path))
    with pytest.raises(RacnnError, match=r"the test labels are missing: put "
                                         r"cars_test_annos_withlabels\.mat \(or test_labels\.txt\)"):
        datasets.load("cars", str(tmp_path), "test", check_files=False)


def test_cars_official_layout_with_images(shared, tmp_path):
    """devkit/ + cars_test_annos_withlabels.mat + generated images."""
    import cv2
    import scipy.io
    src = os.path.join(shared, "data", "cars_devkit")
    root = tmp_path / "cars"
    (root / "devkit").mkdir(parents=True)
    shutil.copy(os.path.join(src, "cars_meta.mat"), str(root / "devkit"))
    rows = np.zeros((1, 3), dtype=[("bbox_x1", "O"), ("bbox_y1", "O"), ("bbox_x2", "O"),
                                   ("bbox_y2", "O"), ("class", "O"), ("fname", "O")])
    for i, (box, cls) in enumerate([((1, 1, 40, 30), 1), ((5, 6, 60, 50), 196),
                                    ((10, 2, 300, 30), 7)]):
        rows[0, i] = tuple(np.array([[v]], np.uint16) for v in box) + (
            np.array([[cls]], np.uint8), np.array(["%05d.jpg" % (i + 1)]))
    scipy.io.savemat(str(root / "devkit" / "cars_train_annos.mat"), {"annotations": rows})
    scipy.io.savemat(str(root / "cars_test_annos_withlabels.mat"), {"annotations": rows})
    with pytest.raises(RacnnError, match=r"3 of 3 images[\s\S]*cars_test/<fname>\.jpg"):
        datasets.load("cars", str(root), "test")
    (root / "cars_test").mkdir()
    for i in range(3):
        cv2.imwrite(str(root / "cars_test" / ("%05d.jpg" % (i + 1))), np.zeros((60, 80, 3), np.uint8))
    ds = datasets.load("cars", str(root), "test")
    assert [s.label for s in ds.samples] == [0, 195, 6]
    assert ds.samples[0].box == (0, 0, 40, 30)
    # a box wider than the image is clipped when cropping (counted by the builders)
    img, clipped = datasets.read_sample(ds.samples[2])
    assert img.shape == (29, 71, 3) and clipped      # rows 1..29, columns 9..79
    img, clipped = datasets.read_sample(ds.samples[0])
    assert img.shape == (30, 40, 3) and not clipped
    os.remove(str(root / "devkit" / "cars_meta.mat"))
    with pytest.raises(RacnnError, match=r"missing cars_meta\.mat or devkit/cars_meta\.mat"):
        datasets.load("cars", str(root), "test")


def test_an_annotation_path_out_of_the_dataset_is_refused(tmp_path):
    import scipy.io
    root = tmp_path / "cars"
    (root / "devkit").mkdir(parents=True)
    names = np.empty((1, 2), dtype=object)
    names[0, 0], names[0, 1] = np.array(["Car A"]), np.array(["Car B"])
    scipy.io.savemat(str(root / "devkit" / "cars_meta.mat"), {"class_names": names})
    rows = np.zeros((1, 2), dtype=[("bbox_x1", "O"), ("bbox_y1", "O"), ("bbox_x2", "O"),
                                   ("bbox_y2", "O"), ("class", "O"), ("fname", "O")])
    for i, fname in enumerate(["00001.jpg", "../../../etc/hostname"]):
        rows[0, i] = tuple(np.array([[v]], np.uint16) for v in (1, 1, 10, 10)) + (
            np.array([[1]], np.uint8), np.array([fname]))
    scipy.io.savemat(str(root / "devkit" / "cars_train_annos.mat"), {"annotations": rows})
    with pytest.raises(RacnnError) as err:
        datasets.load("cars", str(root), "train", check_files=False)
    msg = str(err.value)
    assert "cars_train_annos.mat, annotation 2: paths must be relative" in msg
    assert "../../../etc/hostname" in msg
