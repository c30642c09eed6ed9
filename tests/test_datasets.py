"""Dataset adapters on the real fixtures (../shared/data) and on folders
the tests write; errors name the file and the expected layout."""
import os
import shutil

import numpy as np
import pytest

from racnn import datasets
from racnn.errors import RacnnError


def _cub(shared):
    return os.path.join(shared, "data", "cub_mini")


def _read_table(path):
    with open(path) as fh:
        return [line.split() for line in fh if line.strip()]


# ---------------------------------------------------------------- CUB ---

def test_cub_fixture(shared):
    root = os.path.join(_cub(shared), "CUB_200_2011")
    train = datasets.load("cub", _cub(shared), "train")          # parent folder works too
    test = datasets.load("birds", root, "test")
    assert (len(train), len(test)) == (60, 60)
    assert train.num_classes == 10 and train.name == "birds"
    # class order is classes.txt's, labels 0-based
    classes = [row[1] for row in _read_table(os.path.join(root, "classes.txt"))]
    assert train.class_names == classes
    assert train.label_range() == (0, 9) and test.label_range() == (0, 9)
    # every sample agrees with the official metadata files
    images = {r[0]: r[1] for r in _read_table(os.path.join(root, "images.txt"))}
    labels = {r[0]: int(r[1]) for r in _read_table(os.path.join(root, "image_class_labels.txt"))}
    split = {r[0]: r[1] for r in _read_table(os.path.join(root, "train_test_split.txt"))}
    boxes = {r[0]: [float(v) for v in r[1:]]
             for r in _read_table(os.path.join(root, "bounding_boxes.txt"))}
    for ds, flag in ((train, "1"), (test, "0")):
        for s in ds.samples:
            assert split[s.id] == flag
            assert s.path == os.path.join(root, "images", images[s.id])
            assert s.label == labels[s.id] - 1
            assert images[s.id].startswith(ds.class_names[s.label] + "/")
            x, y, w, h = boxes[s.id]
            assert s.box == (round(x), round(y), round(x + w), round(y + h))
    assert {s.id for s in train.samples}.isdisjoint(s.id for s in test.samples)
    # image id 2 of the official files: box 139 30 153 264
    s2 = next(s for s in train.samples + test.samples if s.id == "2")
    assert s2.box == (139, 30, 292, 294)


def test_cub_errors(shared, tmp_path):
    root = tmp_path / "CUB_200_2011"
    shutil.copytree(os.path.join(_cub(shared), "CUB_200_2011"), str(root),
                    ignore=shutil.ignore_patterns("images"))
    os.remove(str(root / "bounding_boxes.txt"))
    with pytest.raises(RacnnError, match=r"missing bounding_boxes\.txt[\s\S]*Expected layout"):
        datasets.load("cub", str(root), "train", check_files=False)
    shutil.copy(os.path.join(_cub(shared), "CUB_200_2011", "bounding_boxes.txt"), str(root))
    # images are required unless check_files=False
    with pytest.raises(RacnnError, match=r"60 of 60 images[\s\S]*images/<class>"):
        datasets.load("cub", str(root), "train")
    assert len(datasets.load("cub", str(root), "train", check_files=False)) == 60
    # a class id outside classes.txt
    labels = root / "image_class_labels.txt"
    labels.write_text(labels.read_text().replace("\n2 1\n", "\n2 11\n"))
    with pytest.raises(RacnnError, match=r"image id 2 has class 11, outside 1\.\.10"):
        datasets.load("cub", str(root), "train", check_files=False)
    labels.write_text(labels.read_text().replace("\n2 11\n", "\n2 x\n"))
    with pytest.raises(RacnnError, match=r"image_class_labels\.txt line 2: cannot parse"):
        datasets.load("cub", str(root), "train", check_files=False)
    with pytest.raises(RacnnError, match="unknown split"):
        datasets.load("cub", str(root), "val", check_files=False)


# ---------------------------------------------------------------- Cars ---

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


# ------------------------------------------------------------- Flowers ---

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


# -------------------------------------------------------------- folder ---

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


# --------------------------------------------------------------- pixels ---

def test_read_image_matches_opencv_and_names_bad_files(shared, tmp_path):
    import cv2
    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    files = [s.path for s in datasets.load("cub", _cub(shared), "test").samples[:10]]
    grey = str(tmp_path / "grey.jpg")
    cv2.imwrite(grey, np.random.RandomState(0).randint(0, 256, (31, 17)).astype(np.uint8))
    png = str(tmp_path / "rgba.png")
    cv2.imwrite(png, np.random.RandomState(1).randint(0, 256, (9, 13, 4)).astype(np.uint8))
    for path in files + [grey, png]:
        want = cv2.imread(path, flags)
        np.testing.assert_array_equal(datasets.read_image(path), want)
        np.testing.assert_array_equal(datasets.read_image(path, rgb=True), want[:, :, ::-1])
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    with pytest.raises(RacnnError, match="cannot decode image .*bad.jpg"):
        datasets.read_image(str(bad))
    with pytest.raises(RacnnError, match="does not exist"):
        datasets.read_image(str(tmp_path / "none.jpg"))


def test_crop_clips_and_rejects_boxes_outside():
    img = np.arange(10 * 20 * 3, dtype=np.uint8).reshape(10, 20, 3)
    out, clipped = datasets.crop(img, (2, 3, 7, 9))
    np.testing.assert_array_equal(out, img[3:9, 2:7])
    assert not clipped
    out, clipped = datasets.crop(img, (-4, 5, 25, 10))
    assert out.shape == (5, 20, 3) and clipped
    with pytest.raises(RacnnError, match="outside the 20x10 image"):
        datasets.crop(img, (30, 0, 40, 5), "x.jpg")


def test_unknown_format_and_missing_root(tmp_path):
    with pytest.raises(RacnnError, match="unknown dataset format"):
        datasets.load("imagenet", str(tmp_path), "train")
    with pytest.raises(RacnnError, match="does not exist"):
        datasets.load("cub", str(tmp_path / "nope"), "train")

