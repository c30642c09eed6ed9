"""The CUB-200-2011 adapter on the real fixture (../shared/data/cub_mini)
and on small layouts the tests write; errors name the file, the line and the
expected layout: a box of nan or inf, a path that climbs out of the dataset
(cases of issue 14, items 12 and 15)."""
import os
import shutil

import pytest

from racnn import datasets
from racnn.errors import RacnnError
from tests.support import builds


def _cub_mini(shared):
    return os.path.join(shared, "data", "cub_mini")


def _read_table(path):
    with open(path) as fh:
        return [line.split() for line in fh if line.strip()]


def test_cub_fixture(shared):
    root = os.path.join(_cub_mini(shared), "CUB_200_2011")
    train = datasets.load("cub", _cub_mini(shared), "train")          # parent folder works too
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
    shutil.copytree(os.path.join(_cub_mini(shared), "CUB_200_2011"), str(root),
                    ignore=shutil.ignore_patterns("images"))
    os.remove(str(root / "bounding_boxes.txt"))
    with pytest.raises(RacnnError, match=r"missing bounding_boxes\.txt[\s\S]*Expected layout"):
        datasets.load("cub", str(root), "train", check_files=False)
    shutil.copy(os.path.join(_cub_mini(shared), "CUB_200_2011", "bounding_boxes.txt"), str(root))
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


# ------------------------------------------------- broken metadata

def _cub_layout(root, image_path="001.Bird/a.png", box="1 2 10 12"):
    """A one-class, two-image CUB-200-2011 layout; image 1 at ``image_path``
    with bounding box line ``box``."""
    builds.flat_png(str(root / "images" / "001.Bird" / "a.png"))
    builds.flat_png(str(root / "images" / "001.Bird" / "b.png"))
    (root / "images.txt").write_text("1 %s\n2 001.Bird/b.png\n" % image_path)
    (root / "image_class_labels.txt").write_text("1 1\n2 1\n")
    (root / "train_test_split.txt").write_text("1 1\n2 1\n")
    (root / "bounding_boxes.txt").write_text("1 %s\n2 0 0 20 20\n" % box)
    (root / "classes.txt").write_text("1 001.Bird\n")
    return str(root)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_box_of_nan_or_inf_names_the_file_and_line(tmp_path, value):
    root = _cub_layout(tmp_path / "cub", box="1 2 %s 12" % value)
    with pytest.raises(RacnnError) as err:
        datasets.load("cub", root, "train")
    assert "bounding_boxes.txt line 1: numbers must be finite" in str(err.value)
    assert value in str(err.value)


def test_build_lmdb_stops_at_a_nan_box_and_writes_nothing(tmp_path):
    root = _cub_layout(tmp_path / "cub", box="nan 2 10 12")
    out = str(tmp_path / "db")
    r = builds.build_lmdb("--dataset", "cub", "--root", root, "--split", "train", "--res", "8",
                   "--size", "16", "--out", out, "--workers", "1")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "bounding_boxes.txt line 1: numbers must be finite" in r.stderr
    assert not os.path.exists(out)


def test_an_images_txt_path_out_of_the_dataset_is_refused(tmp_path):
    root = _cub_layout(tmp_path / "cub", image_path="../../../etc/hostname")
    with pytest.raises(RacnnError) as err:
        datasets.load("cub", root, "train")
    msg = str(err.value)
    assert "images.txt line 1: paths must be relative to" in msg and "../../../etc/hostname" in msg
    root = _cub_layout(tmp_path / "cub_abs", image_path="/etc/hostname")
    with pytest.raises(RacnnError, match="images.txt line 1: paths must be relative"):
        datasets.load("cub", root, "train")
