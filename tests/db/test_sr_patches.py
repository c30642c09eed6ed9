"""racnn.db.sr_patches: the stage-1 database of aligned (LR, HR) patch pairs
in 6-channel Datums."""
import numpy as np
import pytest

from racnn.db import lmdbio as db
from racnn.db.sr_patches import build_sr_patch_db
from racnn.errors import RacnnError
from racnn.resize.degrade import degrade
from tests.support.datums import caffe_read, random_images


def test_sr_patch_db(tmp_path):
    import cv2
    folder = tmp_path / "hr"
    folder.mkdir()
    imgs = random_images(2, (50, 70, 3), seed=5)
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
