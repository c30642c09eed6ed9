"""Item 7 of issue 13: the release's LR images were JPEG files (MATLAB's
imwrite, quality 75).  The option stores the degraded images through a JPEG
round trip; its bytes against a direct OpenCV encode/decode."""
import os

import cv2
import numpy as np
import pytest

from racnn import datasets
from racnn.db import lmdbio
from racnn.db.classification import build_classification_db, ensure_classification_db
from racnn.errors import RacnnError
from racnn.resize.degrade import degrade


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


def test_jpeg_quality_checked_before_any_work():
    from racnn.rundir import settings as config
    with pytest.raises(RacnnError, match="jpeg_quality=0: expected a JPEG quality 1..100"):
        config.make_config("birds", "tiny", jpeg_quality=0)
