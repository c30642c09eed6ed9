"""racnn.fetch with files the tests create, served by file:// URLs and by a
real HTTP server on 127.0.0.1: checksums, idempotence, safe extraction, and
a download cut short by the server (a case of issue 14, item 2)."""
import hashlib
import http.server
import os
import re
import subprocess
import sys
import threading

import pytest

from racnn import fetch
from racnn.errors import RacnnError
from tests.support.fetching import dataset_resource, digest, tgz


HEX = {"md5": 32, "sha1": 40, "sha256": 64}


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
    assert digest(authors_sr_weights, "sha256") == res.files[0].checksum
    local = res._replace(files=(res.files[0]._replace(url="file://" + authors_sr_weights),))
    path = fetch.fetch(local, data_dir=str(tmp_path), say=lambda m: None)
    assert path == str(tmp_path / "models" / "rsrcnn_authors.caffemodel")
    assert digest(path, "sha256") == res.files[0].checksum
    assert fetch.require(local, str(tmp_path)) == path


def test_dataset_fetch_extract_idempotent(tmp_path):
    src = tmp_path / "server"
    src.mkdir()
    res = dataset_resource(str(src))
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
    res = dataset_resource(str(src))
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
    res = dataset_resource(str(src))
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
    res = dataset_resource(str(src))
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
    arch = tgz(str(tmp_path / "bad.tgz"), [("toy/ok.txt", b"ok"), member])
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
        assert fh.read().split()[0] == digest(str(model), "sha256")
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


# ------------------------------------------- a download cut short

ANNOUNCED, SENT = 200000, 100000


class _ShortBody(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(ANNOUNCED))
        self.end_headers()
        self.wfile.write(b"\x01" * SENT)
        self.wfile.flush()
        self.close_connection = True         # then the connection is cut

    def log_message(self, *args):
        pass


@pytest.fixture
def short_server():
    """The base URL of a server that answers ``requests`` GETs with a short
    body, then stops by itself (each wait bounded by a socket timeout)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _ShortBody)
    server.timeout = 20

    def serve(requests=2):
        for _ in range(requests):
            server.handle_request()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    thread.join(45)
    server.server_close()


def test_a_download_cut_short_is_refused_and_nothing_is_installed(short_server, tmp_path):
    data = str(tmp_path / "data")
    spec = fetch.FileSpec(short_server + "VGG_ILSVRC_16_layers.caffemodel",
                          "VGG_ILSVRC_16_layers.caffemodel", None, None, False)
    res = fetch.Resource("vggcut", "cut", "model", (spec,), "models/vggcut.caffemodel", (),
                         "tests")
    said = []
    for _ in range(2):                   # a second try is refused the same way
        with pytest.raises(RacnnError) as err:
            fetch.fetch(res, data, say=said.append)
        assert "announced %d bytes and sent %d" % (ANNOUNCED, SENT) in str(err.value)
        assert spec.url in str(err.value)
    models = os.path.join(data, "models")
    assert os.listdir(models) == []                  # no file, no .partial, no .sha256
    assert not any("recording sha256" in line for line in said)
    with pytest.raises(RacnnError, match="is missing"):
        fetch.require(res, data)
