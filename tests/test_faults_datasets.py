"""Issue 14, dataset metadata attacks: an image listed twice in a folder
split list (item 6), a CUB bounding box of nan or inf (item 12), and a path
that climbs out of the dataset with '..' in CUB's images.txt and in Cars'
annotations (item 15).  Each gets a RacnnError naming the file and line,
and the build tool exits 2 with that message and writes nothing."""
import os
import subprocess
import sys

import numpy as np
import pytest

from racnn import datasets
from racnn.errors import RacnnError
from racnn.paths import REPO


def _png(path, value=100, shape=(24, 30, 3)):
    from PIL import Image
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full(shape, value, np.uint8)).save(path)


def build_tool(*args):
    return subprocess.run([sys.executable, "tools/build_lmdb.py"] + list(args),
                          capture_output=True, text=True, cwd=REPO, timeout=300)


def test_item06_duplicate_split_list_line_refused(tmp_path):
    root = tmp_path / "birds"
    for name in ("a/1.png", "a/2.png", "b/3.png"):
        _png(str(root / name))
    (root / "train.txt").write_text("a/1.png\nb/3.png\na/2.png\n./a/1.png\n")
    with pytest.raises(RacnnError) as err:
        datasets.load("folder", str(root), "train")
    assert "train.txt line 4: ./a/1.png is listed again (first at line 1)" in str(err.value)
    out = str(tmp_path / "db")
    r = build_tool("--dataset", "folder", "--root", str(root), "--split", "train",
                   "--res", "8", "--size", "16", "--out", out, "--workers", "1")
    assert r.returncode == 2 and "listed again" in r.stderr and "Traceback" not in r.stderr
    assert not os.path.exists(out)


def _cub(root, image_path="001.Bird/a.png", box="1 2 10 12"):
    """A one-class, two-image CUB-200-2011 layout; image 1 at ``image_path``
    with bounding box line ``box``."""
    _png(str(root / "images" / "001.Bird" / "a.png"))
    _png(str(root / "images" / "001.Bird" / "b.png"))
    (root / "images.txt").write_text("1 %s\n2 001.Bird/b.png\n" % image_path)
    (root / "image_class_labels.txt").write_text("1 1\n2 1\n")
    (root / "train_test_split.txt").write_text("1 1\n2 1\n")
    (root / "bounding_boxes.txt").write_text("1 %s\n2 0 0 20 20\n" % box)
    (root / "classes.txt").write_text("1 001.Bird\n")
    return str(root)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_item12_cub_box_nan_or_inf_names_file_and_line(tmp_path, value):
    root = _cub(tmp_path / "cub", box="1 2 %s 12" % value)
    with pytest.raises(RacnnError) as err:
        datasets.load("cub", root, "train")
    assert "bounding_boxes.txt line 1: numbers must be finite" in str(err.value)
    assert value in str(err.value)


def test_item12_cub_nan_box_through_the_tool(tmp_path):
    root = _cub(tmp_path / "cub", box="nan 2 10 12")
    out = str(tmp_path / "db")
    r = build_tool("--dataset", "cub", "--root", root, "--split", "train", "--res", "8",
                   "--size", "16", "--out", out, "--workers", "1")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "bounding_boxes.txt line 1: numbers must be finite" in r.stderr
    assert not os.path.exists(out)


def test_item15_cub_images_txt_dotdot_refused(tmp_path):
    root = _cub(tmp_path / "cub", image_path="../../../etc/hostname")
    with pytest.raises(RacnnError) as err:
        datasets.load("cub", root, "train")
    msg = str(err.value)
    assert "images.txt line 1: paths must be relative to" in msg and "../../../etc/hostname" in msg
    root = _cub(tmp_path / "cub_abs", image_path="/etc/hostname")
    with pytest.raises(RacnnError, match="images.txt line 1: paths must be relative"):
        datasets.load("cub", root, "train")


def test_item15_cars_annotation_dotdot_refused(tmp_path):
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


def test_item15_flowers_paths_come_from_ids_only(tmp_path):
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
