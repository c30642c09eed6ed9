"""Datum LMDBs: writing, reading back through racnn.db.lmdbio and through Caffe's
own Data layer, manifests, atomic builds, classification and SR patch
databases, the command-line tools."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from racnn import datasets
from racnn.db import lmdbio as db
from racnn.resize.degrade import degrade
from racnn.errors import RacnnError
from racnn.db.classification import build_classification_db, ensure_classification_db
from racnn.db.datum import datum_bytes_chw
from racnn.db.manifest import MANIFEST_KEYS, check_manifest
from racnn.db.sr_patches import build_sr_patch_db
from racnn.db import manifest
from racnn.db import datum


def _images(n, shape=(12, 10, 3), seed=0):
    rng = np.random.RandomState(seed)
    return [rng.randint(0, 256, shape).astype(np.uint8) for _ in range(n)]


def caffe_read(db_dir, batch, channels, size):
    """The first ``batch`` (data, label) as Caffe's Data layer delivers them."""
    import caffe
    from caffe import layers as L, params as P
    n = caffe.NetSpec()
    n.data, n.label = L.Data(source=db_dir, backend=P.Data.LMDB, batch_size=batch, ntop=2)
    path = os.path.join(os.path.dirname(db_dir), "read_%s.prototxt" % os.path.basename(db_dir))
    with open(path, "w") as fh:
        fh.write(str(n.to_proto()))
    net = caffe.Net(path, caffe.TEST)
    net.forward()
    assert net.blobs["data"].data.shape == (batch, channels, size, size)
    return net.blobs["data"].data.copy(), net.blobs["label"].data.copy()


# -------------------------------------------------------------- writing ---

def test_write_read_roundtrip_map_growth_and_caffe(tmp_path):
    out = str(tmp_path / "db")
    imgs = _images(40, (16, 16, 3))
    labels = [i % 4 for i in range(40)]
    m = db.write_datums(out, ((im, lab, "img%d" % i) for i, (im, lab) in
                              enumerate(zip(imgs, labels))),
                        {"kind": "classification", "num_classes": 4, "size": 16},
                        map_size=1 << 15)      # 32 KiB: the map has to grow many times
    assert m["count"] == 40 and (m["label_min"], m["label_max"]) == (0, 3)
    assert set(MANIFEST_KEYS) <= set(m)
    assert m["channel_order"] == "BGR" and m["encoded"] is False
    assert manifest.read_manifest(out) == json.loads(json.dumps(m))
    got = list(db.iter_datums(out))
    assert [k for k, _, _ in got] == ["%08d_img%d" % (i, i) for i in range(40)]
    for (key, label, chw), im, lab in zip(got, imgs, labels):
        assert label == lab and chw.shape == (3, 16, 16)
        np.testing.assert_array_equal(chw, im.transpose(2, 0, 1))
    # Caffe's own Data layer reads the same pixels in the same order
    data, lab = caffe_read(out, 5, 3, 16)
    for i in range(5):
        np.testing.assert_array_equal(data[i], imgs[i].transpose(2, 0, 1).astype(np.float32))
    assert lab.tolist() == labels[:5]
    assert not [f for f in os.listdir(str(tmp_path)) if f.endswith(".partial")]


def test_encoded_png_datums_equal_raw(tmp_path):
    imgs = _images(3, (9, 7, 3), seed=1)
    db.write_datums(str(tmp_path / "png"), ((im, 0) for im in imgs), {"num_classes": 1},
                    encoded="png")
    assert manifest.read_manifest(str(tmp_path / "png"))["encoded"] == "png"
    for (_, _, chw), im in zip(db.iter_datums(str(tmp_path / "png")), imgs):
        np.testing.assert_array_equal(chw, im.transpose(2, 0, 1))
    with pytest.raises(RacnnError, match="encoded must be"):
        db.write_datums(str(tmp_path / "x"), [], {}, encoded="webp")


def test_interrupted_write_leaves_nothing_that_looks_finished(tmp_path):
    out = str(tmp_path / "db")

    def items():
        for im in _images(5):
            yield im, 0
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        db.write_datums(out, items(), {"num_classes": 1})
    assert os.listdir(str(tmp_path)) == []
    with pytest.raises(RacnnError, match=r"label 7 of item 1 is outside 0\.\.2"):
        db.write_datums(out, [(_images(1)[0], 0), (_images(1)[0], 7)], {"num_classes": 3})
    assert os.listdir(str(tmp_path)) == []
    db.write_datums(out, [(_images(1)[0], 0)], {"num_classes": 1})
    with pytest.raises(RacnnError, match="already exists"):
        db.write_datums(out, [(_images(1)[0], 0)], {"num_classes": 1})


def test_manifest_errors_and_checks(tmp_path):
    with pytest.raises(RacnnError, match="does not exist"):
        manifest.read_manifest(str(tmp_path / "nope"))
    out = str(tmp_path / "db")
    db.write_datums(out, [(im, 1) for im in _images(2)],
                    {"kind": "classification", "num_classes": 10, "size": 227, "res": 50})
    m = check_manifest(out, size=227, num_classes=10, kind="classification", res=50)
    assert m["count"] == 2
    with pytest.raises(RacnnError) as err:
        check_manifest(out, size=224, num_classes=200, kind="sr_patches", res=25)
    msg = str(err.value)
    assert out in msg and "224" in msg and "200" in msg and "sr_patches" in msg and "25" in msg
    assert check_manifest(out, min_size=224)["size"] == 227
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        fh.write("{not json")
    with pytest.raises(RacnnError, match="corrupt manifest.json"):
        manifest.read_manifest(out)
    os.remove(os.path.join(out, "manifest.json"))
    with pytest.raises(RacnnError, match="no manifest.json"):
        check_manifest(out)


# ------------------------------------------------------- classification ---

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
    import cv2
    root = str(tmp_path / "data")
    for c in ("a", "b"):
        for k in range(3):
            os.makedirs(os.path.join(root, "train", c), exist_ok=True)
            cv2.imwrite(os.path.join(root, "train", c, "%d.jpg" % k), _images(1, (30, 40, 3), k)[0])
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


# ----------------------------------------------------------- SR patches ---

def test_sr_patch_db(tmp_path):
    import cv2
    folder = tmp_path / "hr"
    folder.mkdir()
    imgs = _images(2, (50, 70, 3), seed=5)
    for i, im in enumerate(imgs):
        cv2.imwrite(str(folder / ("%d.png" % i)), im)
    out = str(tmp_path / "sr")
    m = build_sr_patch_db(str(folder), out, res=10, size=40, patch=16, stride=8, workers=2)
    per = len(range(0, 40 - 16 + 1, 8)) ** 2
    assert m["count"] == 2 * per and m["channels"] == 6 and m["kind"] == "sr_patches"
    assert (m["patch"], m["stride"], m["res"], m["size"]) == (16, 8, 10, 40)
    rows = list(db.iter_datums(out))
    assert all(lab == 0 and chw.shape == (6, 16, 16) for _, lab, chw in rows)
    # every stored patch is an aligned (LR, HR) pair of one of the images
    want = {}
    for im in imgs:
        lr, hr = degrade(im, 10, 40, return_hr=True)
        for y in range(0, 25, 8):
            for x in range(0, 25, 8):
                pair = np.concatenate([lr[y:y + 16, x:x + 16], hr[y:y + 16, x:x + 16]], axis=2)
                want[pair.transpose(2, 0, 1).tobytes()] = (id(im), y, x)
    got = [chw.tobytes() for _, _, chw in rows]
    assert sorted(got) == sorted(want)
    # shuffled across images: the first half is not all one image
    assert len({want[g][0] for g in got[:per]}) == 2
    # the stage-1 net's Slice splits the datum into LR (data) and HR (label)
    data, _ = caffe_read(out, 1, 6, 16)
    np.testing.assert_array_equal(data[0], rows[0][2].astype(np.float32))
    with pytest.raises(RacnnError, match="already exists"):
        build_sr_patch_db(str(folder), out, res=10, size=40, patch=16, stride=8)


# ---------------------------------------------------------------- tools ---

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


@pytest.mark.parametrize("encoded,label", [("png", 0), ("jpg", 7), ("png", 70000)])
def test_encoded_datum_bytes_are_exactly_caffes(encoded, label):
    import cv2
    from caffe.proto import caffe_pb2
    img = np.random.RandomState(1).randint(0, 256, (23, 31, 3)).astype(np.uint8)
    d = caffe_pb2.Datum()
    d.label = label
    d.data = cv2.imencode("." + encoded, img)[1].tobytes()
    d.encoded = True
    assert datum.datum_bytes(img, label, encoded) == d.SerializeToString()


@pytest.mark.parametrize("shape,label", [((3, 227, 227), 0), ((6, 51, 51), 0), ((3, 2, 5), 199),
                                         ((1, 1, 1), 300), ((3, 300, 500), 70000)])
def test_raw_datum_bytes_are_exactly_caffes(shape, label):
    from caffe.proto import caffe_pb2
    arr = np.random.RandomState(0).randint(0, 256, shape).astype(np.uint8)
    d = caffe_pb2.Datum()
    d.channels, d.height, d.width = shape
    d.data = arr.tobytes()
    d.label = label
    assert datum_bytes_chw(arr, label) == d.SerializeToString()
    assert datum.datum_bytes(arr.transpose(1, 2, 0), label) == d.SerializeToString()
    back_label, back = datum.parse_datum(datum_bytes_chw(arr, label))
    assert back_label == label
    np.testing.assert_array_equal(back, arr)


class _Payload(object):
    """Picklable: item i -> ("ok", big bytes of i, [small bytes, big bytes], i)."""

    def __call__(self, i):
        big = bytes([i % 256]) * (70000 + 1000 * (i % 5))
        return ("ok", big, [b"small", big[::-1]], i)


@pytest.mark.parametrize("workers,item_bytes", [(1, 0), (2, 0), (2, 2 * 150000), (3, 50000)])
def test_ordered_map_order_and_transport(workers, item_bytes):
    """Results come back in order and intact through pipes, shared memory,
    and (slot too small for a chunk) both."""
    from racnn.db.pool import ordered_map
    f = _Payload()
    got = list(ordered_map(f, range(45), workers, chunk=4, inflight=2, item_bytes=item_bytes))
    assert got == [f(i) for i in range(45)]
