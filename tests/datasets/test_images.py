"""racnn.datasets.images: decoding (as OpenCV does, bad files named, a
decompression bomb refused: a case of issue 14, item 11) and cropping to
boxes."""
import os
import struct
import json
import zlib

import numpy as np
import pytest

from racnn import datasets
from racnn.errors import RacnnError
from tests.support import builds


def test_read_image_matches_opencv_and_names_bad_files(shared, tmp_path):
    import cv2
    flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
    files = [s.path for s in datasets.load("cub", os.path.join(shared, "data", "cub_mini"), "test").samples[:10]]
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


def _bomb_png(path, width=15000, height=15000):
    """A PNG whose header says ``width`` x ``height`` (225 Mpx: Pillow's
    DecompressionBombError) with a few bytes of data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                                   8, 2, 0, 0, 0))
                 + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_a_bad_image(tmp_path):
    root = builds.folder(tmp_path / "data")
    _bomb_png(os.path.join(root, "a", "bomb.png"))
    out = tmp_path / "db"
    r = builds.build(root, out)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "bomb.png is 15000x15000 = 225000000 pixels, more than the limit of 100000000 " \
        "(--max-pixels)" in r.stderr and not out.exists()
    r = builds.build(root, out, "--skip-bad")
    assert r.returncode == 0, r.stderr
    m = json.load(open(str(out / "manifest.json")))
    assert m["count"] == 6 and m["skipped_bad"] == 1 and "bomb.png" in m["skipped_files"][0]
    # the limit is an option: a 40x32 image is over 1000 pixels
    r = builds.build(root, tmp_path / "db2", "--max-pixels", "1000")
    assert r.returncode == 2
    assert "is 40x32 = 1280 pixels, more than the limit of 1000 (--max-pixels)" in r.stderr
