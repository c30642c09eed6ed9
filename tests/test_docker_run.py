"""docker/run's own behaviour: direct execution inside the environment and the
one-line messages for missing prerequisites.  (The rootfs build itself is
exercised by every `make test` on a fresh machine.)"""
import os
import shutil
import subprocess

from racnn.paths import REPO

RUN = os.path.join(REPO, "docker", "run")


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
