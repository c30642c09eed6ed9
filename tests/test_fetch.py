"""racnn.fetch with files the tests create, served by file:// URLs and by a
real HTTP server on 127.0.0.1: checksums, idempotence, safe extraction."""
import hashlib
import http.server
import io
import os
import re
import subprocess
import sys
import tarfile
import threading

import pytest

from racnn import fetch, mirror
from racnn.errors import RacnnError

HEX = {"md5": 32, "sha1": 40, "sha256": 64}


def _digest(path, algo):
    with open(path, "rb") as fh:
        return hashlib.new(algo, fh.read()).hexdigest()


def _tgz(path, members):
    """A .tgz with (name, bytes) files; a name ending in '/' is a folder,
    ('name', '->target') a symlink."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(data, str) and data.startswith("->"):
                info.type, info.linkname = tarfile.SYMTYPE, data[2:]
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def _dataset_resource(src, algo="md5"):
    """A dataset made of one archive and one plain file, served from ``src``."""
    arch = _tgz(os.path.join(src, "toy.tgz"), [("toy/", None), ("toy/images.txt", b"1 a.jpg\n"),
                                               ("toy/images/a.jpg", b"jpeg bytes")])
    mat = os.path.join(src, "labels.mat")
    with open(mat, "wb") as fh:
        fh.write(b"labels")
    files = (fetch.FileSpec("file://" + arch, "toy.tgz", _digest(arch, algo), algo, True),
             fetch.FileSpec("file://" + mat, "labels.mat", _digest(mat, algo), algo, False))
    return fetch.Resource("toy", "Toy set", "dataset", files, "datasets/toy",
                          ("toy/images.txt", "toy/images", "labels.mat"), "the tests")


def test_registry_is_well_formed():
    for name, res in fetch.RESOURCES.items():
        assert res.kind in ("dataset", "model") and res.files
        for spec in res.files:
            assert spec.url.startswith(("http://", "https://")) and spec.filename
            if spec.checksum is None:
                assert spec.algo is None
            else:
                assert re.fullmatch("[0-9a-f]{%d}" % HEX[spec.algo], spec.checksum), name
        if res.kind == "model":
            assert res.dest == "models/%s.caffemodel" % name
        else:
            assert res.dest == "datasets/%s" % name and res.marker
    assert fetch.resource("cub") is fetch.RESOURCES["birds"]
    # the names the experiment driver asks for (specs datasets, zoo weights)
    from racnn import vocab
    for name in list(vocab.DATASETS) + ["bvlc_alexnet", "vgg16", "bvlc_googlenet",
                                        "rsrcnn_authors"]:
        assert fetch.resource(name).name == name
    for alias, name in vocab.DATASET_ALIASES.items():
        assert fetch.resource(alias).name == name
    with pytest.raises(RacnnError, match="unknown resource"):
        fetch.resource("imagenet")


def test_authors_weights_checksum_matches_the_real_file(authors_sr_weights, tmp_path):
    res = fetch.RESOURCES["rsrcnn_authors"]
    assert _digest(authors_sr_weights, "sha256") == res.files[0].checksum
    local = res._replace(files=(res.files[0]._replace(url="file://" + authors_sr_weights),))
    path = fetch.fetch(local, data_dir=str(tmp_path), say=lambda m: None)
    assert path == str(tmp_path / "models" / "rsrcnn_authors.caffemodel")
    assert _digest(path, "sha256") == res.files[0].checksum
    assert fetch.require(local, str(tmp_path)) == path


def test_dataset_fetch_extract_idempotent(tmp_path):
    src = tmp_path / "server"
    src.mkdir()
    res = _dataset_resource(str(src))
    data = str(tmp_path / "data")
    with pytest.raises(RacnnError) as err:
        fetch.require(res, data)
    msg = str(err.value)
    assert "toy" in msg and os.path.join(data, "datasets", "toy") in msg
    assert "python3 tools/fetch.py toy" in msg and "downloads" in msg
    log = []
    dest = fetch.fetch(res, data, say=log.append)
    assert open(os.path.join(dest, "toy", "images", "a.jpg"), "rb").read() == b"jpeg bytes"
    assert open(os.path.join(dest, "labels.mat"), "rb").read() == b"labels"
    assert fetch.require(res, data) == dest
    assert not [f for f in os.listdir(dest) if f.startswith(".extract")]
    # the second run downloads nothing: the server can be gone
    for f in os.listdir(str(src)):
        os.remove(str(src / f))
    log2 = []
    assert fetch.fetch(res, data, say=log2.append) == dest
    assert not any("downloading" in m for m in log2) and any("downloading" in m for m in log)


def test_failed_copy_leaves_no_partial_file(tmp_path, monkeypatch):
    src = tmp_path / "server"
    src.mkdir()
    res = _dataset_resource(str(src))
    data = str(tmp_path / "data")

    def broken_copy(source, target):
        with open(target, "wb") as fh:
            fh.write(b"lab")
        raise OSError("disk full")
    monkeypatch.setattr(fetch.shutil, "copyfile", broken_copy)
    with pytest.raises(OSError, match="disk full"):
        fetch.fetch(res, data, say=lambda m: None)
    dest = os.path.join(data, "datasets", "toy")
    assert sorted(f for f in os.listdir(dest) if not os.path.isdir(os.path.join(dest, f))) == \
        [".fetched-toy.tgz"]                 # no labels.mat, no .partial, no stamp for it


def test_checksum_mismatch_leaves_nothing(tmp_path):
    src = tmp_path / "server"
    src.mkdir()
    res = _dataset_resource(str(src))
    bad = res._replace(files=(res.files[0]._replace(checksum="0" * 32),) + res.files[1:])
    data = str(tmp_path / "data")
    with pytest.raises(RacnnError, match=r"md5 checksum mismatch \(expected 0{32}, got [0-9a-f]{32}\)"):
        fetch.fetch(bad, data, say=lambda m: None)
    downloads = os.path.join(data, "downloads")
    assert os.listdir(downloads) == []                       # no archive, no .partial
    assert not os.path.exists(os.path.join(data, "datasets", "toy", "toy"))
    # a corrupt archive put in downloads/ by hand is caught too
    with open(os.path.join(downloads, "toy.tgz"), "wb") as fh:
        fh.write(b"not the archive")
    with pytest.raises(RacnnError, match="checksum mismatch"):
        fetch.fetch(res, data, say=lambda m: None)


def test_archive_put_in_downloads_by_hand_is_used(tmp_path):
    src = tmp_path / "server"
    src.mkdir()
    res = _dataset_resource(str(src))
    data = tmp_path / "data"
    (data / "downloads").mkdir(parents=True)
    for spec in res.files:
        os.rename(spec.url[len("file://"):], str(data / "downloads" / spec.filename))
    offline = res._replace(files=tuple(s._replace(url="http://127.0.0.1:9/offline/" + s.filename)
                                       for s in res.files))
    assert os.path.isdir(os.path.join(fetch.fetch(offline, str(data), say=lambda m: None), "toy"))


@pytest.mark.parametrize("member", [("/etc/evil", b"x"), ("toy/../../evil", b"x"),
                                    ("toy/link", "->/etc/passwd")])
def test_unsafe_archive_members_are_refused(tmp_path, member):
    arch = _tgz(str(tmp_path / "bad.tgz"), [("toy/ok.txt", b"ok"), member])
    dest = tmp_path / "dest"
    with pytest.raises(RacnnError, match="refusing"):
        fetch.extract(arch, str(dest))
    assert not dest.exists() or os.listdir(str(dest)) == []
    assert not (tmp_path / "evil").exists()


def test_no_published_checksum_records_sha256_then_verifies(tmp_path):
    model = tmp_path / "weights.caffemodel"
    model.write_bytes(b"\x01" * 1000)
    res = fetch.Resource("w", "weights", "model",
                         (fetch.FileSpec("file://" + str(model), "weights.caffemodel", None, None,
                                         False),), "models/w.caffemodel", (), "tests")
    log = []
    path = fetch.fetch(res, str(tmp_path / "data"), say=log.append)
    assert any("no published checksum; recording sha256 on first download" in m for m in log)
    with open(path + ".sha256") as fh:
        assert fh.read().split()[0] == _digest(str(model), "sha256")
    assert fetch.fetch(res, str(tmp_path / "data"), say=log.append) == path   # verified again
    with open(path, "r+b") as fh:
        fh.write(b"\x02")
    with pytest.raises(RacnnError, match="sha256 checksum mismatch"):
        fetch.fetch(res, str(tmp_path / "data"), say=log.append)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_over_http(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    payload = os.urandom(3 * 1024 * 1024 + 17)        # more than one read block
    (root / "big.caffemodel").write_bytes(payload)
    handler = lambda *a, **k: _Handler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = "http://127.0.0.1:%d/" % server.server_address[1]
        spec = fetch.FileSpec(base + "big.caffemodel", "big.caffemodel",
                              hashlib.sha1(payload).hexdigest(), "sha1", False)
        res = fetch.Resource("big", "big", "model", (spec,), "models/big.caffemodel", (), "tests")
        path = fetch.fetch(res, str(tmp_path / "data"), say=lambda m: None)
        assert open(path, "rb").read() == payload
        missing = res._replace(files=(spec._replace(url=base + "nope.caffemodel"),),
                               dest="models/nope.caffemodel")
        with pytest.raises(RacnnError, match="could not download .*nope.caffemodel.*404"):
            fetch.fetch(missing, str(tmp_path / "data"), say=lambda m: None)
        assert not os.path.exists(str(tmp_path / "data" / "models" / "nope.caffemodel.partial"))
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_tool_lists_and_checks(repo, tmp_path):
    run = [sys.executable, os.path.join(repo, "tools", "fetch.py")]
    r = subprocess.run(run + ["--list"], stdout=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 0 and "9116a64c0fbe4459d18f4bb6b56d647b63920377" in r.stdout
    assert "no published checksum" in r.stdout                     # vgg16
    r = subprocess.run(run + ["--check", "--data-dir", str(tmp_path), "birds"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    assert r.returncode == 1 and "birds: missing" in r.stdout


# ----------------------------------------------- --from a mirror or a copy
def _copy_files(res, folder):
    """The resource's files, as a mirror would hold them, under ``folder``."""
    import shutil
    os.makedirs(folder, exist_ok=True)
    for spec in res.files:
        shutil.copyfile(spec.url[len("file://"):], os.path.join(folder, spec.filename))
    return folder


def test_from_folder_archive_and_mirror_address_with_the_same_checksums(tmp_path):
    src = tmp_path / "official"
    src.mkdir()
    res = _dataset_resource(str(src))
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
    res = _dataset_resource(str(src))
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
                          _digest(str(weights), "sha256"), "sha256", False)
    res = fetch.Resource("w", "W", "model", (spec,), "models/w.caffemodel", (), "the tests")
    path = mirror.fetch_from(res, "file://" + str(weights), str(tmp_path / "data"),
                            say=lambda m: None)
    assert open(path, "rb").read() == b"weights"


def test_cars_from_a_folder_without_the_files_names_files_and_checksums(tmp_path):
    empty = tmp_path / "mirror"
    empty.mkdir()
    run = subprocess.run([sys.executable, "tools/fetch.py", "cars", "--from", str(empty),
                          "--data-dir", str(tmp_path / "data")],
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
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
