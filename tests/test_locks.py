"""racnn.locks with real processes: a refused lock names its holder, a
waiting one gets the lock when the holder ends (however it ends), two
build_lmdb.py runs on one --out never replace each other's database
(issue 14, item 3), and a second driver on a run folder refuses (issue 12)."""
import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from racnn import locks
from racnn.errors import RacnnError
from racnn.datasets import synthetic
from racnn.paths import REPO

HOLDER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, %r)
    from racnn import locks
    with locks.hold(sys.argv[1], "the thing"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""" % REPO)


def _holder(lock_file, seconds):
    """A process holding ``lock_file`` for ``seconds``, once it says so."""
    p = subprocess.Popen([sys.executable, "-c", HOLDER, lock_file, str(seconds)],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def _wait_for(predicate, what, timeout=120):
    end = time.time() + timeout
    while not predicate():
        if time.time() > end:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)


def test_refusing_lock_names_the_holder_and_dies_with_it(tmp_path):
    lock = str(tmp_path / "x.lock")
    p = _holder(lock, 60)
    try:
        with pytest.raises(RacnnError) as exc:
            with locks.hold(lock, "run folder R", wait=False):
                pass
        msg = str(exc.value)
        assert "run folder R is in use by pid %d on " % p.pid in msg
        assert "-c %s" % lock in msg and lock in msg            # its command, the lock file
    finally:
        p.kill()                    # kill -9: no clean-up code runs in the holder
        p.wait()
    with locks.hold(lock, "run folder R", wait=False):   # the kernel dropped its lock
        assert locks.holder(lock)["pid"] == os.getpid()
    assert locks.holder(lock) == {}                       # released: names nobody


def test_waiting_lock_waits_for_the_holder(tmp_path, capfd):
    lock = str(tmp_path / "x.lock")
    p = _holder(lock, 1.5)
    start = time.time()
    with locks.hold(lock, "database D"):
        waited = time.time() - start
    p.wait()
    assert waited > 1.0                             # the holder's 1.5 s, less its start
    assert "waiting for database D: held by pid %d" % p.pid in capfd.readouterr().err
    p = _holder(lock, 60)
    try:
        with pytest.raises(RacnnError, match="gave up after 0 s waiting for database D"):
            with locks.hold(lock, "database D", timeout=0.2):
                pass
    finally:
        p.kill()
        p.wait()


def test_lock_is_reentrant_within_a_process(tmp_path):
    lock = str(tmp_path / "x.lock")
    with locks.hold(lock, "A", wait=False):
        with locks.hold(lock, "A", wait=False):        # ensure_* -> build_*
            pass
        assert locks.holder(lock)["pid"] == os.getpid()


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("syn") / "data")
    synthetic.generate(root, num_classes=4, train_per_class=40, test_per_class=2, seed=0)
    return root


def _build(images, out, *extra):
    return subprocess.Popen(
        [sys.executable, "tools/build_lmdb.py", "--dataset", "folder", "--root", images,
         "--split", "train", "--res", "50", "--size", "227", "--workers", "1", "--out", out]
        + list(extra), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _first_line(proc, what, timeout=120):
    """What ``proc`` has written to its stderr pipe up to its first line end,
    read from the pipe itself (no buffer that communicate() would miss)."""
    text, end = b"", time.time() + timeout
    while not text.endswith(b"\n"):
        ready, _, _ = select.select([proc.stderr], [], [], max(0, end - time.time()))
        chunk = os.read(proc.stderr.fileno(), 65536) if ready else b""
        if not chunk:
            raise AssertionError("no line from %s (%r)" % (what, text))
        text += chunk
    return text.decode()


def test_two_concurrent_builds_never_replace_a_database(images, tmp_path):
    """Issue 14, item 3: both exited 0 and the slower replaced the other's
    database.  Now the second waits for the first, then refuses.  The first
    is stopped (SIGSTOP) while it holds the lock until the second says that
    it waits, so that the second cannot come too late on a busy machine."""
    out = str(tmp_path / "db")
    lock = locks.lock_path_beside(out)
    first = _build(images, out)
    _wait_for(lambda: locks.holder(lock).get("pid") == first.pid, "the first build's lock")
    os.kill(first.pid, signal.SIGSTOP)
    try:
        second = _build(images, out)
        waited = _first_line(second, "the second build")
    finally:
        os.kill(first.pid, signal.SIGCONT)
    o1, e1 = first.communicate(timeout=300)
    o2, e2 = second.communicate(timeout=300)
    e2 = waited + e2
    assert first.returncode == 0, e1
    assert second.returncode == 2, (o2, e2)
    assert "waiting for database %s: held by pid %d" % (out, first.pid) in e2
    assert e2.strip().splitlines()[-1] == (
        "build_lmdb.py: error: database %s already exists (use --overwrite to replace it)" % out)
    with open(os.path.join(out, "manifest.json")) as fh:
        made = json.load(fh)
    assert made["count"] == 160
    # --overwrite still replaces it, and only then
    r = _build(images, out, "--overwrite", "--limit", "8")
    assert r.wait(timeout=300) == 0, r.stderr.read()
    with open(os.path.join(out, "manifest.json")) as fh:
        assert json.load(fh)["count"] == 8
    assert [n for n in os.listdir(str(tmp_path)) if n.endswith(".partial")] == []


def test_second_driver_on_a_run_folder_refuses(images, tmp_path):
    """Issue 12: two drivers on one run folder both trained into the same
    snapshots/ and train.log and both exited 0."""
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    run_dir = str(tmp_path / "runs" / "one")
    cmd = [sys.executable, "tools/experiment.py", "syn", "tiny", "--smoke", "--format",
           "folder", "--data-root", images, "--run-dir", run_dir, "--variants", "cnn"]
    first = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        lock = locks.lock_path_beside(run_dir)
        _wait_for(lambda: locks.holder(lock).get("pid") == first.pid, "the first driver's lock")
        r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("experiment.py: error: run folder %s is in use by pid %d on "
                                   % (run_dir, first.pid)), r.stderr
        assert "tools/experiment.py syn tiny --smoke" in r.stderr
        assert "Traceback" not in r.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
