"""The CPU image racnn-caffe, run by a real Docker engine: the README's
headline `docker run racnn-caffe make cars-alexnet`, and `make demo SMOKE=1`
on a mounted fresh clone as an unprivileged user.

docker/engine.sh starts the engine and builds the image (.ci/run runs it
before `make test`); the suite runs in the rootfs, where docker/run mounts the
engine's socket, and talks to the engine over its HTTP API (the rootfs has no
docker client). Skips with one line where no engine answers.  The demo in
the image starts at the beginning of the session and runs while other tests go
on (tests.support.ahead); its test waits for it."""
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile

import pytest

from racnn.paths import REPO
from tests.support import ahead

IMAGE = os.environ.get("RACNN_IMAGE", "racnn-caffe")
SOCKETS = ("/run/docker.sock", "/var/run/docker.sock")


class _UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


class Engine:
    """The few Docker Engine API calls these tests need."""

    def __init__(self, path):
        self.path = path

    def call(self, method, url, body=None, timeout=60):
        conn = _UnixHTTP(self.path, timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, url, None if body is None else json.dumps(body), headers)
            res = conn.getresponse()
            return res.status, res.read()
        finally:
            conn.close()

    def run(self, cmd, user=None, binds=(), workdir=None, timeout=900):
        """``docker run --rm [-u user] [-v b:b] [-w workdir] IMAGE cmd``:
        (exit status, stdout, stderr)."""
        spec = {"Image": IMAGE, "Cmd": list(cmd), "Tty": False,
                "HostConfig": {"Binds": ["%s:%s" % (b, b) for b in binds]}}
        if user:
            spec["User"] = user
        if workdir:
            spec["WorkingDir"] = workdir
        status, body = self.call("POST", "/containers/create", spec)
        assert status == 201, (status, body)
        cid = json.loads(body)["Id"]
        try:
            status, body = self.call("POST", "/containers/%s/start" % cid)
            assert status == 204, (status, body)
            status, body = self.call("POST", "/containers/%s/wait" % cid, timeout=timeout)
            assert status == 200, (status, body)
            code = json.loads(body)["StatusCode"]
            status, logs = self.call("GET", "/containers/%s/logs?stdout=1&stderr=1" % cid)
            assert status == 200, (status, logs)
            return (code,) + _demux(logs)
        finally:
            self.call("DELETE", "/containers/%s?force=1" % cid)


def _demux(stream):
    """stdout and stderr of a container without a TTY (8-byte frame headers)."""
    out, err, i = [], [], 0
    while i + 8 <= len(stream):
        kind, size = struct.unpack(">BxxxI", stream[i:i + 8])
        (err if kind == 2 else out).append(stream[i + 8:i + 8 + size])
        i += 8 + size
    return b"".join(out).decode("utf-8", "replace"), b"".join(err).decode("utf-8", "replace")


def find_engine():
    """(Engine, None) for the engine that answers and holds the image, else
    (None, why not)."""
    paths = [p for p in SOCKETS if os.path.exists(p)]
    if not paths:
        return None, "no Docker engine here (no /run/docker.sock): docker/engine.sh starts one"
    eng = Engine(paths[0])
    try:
        status, _ = eng.call("GET", "/_ping", timeout=10)
    except OSError as exc:
        return None, "the Docker engine at %s does not answer (%s)" % (paths[0], exc)
    if status != 200:
        return None, "the Docker engine at %s answers /_ping with %s" % (paths[0], status)
    status, _ = eng.call("GET", "/images/%s/json" % IMAGE)
    if status != 200:
        return None, "the engine answers but has no image %s: docker/engine.sh builds it" % IMAGE
    return eng, None


@pytest.fixture(scope="module")
def engine():
    eng, why = find_engine()
    if eng is None:
        pytest.skip(why)
    return eng


def _calling_user():
    """uid, gid of the calling user: nobody when we are root (root writes
    anywhere, so that ownership can go wrong)."""
    return (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())


@ahead.recipe("demo_in_the_image")
def _demo_in_the_image(tmp_path_factory):
    """A fresh clone of this checkout in a folder of /tmp (the same path for
    the engine), owned by the calling user, and the run of `make demo
    SMOKE=1` in the image on it, mounted at its own path, as that user."""
    eng, _ = find_engine()
    if eng is None:
        return None                             # the fixture skips (``engine``)
    uid, gid = _calling_user()
    top = tempfile.mkdtemp(prefix="racnn-image-", dir="/tmp")
    clone = os.path.join(top, "racnn")
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", REPO, clone], check=True)
    if os.geteuid() == 0:
        os.chown(top, uid, gid)
        for folder, subfolders, files in os.walk(clone):
            for name in [folder] + [os.path.join(folder, n) for n in subfolders + files]:
                os.lchown(name, uid, gid)
    before = {os.path.join(f, n) for f, _, names in os.walk(clone) for n in names}

    def make_demo():
        code, out, err = eng.run(["make", "demo", "SMOKE=1"], user="%d:%d" % (uid, gid),
                                 binds=[clone], workdir=clone)
        return code, out + err
    return (top, clone, before, uid, gid), ahead.Run(call=make_demo)


@pytest.fixture
def demo_in_the_image(engine, tmp_path_factory):
    """(clone, the files it held before, uid, gid, exit status, output,
    seconds) of `make demo SMOKE=1` in the image (started at the beginning
    of the session: tests.support.ahead); the clone is removed afterwards."""
    (top, clone, before, uid, gid), run = ahead.take("demo_in_the_image", tmp_path_factory)
    try:
        yield (clone, before, uid, gid) + run.result()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_headline_command_without_data_says_what_is_missing(engine):
    """`docker run --rm racnn-caffe make cars-alexnet`, no dataset mounted."""
    code, out, err = engine.run(["make", "cars-alexnet"], timeout=300)
    text = out + err
    assert code != 0, text
    assert "dataset cars" in text and "is missing" in text, text[-3000:]
    assert "tools/fetch.py cars" in text, text[-3000:]          # what to do about it
    assert "Traceback" not in text, text[-3000:]


def test_demo_smoke_on_a_mounted_fresh_clone_writes_files_as_the_calling_user(
        demo_in_the_image):
    """`make demo SMOKE=1` in the image on a fresh clone mounted at its own
    path, run with -u uid:gid of the calling user (nobody when we are root,
    so that ownership can go wrong): every file written belongs to that user."""
    clone, before, uid, gid, code, output, seconds = demo_in_the_image
    assert code == 0, output[-4000:]
    written, wrong = [], []
    for folder, subfolders, files in os.walk(clone):
        for name in [folder] + [os.path.join(folder, n) for n in subfolders + files]:
            st = os.lstat(name)
            if (st.st_uid, st.st_gid) != (uid, gid):
                wrong.append("%s (%d:%d)" % (name, st.st_uid, st.st_gid))
            if name not in before and not os.path.isdir(name):
                written.append(name)
    assert len(written) >= 5, written          # the demo's database, nets, snapshot, report
    assert not wrong, "not owned by %d:%d: %s" % (uid, gid, wrong[:10])
    print("make demo SMOKE=1 in %s: %.0f s, %d files written, all %d:%d"
          % (IMAGE, seconds, len(written), uid, gid))
