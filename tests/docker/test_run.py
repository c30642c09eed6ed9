"""docker/run's own behaviour: direct execution inside the environment, the
one-line messages for missing prerequisites, and docker/run under attack
(cases of issue 14, items 8-10): stopping the wrapper stops the work, a disk
mounted under the checkout is the same disk inside, and a path outside the
mounted folders does not vanish.  (The rootfs build itself is exercised by
every `make test` on a fresh machine.)

The attacks drive the rootfs backend from inside the environment with a
cache whose rootfs is this environment itself (a link to /): docker/run then
does everything it does on a host (private mount namespace, binds, chroot),
for real, without a second debootstrap."""
import hashlib
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from racnn.paths import REPO

RUN = os.path.join(REPO, "docker", "run")
#: the attacks need what the rootfs backend needs on a host
rootfs_backend = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                                    reason="the rootfs backend needs root and unshare")


def _run(args, env_extra=None, path=None):
    env = {"PATH": path or os.environ["PATH"], "HOME": "/root"}
    env.update(env_extra or {})
    return subprocess.run([RUN] + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=60)


def test_inside_the_environment_runs_the_command_from_the_repo_root():
    res = _run(["sh", "-c", "pwd; echo $0", "arg0"], path="/usr/bin:/bin")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == os.path.realpath(REPO)


def test_exit_status_of_the_command_is_passed_on():
    assert _run(["sh", "-c", "exit 7"]).returncode == 7


def test_usage_without_a_command():
    res = _run([])
    assert res.returncode == 2 and "usage: docker/run CMD" in res.stderr


def _outside(tmp_path, **extra):
    env = {"RACNN_ENV_MARKER": str(tmp_path / "no-marker"), "RACNN_BACKEND": "rootfs",
           "RACNN_CACHE": str(tmp_path / "cache")}
    env.update(extra)
    return env


def test_unknown_backend_is_named(tmp_path):
    res = _run(["true"], _outside(tmp_path, RACNN_BACKEND="podman"))
    assert res.returncode == 2
    assert "RACNN_BACKEND must be docker or rootfs, not 'podman'" in res.stderr


def test_rootfs_without_root_says_what_to_do(unprivileged):
    # A copy of docker/run in a folder an unprivileged user can reach, run as one.
    top = unprivileged.top
    os.makedirs(os.path.join(top, "repo", "docker"))
    for name in ("run", "provision.sh"):
        shutil.copy2(os.path.join(REPO, "docker", name), os.path.join(top, "repo", "docker", name))
    env = {"RACNN_ENV_MARKER": os.path.join(top, "no-marker"), "RACNN_BACKEND": "rootfs",
           "RACNN_CACHE": os.path.join(top, "cache")}
    res = subprocess.run(
        unprivileged.prefix + [os.path.join(top, "repo", "docker", "run"), "true"],
        env=dict(env, PATH=os.environ["PATH"], HOME="/nonexistent"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert "needs root" in res.stderr and "sudo docker/run true" in res.stderr
    assert "Traceback" not in res.stderr and res.stderr.count("docker/run:") == 1


def test_no_debootstrap_and_no_apt_get_says_what_is_missing(tmp_path):
    # A PATH with the basic tools docker/run uses, but no debootstrap nor apt-get.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ["bash", "sh", "id", "sha256sum", "grep", "cut", "mkdir", "flock", "dirname",
                 "unshare", "cat", "rm", "find", "basename", "env"]:
        found = shutil.which(tool)
        if found:
            os.symlink(found, str(bindir / tool))
    res = _run(["true"], _outside(tmp_path), path=str(bindir))
    assert res.returncode == 2, res.stderr
    assert "debootstrap is missing and there is no apt-get" in res.stderr
    assert not list((tmp_path / "cache").glob("rootfs-*")), "no half-built cache may remain"


# ------------------------------------------------------ under attack

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


@rootfs_backend
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


@rootfs_backend
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_to_docker_run_reaches_the_command(outside, tmp_path, sig):
    """kill -TERM of docker/run once left the command running under PID 1 (item 8)."""
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


@rootfs_backend
def test_a_disk_mounted_under_the_checkout_is_the_same_disk_inside(outside, tmp_path):
    """With a disk mounted at data/bigdisk, writes inside once went to the
    folder underneath it (the bind mount of the checkout was not recursive;
    item 9)."""
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


@rootfs_backend
def test_a_path_outside_the_checkout_is_mounted_under_docker(tmp_path):
    """`docker/run ... --out /tmp/x` once printed 'written: /tmp/x' and
    nothing was there afterwards (only the checkout and ../shared were
    mounted; item 10)."""
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


# ------------------------------------------- symbolic links to other disks
@pytest.fixture
def elsewhere_root():
    """A folder outside the checkout, ../shared and /tmp (which the rootfs
    binds whole): where another disk would be mounted."""
    os.makedirs("/srv", exist_ok=True)
    top = tempfile.mkdtemp(prefix="racnn-links-", dir="/srv")
    yield pathlib.Path(top)
    shutil.rmtree(top, ignore_errors=True)


def _linked_dataset(tmp_path, elsewhere_root):
    """data/datasets/x/images -> a folder elsewhere (another disk, say)."""
    elsewhere = elsewhere_root / "photos"
    elsewhere.mkdir(parents=True)
    (elsewhere / "a.jpg").write_text("jpeg")
    data = tmp_path / "data"
    (data / "datasets" / "x").mkdir(parents=True)
    os.symlink(str(elsewhere), str(data / "datasets" / "x" / "images"))
    return data, elsewhere


@rootfs_backend
def test_the_targets_of_symlinks_under_data_are_mounted(outside, tmp_path, elsewhere_root):
    """An official-layout images/ that links to a folder elsewhere was invisible
    inside ('1500 of 1500 images ... are missing'): docker/run mounts the
    link's target at its own place, for the rootfs as for Docker."""
    data, elsewhere = _linked_dataset(tmp_path, elsewhere_root)
    env = dict(outside, RACNN_DATA=str(data), RACNN_SHOW_MOUNTS="1")
    res = subprocess.run([RUN, "true"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "docker/run: mounting %s" % elsewhere in res.stderr
    assert "docker/run: mounting %s" % data not in res.stderr       # under /tmp: bound whole
    # a folder named on the command line is searched for links too
    other = tmp_path / "mine"
    other.mkdir()
    os.symlink(str(elsewhere), str(other / "images"))
    res = subprocess.run([RUN, "true", "--data-root", str(other)],
                         env=dict(outside, RACNN_SHOW_MOUNTS="1"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, timeout=60)
    assert "docker/run: mounting %s" % elsewhere in res.stderr, res.stderr


def test_a_symlinked_images_folder_is_readable_through_docker(tmp_path):
    why = _docker_ready()
    if why:
        pytest.skip(why)
    # under /tmp, which this environment shares with the host the engine runs on
    data, elsewhere = _linked_dataset(tmp_path, tmp_path / "elsewhere")
    env = dict(os.environ, RACNN_ENV_MARKER=str(tmp_path / "no-marker"), RACNN_BACKEND="docker",
               RACNN_DATA=str(data))
    res = subprocess.run([RUN, "cat", str(data / "datasets" / "x" / "images" / "a.jpg")],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=300)
    assert res.returncode == 0 and res.stdout == "jpeg", res.stderr


def test_a_link_whose_target_is_not_here_is_named(tmp_path):
    """Inside the environment the missing-images message says that a link on
    the way points to a place this environment cannot see."""
    from racnn import datasets
    from racnn.errors import RacnnError
    root = tmp_path / "tree"
    (root / "cls").mkdir(parents=True)
    (root / "train.txt").write_text("cls/1.jpg\n")
    (root / "cls" / "x").mkdir()
    os.rmdir(str(root / "cls" / "x"))
    os.rmdir(str(root / "cls"))
    os.symlink("/srv/not/here/cls", str(root / "cls"))
    with pytest.raises(RacnnError) as err:
        datasets.load("folder", str(root), "train")
    assert "%s is a symbolic link to /srv/not/here/cls, which does not exist here" % (
        root / "cls") in str(err.value)
