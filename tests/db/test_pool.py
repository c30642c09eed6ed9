"""racnn.db.pool: the ordered worker pool returns results in order and
intact, and a build whose worker is killed (a real ``kill -9``) stops within
seconds, leaving nothing (a case of issue 14, item 7)."""
import os
import signal
import subprocess
import time

import pytest

from racnn.paths import REPO
from tests.support import builds


class _Payload(object):
    """Picklable: item i -> ("ok", big bytes of i, [small bytes, big bytes], i)."""

    def __call__(self, i):
        big = bytes([i % 256]) * (70000 + 1000 * (i % 5))
        return ("ok", big, [b"small", big[::-1]], i)


@pytest.mark.parametrize("workers,item_bytes", [(1, 0), (2, 0), (2, 2 * 150000), (3, 50000)])
def test_ordered_map_order_and_transport(workers, item_bytes):
    """Results come back in order and intact through pipes, shared memory,
    and (slot too small for a chunk) both."""
    from racnn.db.pool import ordered_map
    f = _Payload()
    got = list(ordered_map(f, range(45), workers, chunk=4, inflight=2, item_bytes=item_bytes))
    assert got == [f(i) for i in range(45)]


def _children(pid):
    """Pids of the processes whose parent is ``pid``."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _workers(proc, want, deadline):
    """Pids of ``want`` forked workers of ``proc`` (same command line)."""
    me = _cmdline(proc.pid)
    while time.time() < deadline and proc.poll() is None:
        found = [p for p in _children(proc.pid) if _cmdline(p) == me]
        if len(found) >= want:
            return found
        time.sleep(0.02)
    return []


def test_build_stops_when_a_worker_is_killed(tmp_path):
    root = builds.folder(tmp_path / "big", per_class=150, shape=(200, 240, 3))
    out = tmp_path / "db"
    args = ["--dataset", "folder", "--root", root, "--split", "all", "--res", "50",
            "--out", str(out), "--workers", "2"]
    # a session of its own: should the build hang, its whole group is killed
    # (the surviving workers hold the output pipes open)
    proc = subprocess.Popen(builds.TOOL + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, start_new_session=True)
    try:
        workers = _workers(proc, 2, time.time() + 60)
        assert workers, "the build never started its workers"
        os.kill(workers[0], signal.SIGKILL)
        killed = time.time()
        _, err = proc.communicate(timeout=30)
        took = time.time() - killed
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 2, err
    assert "worker process %d died (killed by SIGKILL)" % workers[0] in err
    assert "Traceback" not in err and took < 15
    assert not out.exists() and builds.leftovers(tmp_path, "db") == []


def _die_on_zero(i):
    if i == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return i


def _slow_items():
    yield 0
    time.sleep(1.5)             # the worker given item 0 dies meanwhile
    yield from range(1, 10)


def test_a_worker_dead_before_the_next_submission_is_named():
    """A worker that dies while the items are still being handed out breaks
    the pool before any result is read: the next submission, not a result,
    notices (seen under load in test_build_stops_when_a_worker_is_killed:
    a BrokenProcessPool traceback instead of the message)."""
    from racnn.db.pool import ordered_map
    from racnn.errors import RacnnError
    with pytest.raises(RacnnError, match=r"worker process \d+ died \(killed by SIGKILL\)"):
        list(ordered_map(_die_on_zero, _slow_items(), 2, chunk=1, inflight=2))
