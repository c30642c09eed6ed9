"""racnn.db.manifest: reading and checking a database's manifest.json."""
import os

import pytest

from racnn.db import lmdbio as db
from racnn.db import manifest
from racnn.db.manifest import check_manifest
from racnn.errors import RacnnError
from tests.support.datums import random_images


def test_manifest_errors_and_checks(tmp_path):
    with pytest.raises(RacnnError, match="does not exist"):
        manifest.read_manifest(str(tmp_path / "nope"))
    out = str(tmp_path / "db")
    db.write_datums(out, [(im, 1) for im in random_images(2)],
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
