"""docker/run under attack (issue 14, items 8-10): stopping the wrapper stops
the work, a disk mounted under the checkout is the same disk inside, and a
path outside the mounted folders does not vanish.

The rootfs backend is driven from inside the environment with a cache whose
rootfs is this environment itself (a link to /): docker/run then does
everything it does on a host (private mount namespace, binds, chroot), for
real, without a second debootstrap."""
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from racnn.paths import REPO

RUN = os.path.join(REPO, "docker", "run")
if os.geteuid() != 0 or not shutil.which("unshare"):
    pytest.skip("the rootfs backend needs root and unshare", allow_module_level=True)


def _provision_hash():
    with open(os.path.join(REPO, "docker", "provision.sh"), "rb") as fh:
        lines = [l for l in fh.read().split(b"\n")]
    # docker/run: grep -v '^[[:space:]]*#' | sha256sum | cut -c1-12
    kept = b"".join(l + b"\n" for l in lines if not re.match(rb"^\s*#", l))
    if not lines[-1]:                         # grep adds no line for the final ""
        kept = kept[:-1]
    return hashlib.sha256(kept).hexdigest()[:12]


@pytest.fixture
def outside(tmp_path):
    """The environment docker/run sees from a host: no marker, the rootfs
    backend, and a cache whose rootfs is this environment."""
    cache = tmp_path / "cache"
    cache.mkdir()
    os.symlink("/", str(cache / ("rootfs-bullseye-" + _provision_hash())))
    return dict(os.environ, RACNN_ENV_MARKER=str(tmp_path / "no-marker"),
                RACNN_BACKEND="rootfs", RACNN_CACHE=str(cache))


def test_the_fixture_enters_through_the_rootfs_path(outside):
    res = subprocess.run([RUN, "sh", "-c", "cat /proc/self/mountinfo | wc -l"], env=outside,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "building the Caffe environment" not in res.stderr        # the linked rootfs was used


SLEEPER = """
import os, signal, sys, time
out = sys.argv[1]
def stop(sig, frame):
    with open(out + ".signal", "w") as fh:
        fh.write(signal.Signals(sig).name)
    sys.exit(0)
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, stop)
with open(out + ".pid", "w") as fh:
    fh.write(str(os.getpid()))
time.sleep(120)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_to_docker_run_reaches_the_command(outside, tmp_path, sig):
    """Item 8: kill -TERM of docker/run left the command running under PID 1."""
    out = str(tmp_path / "sleeper")
    proc = subprocess.Popen([RUN, sys.executable, "-c", SLEEPER, out], env=outside)
    try:
        deadline = time.time() + 30
        while not os.path.exists(out + ".pid") and time.time() < deadline:
            time.sleep(0.1)
        assert os.path.exists(out + ".pid"), "the command did not start"
        with open(out + ".pid") as fh:
            pid = int(fh.read())
        proc.send_signal(sig)
        assert proc.wait(timeout=20) == 0
        with open(out + ".signal") as fh:
            assert fh.read() == sig.name                  # the command got it, and stopped
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)                               # nothing left behind
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_disk_mounted_under_the_checkout_is_the_same_disk_inside(outside, tmp_path):
    """Item 9: with a disk mounted at data/bigdisk, writes inside went to the
    folder underneath it (the bind mount of the checkout was not recursive)."""
    mnt = os.path.join(REPO, "build", "test-mount-%d" % os.getpid())
    os.makedirs(mnt)
    try:
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt])
        if res.returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        try:
            rel = os.path.relpath(mnt, REPO)
            res = subprocess.run([RUN, "sh", "-c", "echo inside > %s/f" % rel], env=outside,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 universal_newlines=True, timeout=60)
            assert res.returncode == 0, res.stderr
            with open(os.path.join(mnt, "f")) as fh:        # on the mounted disk
                assert fh.read() == "inside\n"
        finally:
            subprocess.run(["umount", mnt])
        assert not os.path.exists(os.path.join(mnt, "f"))    # not in the folder underneath
    finally:
        shutil.rmtree(mnt, ignore_errors=True)


def _docker_ready():
    if not shutil.which("docker"):
        return "no docker client here (the environment has none; docker/run is run from a host)"
    if subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        return "no Docker engine answers (docker/engine.sh starts one)"
    if subprocess.run(["docker", "image", "inspect", "racnn-caffe"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        return "the engine has no image racnn-caffe (docker/engine.sh builds it)"
    return None


def test_a_path_outside_the_checkout_is_mounted_under_docker(tmp_path):
    """Item 10: `docker/run ... --out /tmp/x` printed 'written: /tmp/x' and
    nothing was there afterwards (only the checkout and ../shared were mounted)."""
    why = _docker_ready()
    if why:
        pytest.skip(why)
    target = tmp_path / "outside" / "new" / "result.txt"
    (tmp_path / "outside").mkdir()
    env = dict(os.environ, RACNN_ENV_MARKER=str(tmp_path / "no-marker"), RACNN_BACKEND="docker")
    res = subprocess.run([RUN, "sh", "-c", 'mkdir -p "$(dirname "$0")" && echo kept > "$0"',
                          str(target)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert target.read_text() == "kept\n"
    res = subprocess.run([RUN, "python3", "tools/eval_per_class.py", "--from-scores",
                          str(tmp_path / "none"), "--out=%s" % (tmp_path / "outside" / "e")],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=300)
    # the tool runs and names the missing input by its host path (the folder was mounted)
    assert res.returncode == 2 and str(tmp_path / "none") in res.stderr, res.stderr
