"""racnn.db.lmdbio: Datum LMDBs written atomically and read back (through
racnn and through Caffe's own Data layer); --overwrite never deletes what is
not a database of ours; keys of very long multi-byte paths (cases of issue
14, items 4 and 16)."""
import json
import os

import numpy as np
import pytest

from racnn.db import lmdbio as db
from racnn.db import manifest
from racnn.db.manifest import MANIFEST_KEYS
from racnn.db import lmdbio
from racnn.errors import RacnnError
from tests.support import builds
from tests.support.datums import caffe_read, random_images


def test_write_read_roundtrip_map_growth_and_caffe(tmp_path):
    out = str(tmp_path / "db")
    imgs = random_images(40, (16, 16, 3))
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
    imgs = random_images(3, (9, 7, 3), seed=1)
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
        for im in random_images(5):
            yield im, 0
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        db.write_datums(out, items(), {"num_classes": 1})
    assert os.listdir(str(tmp_path)) == []
    with pytest.raises(RacnnError, match=r"label 7 of item 1 is outside 0\.\.2"):
        db.write_datums(out, [(random_images(1)[0], 0), (random_images(1)[0], 7)], {"num_classes": 3})
    assert os.listdir(str(tmp_path)) == []
    db.write_datums(out, [(random_images(1)[0], 0)], {"num_classes": 1})
    with pytest.raises(RacnnError, match="already exists"):
        db.write_datums(out, [(random_images(1)[0], 0)], {"num_classes": 1})


def test_overwrite_refuses_a_folder_that_is_not_a_database(tmp_path):
    root = builds.folder(tmp_path / "mydata")
    with open(os.path.join(root, "notes.txt"), "w") as fh:
        fh.write("my notes\n")
    before = sorted(os.path.relpath(os.path.join(d, f), root)
                    for d, _, fs in os.walk(root) for f in fs)
    r = builds.build(root, root, "--overwrite")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "%s is not a racnn database (no manifest.json)" % root in r.stderr
    assert "nothing was deleted" in r.stderr
    after = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root)
                   for f in fs)
    assert after == before and len(after) == 7
    # a database of ours is replaced
    out = tmp_path / "db"
    assert builds.build(root, out).returncode == 0
    created = json.load(open(str(out / "manifest.json")))["created"]
    r = builds.build(root, out, "--overwrite", "--seed", "3")
    assert r.returncode == 0, r.stderr
    m = json.load(open(str(out / "manifest.json")))
    assert m["seed"] == 3 and m["count"] == 6 and created <= m["created"]


def test_long_multibyte_paths_make_short_unique_keys(tmp_path):
    root = tmp_path / "data"
    deep = os.path.join("語" * 30, "語" * 80)
    names = ["語" * 78 + ".png", "x" + "語" * 77 + ".png"]       # ~190 characters, ~570 bytes
    for i, name in enumerate(names):
        builds.png(os.path.join(str(root), deep, name), seed=i)
    rel = os.path.join(deep, names[0])
    assert len(rel) > 185 and len(rel.encode("utf-8")) > 511
    out = tmp_path / "db"
    r = builds.build(root, out)
    assert r.returncode == 0, r.stderr
    import lmdb
    env = lmdb.open(str(out), readonly=True, lock=False)
    with env.begin() as txn:
        keys = [k for k, _ in txn.cursor()]
    env.close()
    assert len(keys) == 2 and len(set(keys)) == 2
    for k in keys:
        assert len(k) <= 8 + 1 + lmdbio.IDENT_BYTES
        k.decode("utf-8")                                   # cut at a character boundary
        assert k.endswith("語.png".encode("utf-8"))
