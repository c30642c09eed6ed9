"""racnn.db.classification: dataset -> classification database (degraded
images, balanced limits, seeded order, bad images and boxes, reuse), the
LR images through a JPEG round trip (issue 13, item 7: the release's LR
images were JPEG files, MATLAB's imwrite at quality 75), the resize engine
recorded and used, and the tools that build databases."""
import collections
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from racnn import datasets
from racnn.db import lmdbio as db
from racnn.db import lmdbio, manifest
from racnn.db.classification import (build_classification_db, ensure_classification_db,
                                     present_labels, subset_classes)
from racnn.db.lmdbio import read_datums
from racnn.db.manifest import check_manifest
from racnn.errors import RacnnError
from racnn.paths import REPO
from racnn.resize.degrade import degrade
from tests.support.datums import caffe_read, random_images


def test_build_classification_db_cub(shared, tmp_path):
    ds = datasets.load("cub", os.path.join(shared, "data", "cub_mini"), "test")
    out = str(tmp_path / "cub_test")
    m = build_classification_db(ds, "test", 25, out, size=64, seed=3, limit=20, workers=2)
    assert m["count"] == 20 and m["num_classes"] == 10 and m["class_names"] == ds.class_names
    assert (m["dataset"], m["split"], m["res"], m["size"], m["kernel"]) == (
        "birds", "test", 25, 64, "matlab")
    assert m["source_hash"] == ds.source_hash() and m["clipped_boxes"] == 0
    rows = list(db.iter_datums(out))
    by_id = {s.id: s for s in ds.samples}
    # the limit keeps classes balanced (2 of each of the 10)
    assert sorted(np.bincount([lab for _, lab, _ in rows]).tolist()) == [2] * 10
    for key, label, chw in rows[:4]:
        s = by_id[key.split("_", 1)[1]]
        img, _ = datasets.read_sample(s)
        assert label == s.label
        np.testing.assert_array_equal(chw, degrade(img, 25, 64).transpose(2, 0, 1))
    # a fixed seed fixes the order; another seed changes it
    order = [k for k, _, _ in rows]
    build_classification_db(ds, "test", 25, out, size=64, seed=3, limit=20, workers=1,
                               overwrite=True)
    assert [k for k, _, _ in db.iter_datums(out)] == order
    build_classification_db(ds, "test", 25, out, size=64, seed=4, limit=20, workers=2,
                               overwrite=True)
    assert [k for k, _, _ in db.iter_datums(out)] != order
    data, labels = caffe_read(out, 2, 3, 64)
    first = list(db.iter_datums(out, limit=2))
    np.testing.assert_array_equal(data[1], first[1][2].astype(np.float32))


def test_bad_images_boxes_and_skip(tmp_path):
    root = str(tmp_path / "data")
    for c in ("a", "b"):
        for k in range(3):
            os.makedirs(os.path.join(root, "train", c), exist_ok=True)
            cv2.imwrite(os.path.join(root, "train", c, "%d.jpg" % k), random_images(1, (30, 40, 3), k)[0])
    bad = os.path.join(root, "train", "b", "1.jpg")
    with open(bad, "wb") as fh:
        fh.write(b"garbage")
    ds = datasets.load("folder", root, "train")
    with pytest.raises(RacnnError, match="cannot decode image .*b/1.jpg"):
        build_classification_db(ds, "train", 8, str(tmp_path / "db"), size=16, workers=2)
    assert not os.path.exists(str(tmp_path / "db"))
    m = build_classification_db(ds, "train", 8, str(tmp_path / "db"), size=16, workers=2,
                                   skip_bad=True)
    assert m["count"] == 5 and m["skipped_bad"] == 1 and "b/1.jpg" in m["skipped_files"][0]
    # boxes reaching outside the image are clipped and counted
    samples = [s._replace(box=(-5, 0, 20, 50)) if i < 2 else s._replace(box=(0, 0, 10, 10))
               for i, s in enumerate(ds.samples) if "b/1" not in s.path]
    boxed = datasets.Dataset("boxed", "folder", root, "train", samples, ds.class_names)
    m = build_classification_db(boxed, "train", 8, str(tmp_path / "db2"), size=16, workers=1)
    assert m["clipped_boxes"] == 2 and m["count"] == 5


def test_ensure_classification_db_reuses_and_rebuilds(shared, tmp_path):
    root = os.path.join(shared, "data", "flowers_mini")
    out = str(tmp_path / "fl")
    m1 = ensure_classification_db("flowers", root, "train", out, res=10, size=24, limit=6)
    m2 = ensure_classification_db("flowers", root, "train", out, res=10, size=24, limit=6)
    assert m1["created"] == m2["created"] and os.path.getmtime(os.path.join(out, "data.mdb"))
    m3 = ensure_classification_db("flowers", root, "train", out, res=12, size=24, limit=6)
    assert m3["res"] == 12 and manifest.read_manifest(out)["res"] == 12


def _tool(repo, *args):
    return subprocess.run([sys.executable, os.path.join(repo, "tools", args[0])] + list(args[1:]),
                          cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)


def test_tools_build_lmdb_build_sr_patches_degrade(repo, shared, tmp_path):
    root = os.path.join(shared, "data", "flowers_mini")
    out = str(tmp_path / "db")
    r = _tool(repo, "build_lmdb.py", "--dataset", "flowers", "--root", root, "--split", "test",
              "--res", "12", "--size", "32", "--limit", "10", "--out", out, "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "10 images, 102 classes" in r.stdout
    assert check_manifest(out, size=32, num_classes=102)["res"] == 12
    r = _tool(repo, "build_lmdb.py", "--dataset", "flowers", "--root", root, "--split", "test",
              "--res", "12", "--size", "32", "--out", out)
    assert r.returncode == 2 and "already exists" in r.stderr and "Traceback" not in r.stderr
    r = _tool(repo, "build_lmdb.py", "--dataset", "cub", "--root", str(tmp_path), "--split",
              "train", "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "images.txt" in r.stderr and "Expected layout" in r.stderr
    r = _tool(repo, "build_sr_patches.py", "--images", os.path.join(root, "jpg"),
              "--max-images", "2", "--size", "40", "--res", "10", "--patch", "20",
              "--stride", "20", "--out", str(tmp_path / "sr"))
    assert r.returncode == 0, r.stderr
    assert manifest.read_manifest(str(tmp_path / "sr"))["count"] == 8
    r = _tool(repo, "degrade.py", os.path.join(root, "jpg", "image_06734.jpg"), "--out",
              str(tmp_path / "lr"), "--res", "16", "--save-hr")
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(str(tmp_path / "lr"))) == ["image_06734_hr.png", "image_06734_lr16.png"]
    r = _tool(repo, "build_lmdb.py", "--help")
    assert r.returncode == 0 and "--kernel" in r.stdout


# ------------------------------------------------ JPEG round trip

def direct(img, res, size, quality):
    """degrade -> cv2.imencode(.jpg, quality) -> cv2.imdecode, CHW BGR."""
    lr = degrade(img, res, size)
    ok, data = cv2.imencode(".jpg", lr, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR).transpose(2, 0, 1)


@pytest.mark.shared
def test_jpeg_round_trip_bytes_and_manifest(shared, tmp_path):
    root = os.path.join(shared, "data", "cub_mini")
    ds = datasets.load("cub", root, "test")
    by_id = {s.id: s for s in ds.samples}
    out = str(tmp_path / "jpeg75")
    m = build_classification_db(ds, "test", 25, out, size=64, seed=3, limit=6, workers=2,
                                jpeg_quality=75)
    assert m["jpeg_quality"] == 75 and m["count"] == 6
    _, rows = lmdbio.read_datums(out)
    changed = 0
    for key, label, chw in rows:
        img, _ = datasets.read_sample(by_id[key.split("_", 1)[1]])
        np.testing.assert_array_equal(chw, direct(img, 25, 64, 75))
        changed += int(not np.array_equal(chw, degrade(img, 25, 64).transpose(2, 0, 1)))
    assert changed == 6                       # the round trip is not a no-op
    # off by default: raw pixels, recorded as such
    raw = build_classification_db(ds, "test", 25, str(tmp_path / "raw"), size=64, seed=3,
                                  limit=6, workers=1)
    assert raw["jpeg_quality"] is None
    # another quality is another database: ensure_ rebuilds instead of reusing
    m2 = ensure_classification_db("cub", root, "test", out, res=25, size=64, seed=3, limit=6,
                                  jpeg_quality=95)
    assert m2["jpeg_quality"] == 95
    _, rows = lmdbio.read_datums(out)
    key, _, chw = next(iter(rows))
    img, _ = datasets.read_sample(by_id[key.split("_", 1)[1]])
    np.testing.assert_array_equal(chw, direct(img, 25, 64, 95))


# -------------------------------------------------- resize engine

def _folder_dataset(root, checker):
    """Two classes: a 0/255 checkerboard (where the two engines part), a
    grey photo-like image, random colour images; PNG and JPEG."""
    rng = np.random.RandomState(5)
    yy, xx = np.indices((30, 40))
    images = {
        "a/checker.png": np.dstack([checker] * 3),
        "a/grey.png": np.clip(100 + 50 * np.sin(xx / 3.0) + 20 * np.cos(yy / 4.0), 0, 255)
        .astype(np.uint8)[:, :, None],
        "b/noise.jpg": rng.randint(0, 256, (37, 52, 3)).astype(np.uint8),
        "b/stripes.png": np.dstack([np.where(xx % 3 == 0, 255, 10).astype(np.uint8),
                                    rng.randint(0, 256, (30, 40)).astype(np.uint8), np.full((30, 40), 64, np.uint8)]),
    }
    for rel, img in images.items():
        path = os.path.join(root, "train", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        assert cv2.imwrite(path, img[:, :, 0] if img.shape[2] == 1 else img)
    return datasets.load("folder", root, "train")


def test_databases_record_and_use_the_engine(lib, tmp_path, engine_env, checker):
    ds = _folder_dataset(str(tmp_path / "data"), checker)
    res, size = 7, 21
    stored = {}
    for engine in ("c", "numpy"):
        out = str(tmp_path / engine)
        r = subprocess.run([sys.executable, os.path.join(REPO, "tools", "build_lmdb.py"),
                            "--dataset", "folder", "--root", ds.root, "--split", "train",
                            "--res", str(res), "--size", str(size), "--out", out,
                            "--workers", "2"],
                           cwd=REPO, env=dict(os.environ, RACNN_RESIZE=engine),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=120)
        assert r.returncode == 0, r.stderr
        m = manifest.read_manifest(out)
        assert m["resize_engine"] == engine and m["kernel"] == "matlab" and m["count"] == 4
        engine_env(engine)
        by_id = {s.id: s for s in ds.samples}
        rows = list(db.iter_datums(out))
        assert len(rows) == 4
        for key, label, chw in rows:
            sample = by_id[key.split("_", 1)[1]]
            want = degrade(datasets.read_image(sample.path), res, size)
            assert label == sample.label
            np.testing.assert_array_equal(chw, want.transpose(2, 0, 1), err_msg="%s %s" % (
                engine, sample.path))
            stored[engine, sample.path] = chw
    # the databases differ where the engines do (the checkerboard), so the
    # engine asked for is the one the workers ran
    parted = [p for e, p in stored if e == "c" and not np.array_equal(stored["c", p],
                                                                      stored["numpy", p])]
    assert "checker.png" in [os.path.basename(p) for p in parted]
    # other kernels have no engine to record
    m = build_classification_db(ds, "train", res, str(tmp_path / "cv"), size=size,
                                   kernel="opencv", workers=1)
    assert "resize_engine" in m and m["resize_engine"] is None


# ---------- smoke subsets
# Smoke subsets (48 training / 24 test images) of a dataset with more
# classes than test images keep the same classes in both splits, every kept
# class with test images, instead of 24 of 50 classes with test images and a
# confusion matrix of empty rows.
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


def test_a_subset_draws_only_classes_that_have_images(tmp_path):
    """Metadata naming more classes than the folder holds images of (the
    official lists with a few classes' images, like the Flowers fixture:
    102 classes named, 5 present): the subset drew 24 of the 30 named
    classes, mostly absent ones, and built an empty database ("nothing to
    write")."""
    root = tmp_path / "few"
    rng = np.random.RandomState(0)
    names = ["class%02d" % c for c in range(30)]
    (root).mkdir()
    (root / "classes.txt").write_text("\n".join(names) + "\n")
    for split, n in (("train", 3), ("test", 2)):
        for c in (2, 11, 17, 25, 29):
            folder = root / split / names[c]
            folder.mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.randint(0, 255, (24, 24, 3), np.uint8)).save(
                    str(folder / ("%d.png" % i)))
    m = ensure_classification_db("folder", str(root), "test", str(tmp_path / "test"), res=8,
                                 size=24, limit=24, seed=3, class_count=24)
    assert m["count"] == 10 and m["subset_classes"] == [2, 11, 17, 25, 29]
    assert present_labels("folder", str(root)) == {2, 11, 17, 25, 29}
    assert subset_classes(30, 3, 3, {2, 11, 17, 25, 29}) == \
        sorted(int(c) for c in np.random.RandomState(3).permutation([2, 11, 17, 25, 29])[:3])
    assert subset_classes(30, 24, 3, set(range(30))) == subset_classes(30, 24, 3)
