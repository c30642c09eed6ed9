"""Issue 14, database builds attacked: --overwrite pointed at a dataset
(item 4), a worker killed (item 7), a decompression bomb (item 11), a full
disk (item 13), very long multi-byte paths (item 16), the partial output of
a killed build (item 17), file modes (item 18).  The real tool runs in a
process of its own; kills are real ``kill -9``, the full disk a real tmpfs."""
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest

from racnn import atomic
from racnn.db import lmdbio
from racnn.paths import REPO

TOOL = [sys.executable, "tools/build_lmdb.py"]


def _png(path, seed=0, shape=(32, 40, 3)):
    from PIL import Image
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.random.RandomState(seed).randint(0, 256, shape).astype(np.uint8)).save(
        path)


def _folder(root, per_class=3, shape=(32, 40, 3), classes=("a", "b")):
    for k, cls in enumerate(classes):
        for i in range(per_class):
            _png(os.path.join(str(root), cls, "%04d.png" % i), seed=k * 1000 + i, shape=shape)
    return str(root)


def build(root, out, *extra, **kw):
    args = ["--dataset", "folder", "--root", str(root), "--split", "all", "--res", "8",
            "--size", "16", "--out", str(out), "--workers", "1"] + list(extra)
    return subprocess.run(TOOL + args, capture_output=True, text=True, cwd=REPO, timeout=300,
                          **kw)


def leftovers(folder, name):
    """Entries of ``folder`` that belong to output ``name`` other than itself
    (partials, old copies)."""
    return [f for f in os.listdir(str(folder)) if f.startswith("." + name)
            and not f.endswith(".lock")]


def test_item04_overwrite_refuses_a_folder_that_is_not_a_database(tmp_path):
    root = _folder(tmp_path / "mydata")
    with open(os.path.join(root, "notes.txt"), "w") as fh:
        fh.write("my notes\n")
    before = sorted(os.path.relpath(os.path.join(d, f), root)
                    for d, _, fs in os.walk(root) for f in fs)
    r = build(root, root, "--overwrite")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "%s is not a racnn database (no manifest.json)" % root in r.stderr
    assert "nothing was deleted" in r.stderr
    after = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root)
                   for f in fs)
    assert after == before and len(after) == 7
    # a database of ours is replaced
    out = tmp_path / "db"
    assert build(root, out).returncode == 0
    created = json.load(open(str(out / "manifest.json")))["created"]
    r = build(root, out, "--overwrite", "--seed", "3")
    assert r.returncode == 0, r.stderr
    m = json.load(open(str(out / "manifest.json")))
    assert m["seed"] == 3 and m["count"] == 6 and created <= m["created"]


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


def test_item07_killed_worker_fails_the_build_within_seconds(tmp_path):
    root = _folder(tmp_path / "big", per_class=150, shape=(200, 240, 3))
    out = tmp_path / "db"
    args = ["--dataset", "folder", "--root", root, "--split", "all", "--res", "50",
            "--out", str(out), "--workers", "2"]
    # a session of its own: should the build hang, its whole group is killed
    # (the surviving workers hold the output pipes open)
    proc = subprocess.Popen(TOOL + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
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
    assert not out.exists() and leftovers(tmp_path, "db") == []


def _bomb_png(path, width=15000, height=15000):
    """A PNG whose header says ``width`` x ``height`` (225 Mpx: Pillow's
    DecompressionBombError) with a few bytes of data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                                   8, 2, 0, 0, 0))
                 + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_item11_decompression_bomb_is_a_bad_image(tmp_path):
    root = _folder(tmp_path / "data")
    _bomb_png(os.path.join(root, "a", "bomb.png"))
    out = tmp_path / "db"
    r = build(root, out)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "bomb.png is 15000x15000 = 225000000 pixels, more than the limit of 100000000 " \
        "(--max-pixels)" in r.stderr and not out.exists()
    r = build(root, out, "--skip-bad")
    assert r.returncode == 0, r.stderr
    m = json.load(open(str(out / "manifest.json")))
    assert m["count"] == 6 and m["skipped_bad"] == 1 and "bomb.png" in m["skipped_files"][0]
    # the limit is an option: a 40x32 image is over 1000 pixels
    r = build(root, tmp_path / "db2", "--max-pixels", "1000")
    assert r.returncode == 2
    assert "is 40x32 = 1280 pixels, more than the limit of 1000 (--max-pixels)" in r.stderr


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


def test_item13_full_disk_says_so_and_leaves_nothing(tmp_path, small_disk):
    root = _folder(tmp_path / "data", per_class=40)
    out = small_disk / "db"
    r = build(root, out, "--size", "96")           # 80 x 27 kB raw datums > 2 MiB
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


def test_item16_long_multibyte_paths_make_short_unique_keys(tmp_path):
    root = tmp_path / "data"
    deep = os.path.join("語" * 30, "語" * 80)
    names = ["語" * 78 + ".png", "x" + "語" * 77 + ".png"]       # ~190 characters, ~570 bytes
    for i, name in enumerate(names):
        _png(os.path.join(str(root), deep, name), seed=i)
    rel = os.path.join(deep, names[0])
    assert len(rel) > 185 and len(rel.encode("utf-8")) > 511
    out = tmp_path / "db"
    r = subprocess.run(TOOL + ["--dataset", "folder", "--root", str(root), "--split", "all",
                               "--res", "8", "--size", "16", "--out", str(out), "--workers", "1"],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr
    import lmdb
    env = lmdb.open(str(out), readonly=True, lock=False)
    with env.begin() as txn:
        keys = [k for k, _ in txn.cursor()]
    env.close()
    assert len(keys) == 2 and len(set(keys)) == 2
    for k in keys:
        assert len(k) <= 8 + 1 + lmdbio.IDENT_BYTES
        k.decode("utf-8")                                   # cut at a character boundary
        assert k.endswith("語.png".encode("utf-8"))


def test_item17_stale_partial_of_a_killed_build_is_removed(tmp_path):
    root = _folder(tmp_path / "big", per_class=150, shape=(200, 240, 3))
    out = tmp_path / "db"
    proc = subprocess.Popen(TOOL + ["--dataset", "folder", "--root", root, "--split", "all",
                                    "--res", "50", "--out", str(out), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            partial = [f for f in leftovers(tmp_path, "db") if f.endswith(".partial")]
            if partial and os.path.isfile(os.path.join(str(tmp_path), partial[0], "data.mdb")):
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)               # no chance to clean up
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stale = [f for f in leftovers(tmp_path, "db") if f.endswith(".partial")]
    assert len(stale) == 1 and ".pid%d@" % proc.pid in stale[0]
    # a partial of a live process (this one) is someone's work in progress: kept
    live = tmp_path / (".db" + atomic._owner_tag() + "abcdefgh.partial")
    live.mkdir()
    r = build(root, out, "--limit", "4")
    assert r.returncode == 0, r.stderr
    assert sorted(leftovers(tmp_path, "db")) == [live.name]


def _mode(path):
    return os.stat(str(path)).st_mode & 0o777


@pytest.mark.parametrize("mask", [0o022, 0o002])
def test_item18_modes_follow_the_umask(tmp_path, mask):
    root = _folder(tmp_path / "data", per_class=1)
    out = tmp_path / "db"
    r = build(root, out, preexec_fn=lambda: os.umask(mask))
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
