"""racnn.mirror (tools/fetch.py --from): the same resources from a folder, an
archive or a mirror address, held to the official checksums."""
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from racnn import fetch, mirror
from racnn.errors import RacnnError
from racnn.paths import REPO
from tests.support.fetching import dataset_resource, digest


# ----------------------------------------------- --from a mirror or a copy
def _copy_files(res, folder):
    """The resource's files, as a mirror would hold them, under ``folder``."""
    os.makedirs(folder, exist_ok=True)
    for spec in res.files:
        shutil.copyfile(spec.url[len("file://"):], os.path.join(folder, spec.filename))
    return folder


def test_from_folder_archive_and_mirror_address_with_the_same_checksums(tmp_path):
    src = tmp_path / "official"
    src.mkdir()
    res = dataset_resource(str(src))
    # a folder holding the files below it
    nested = _copy_files(res, str(tmp_path / "copy" / "sub"))
    data = str(tmp_path / "data1")
    dest = mirror.fetch_from(res, str(tmp_path / "copy"), data, say=lambda m: None)
    assert open(os.path.join(dest, "toy", "images", "a.jpg"), "rb").read() == b"jpeg bytes"
    assert fetch.require(res, data) == dest
    # an archive holding them (other members are not written anywhere)
    bundle = str(tmp_path / "bundle.tar")
    with tarfile.open(bundle, "w") as tar:
        for spec in res.files:
            tar.add(os.path.join(nested, spec.filename), "mirror/x/" + spec.filename)
        tar.add(nested, "../escape")
    data = str(tmp_path / "data2")
    assert mirror.fetch_from(res, bundle, data, say=lambda m: None) == \
        os.path.join(data, "datasets", "toy")
    assert sorted(os.listdir(os.path.join(data, "downloads"))) == ["labels.mat", "toy.tgz"]
    assert not os.path.exists(str(tmp_path / "escape"))
    # a mirror address: the files at <address>/<filename>
    data = str(tmp_path / "data3")
    mirror.fetch_from(res, "file://" + nested + "/", data, say=lambda m: None)
    assert fetch.require(res, data)


def test_from_names_the_expected_files_and_refuses_another_file(tmp_path):
    src = tmp_path / "official"
    src.mkdir()
    res = dataset_resource(str(src))
    copy = _copy_files(res, str(tmp_path / "copy"))
    os.remove(os.path.join(copy, "labels.mat"))
    data = str(tmp_path / "data")
    with pytest.raises(RacnnError) as err:
        mirror.fetch_from(res, copy, data, say=lambda m: None)
    msg = str(err.value)
    assert "--from %s lacks labels.mat for toy (Toy set)" % copy in msg
    for spec in res.files:
        assert "%s  md5 %s" % (spec.filename, spec.checksum) in msg
    with open(os.path.join(copy, "labels.mat"), "wb") as fh:
        fh.write(b"not the official labels")
    with pytest.raises(RacnnError, match="md5 checksum mismatch"):
        mirror.fetch_from(res, copy, data, say=lambda m: None)
    assert not os.path.exists(os.path.join(data, "downloads", "labels.mat"))
    assert not [f for f in os.listdir(os.path.join(data, "downloads")) if "partial" in f]


def test_from_a_model_file_address(tmp_path):
    weights = tmp_path / "mirror" / "w.caffemodel"
    weights.parent.mkdir()
    weights.write_bytes(b"weights")
    spec = fetch.FileSpec("http://gone.invalid/w.caffemodel", "w.caffemodel",
                          digest(str(weights), "sha256"), "sha256", False)
    res = fetch.Resource("w", "W", "model", (spec,), "models/w.caffemodel", (), "the tests")
    path = mirror.fetch_from(res, "file://" + str(weights), str(tmp_path / "data"),
                            say=lambda m: None)
    assert open(path, "rb").read() == b"weights"


def test_cars_from_a_folder_without_the_files_names_files_and_checksums(tmp_path):
    empty = tmp_path / "mirror"
    empty.mkdir()
    run = subprocess.run([sys.executable, "tools/fetch.py", "cars", "--from", str(empty),
                          "--data-dir", str(tmp_path / "data")],
                         cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "--from %s lacks cars_train.tgz, cars_test.tgz, car_devkit.tgz, " \
        "cars_test_annos_withlabels.mat for cars" % empty in run.stderr
    for spec in fetch.RESOURCES["cars"].files:
        assert "%s  md5 %s" % (spec.filename, spec.checksum) in run.stderr
    # and the missing-dataset message offers --from
    with pytest.raises(RacnnError) as err:
        fetch.require("cars", str(tmp_path / "data"))
    assert "docker/run python3 tools/fetch.py cars --from URL_OR_FOLDER_OR_ARCHIVE" in \
        str(err.value)
