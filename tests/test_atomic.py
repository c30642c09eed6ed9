"""racnn.atomic: outputs are written under a temporary name and renamed into
place.  Attacked for real: a full disk (a real tmpfs), a database build
killed with ``kill -9`` half-way, the umask.  The builds run
tools/build_lmdb.py in a process of its own (tests.support.builds); the
cases came from issue 14 (items 13, 17, 18)."""
import os
import signal
import subprocess
import time

import pytest

from racnn import atomic
from racnn.paths import REPO
from tests.support import builds


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs mounted on a fresh folder (root only), unmounted after."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (%s): the full-disk attack needs root"
                    % r.stderr.strip())
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


def test_a_full_disk_is_named_and_leaves_nothing(tmp_path, small_disk):
    root = builds.folder(tmp_path / "data", per_class=40)
    out = small_disk / "db"
    r = builds.build(root, out, "--size", "96")           # 80 x 27 kB raw datums > 2 MiB
    assert r.returncode == 2, r.stdout + r.stderr
    assert "no space left on the device holding %s" % small_disk in r.stderr
    assert "Traceback" not in r.stderr
    assert os.listdir(str(small_disk)) in ([], [".db.lock"])        # no partial left
    # every atomic output (evaluation folders, run-folder files) says the same
    from racnn.errors import RacnnError
    with pytest.raises(RacnnError, match="no space left on the device holding %s"
                       % small_disk):
        atomic.write_text(str(small_disk / "big.txt"), "x" * (3 << 20))
    with pytest.raises(RacnnError, match="no space left on the device holding %s"
                       % small_disk):
        with atomic.atomic_dir(str(small_disk / "eval")) as tmp:
            with open(os.path.join(tmp, "scores.npy"), "wb") as fh:
                fh.write(b"\0" * (3 << 20))
    assert os.listdir(str(small_disk)) in ([], [".db.lock"])


def test_the_stale_partial_of_a_killed_build_is_removed(tmp_path):
    root = builds.folder(tmp_path / "big", per_class=150, shape=(200, 240, 3))
    out = tmp_path / "db"
    proc = subprocess.Popen(builds.TOOL + ["--dataset", "folder", "--root", root, "--split", "all",
                                    "--res", "50", "--out", str(out), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            partial = [f for f in builds.leftovers(tmp_path, "db") if f.endswith(".partial")]
            if partial and os.path.isfile(os.path.join(str(tmp_path), partial[0], "data.mdb")):
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)               # no chance to clean up
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stale = [f for f in builds.leftovers(tmp_path, "db") if f.endswith(".partial")]
    assert len(stale) == 1 and ".pid%d@" % proc.pid in stale[0]
    # a partial of a live process (this one) is someone's work in progress: kept
    live = tmp_path / (".db" + atomic._owner_tag() + "abcdefgh.partial")
    live.mkdir()
    r = builds.build(root, out, "--limit", "4")
    assert r.returncode == 0, r.stderr
    assert sorted(builds.leftovers(tmp_path, "db")) == [live.name]


def _mode(path):
    return os.stat(str(path)).st_mode & 0o777


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_file_modes_follow_the_umask(tmp_path, mask):
    root = builds.folder(tmp_path / "data", per_class=1)
    out = tmp_path / "db"
    r = builds.build(root, out, preexec_fn=lambda: os.umask(mask))
    assert r.returncode == 0, r.stderr
    assert _mode(out) == 0o777 & ~mask
    for f in os.listdir(str(out)):
        assert _mode(out / f) == 0o666 & ~mask, f
    saved = os.umask(mask)
    try:                  # what the run folder's files are written with
        atomic.write_text(str(tmp_path / "run" / "config.json"), "{}\n")
        with atomic.atomic_path(str(tmp_path / "run" / "init.caffemodel")) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(b"x")
        with atomic.atomic_dir(str(tmp_path / "run" / "eval")) as tmp:
            with open(os.path.join(tmp, "metrics.json"), "w") as fh:
                fh.write("{}")
    finally:
        os.umask(saved)
    for f in ("config.json", "init.caffemodel", "eval/metrics.json"):
        assert _mode(tmp_path / "run" / f) == 0o666 & ~mask, f
    assert _mode(tmp_path / "run" / "eval") == 0o777 & ~mask
