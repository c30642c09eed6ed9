"""Shared test fixtures.  The suite runs inside the Caffe environment
(``make test`` enters it through docker/run)."""
import atexit
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:             # so that racnn imports from this checkout
    sys.path.insert(0, _ROOT)

os.environ.setdefault("GLOG_minloglevel", "2")   # keep pycaffe quiet
os.environ.setdefault("MPLBACKEND", "Agg")

from racnn.paths import REPO, shared_dir  # noqa: E402
from tests.support import ahead  # noqa: E402

# the `caffe` binaries the tests start write glog files (<prog>.<host>.<user>.log.*)
# into /tmp unless told otherwise: into a folder of this session, removed at its end
# (and those of sessions that were killed, whose process is gone, at the next start)
if "GLOG_log_dir" not in os.environ:
    GLOG_DIR = os.path.join(REPO, "build", "test-glog", str(os.getpid()))
    os.makedirs(GLOG_DIR, exist_ok=True)
    for _old in os.listdir(os.path.dirname(GLOG_DIR)):
        if _old.isdigit() and not os.path.exists("/proc/%s" % _old):
            shutil.rmtree(os.path.join(os.path.dirname(GLOG_DIR), _old), True)
    os.chmod(GLOG_DIR, 0o1777)                 # tests also run programs unprivileged
    os.environ["GLOG_log_dir"] = GLOG_DIR
    atexit.register(shutil.rmtree, GLOG_DIR, True)


# ------------------------------------------------------------ wall time ---

#: `make test`'s budget: the whole suite on 2 cores, the Docker image tests included
MAKE_TEST_TARGET_S = 360
_STARTED = []


def pytest_sessionstart(session):
    _STARTED.append(time.time())


def _whole_suite(config):
    """Whether this run is the whole suite (`make test`: ``pytest tests``),
    not a part of it (other paths, -k, -m, --deselect)."""
    here = os.path.dirname(os.path.abspath(__file__))
    paths = [os.path.abspath(a.split("::")[0]) for a in config.args]
    return here in paths and not (config.option.keyword or config.option.markexpr or
                                  config.getoption("deselect", None))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line with the run's wall time, beside the target of `make test`."""
    seconds = time.time() - _STARTED[0]
    if _whole_suite(config):
        line = "make test: %.0f s (target: under %d s on 2 cores)" % (seconds, MAKE_TEST_TARGET_S)
    else:
        line = "tests: %.0f s for a part of the suite (`make test`, all of it: under %d s on 2 " \
            "cores)" % (seconds, MAKE_TEST_TARGET_S)
    terminalreporter.write_line(line)


@pytest.fixture(scope="session", autouse=True)
def _slow_runs_ahead(request, tmp_path_factory):
    """The slow runs the collected tests will need (the workflows' SMOKE
    runs: tests/workflows/conftest.py) start now, one after another, while
    the other tests go on (tests.support.ahead); stopped at the end."""
    ahead.start(request.session.items, tmp_path_factory)
    yield
    ahead.stop()


Unprivileged = collections.namedtuple("Unprivileged", "top prefix uid")


@pytest.fixture
def unprivileged():
    """``(top, prefix, uid)`` for running a program as an unprivileged user:
    ``top`` a fresh folder under /tmp that every user may enter (the
    checkout and pytest's tmp_path may be private to root); ``prefix`` the
    command prefix that drops to uid/gid 65534 when we are root (root writes
    anywhere), with ``uid`` 65534, or ``[]`` and None when we are not root.
    Skips when we are root without setpriv.  Afterwards every folder under
    ``top`` is made writable again, then ``top`` is deleted."""
    prefix, uid = [], None
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root, and no setpriv to drop privileges: permissions do not bite")
        uid = 65534
        prefix = ["setpriv", "--reuid", str(uid), "--regid", str(uid), "--clear-groups"]
    top = tempfile.mkdtemp(prefix="racnn-unprivileged-", dir="/tmp")
    try:
        os.chmod(top, 0o755)
        yield Unprivileged(top, prefix, uid)
    finally:
        for folder, subfolders, _ in os.walk(top):      # top-down: fixed before entered
            for name in subfolders:
                path = os.path.join(folder, name)
                if not os.path.islink(path):
                    os.chmod(path, os.stat(path).st_mode | 0o700)
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def shared():
    """Path of ../shared (real fixtures); skips the test when absent."""
    path = shared_dir()
    if path is None:
        pytest.skip("../shared (real dataset fixtures) is not beside this clone")
    return path


@pytest.fixture(scope="session")
def authors_sr_weights(shared):
    path = os.path.join(shared, "models", "rsrcnn_authors.caffemodel")
    if not os.path.isfile(path):
        pytest.skip("authors' SR weights not in ../shared/models")
    return path


# ---------------------------------------------------------- resize engine ---

@pytest.fixture(scope="module")
def lib():
    """The compiled resize library as this process loads it
    (RACNN_RESIZE=auto).  The environment has gcc: a missing library is a
    failure, not a skip."""
    from racnn.resize import compiled as cresize
    saved = os.environ.pop("RACNN_RESIZE", None)
    try:
        lib = cresize.load()
    finally:
        if saved is not None:
            os.environ["RACNN_RESIZE"] = saved
    assert lib is not None, "the compiled resize kernel did not load (see the RacnnWarning)"
    return lib


@pytest.fixture
def engine_env(monkeypatch):
    """``engine_env(name)`` sets RACNN_RESIZE for the rest of the test."""
    return lambda name: monkeypatch.setenv("RACNN_RESIZE", name)


@pytest.fixture(scope="session")
def checker():
    """A 30x40 0/255 checkerboard (uint8, read-only): its resized values are
    exact rounding ties, where the compiled engine (double) and the numpy one
    (float32) part."""
    import numpy as np
    board = (np.indices((30, 40)).sum(0) % 2 * 255).astype(np.uint8)
    board.flags.writeable = False
    return board


# ------------------------------------------------------- fresh processes ---

def _unchosen_env(**extra):
    """os.environ without what chooses the resize engine and where it is
    built (RACNN_RESIZE, RACNN_EXT_DIR, CC), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("RACNN_RESIZE", "RACNN_EXT_DIR", "CC")}
    env.update(extra)
    return env


def _fresh_python(code, env_extra, cwd=REPO, prefix=(), args=()):
    """``prefix python -c code args`` in a fresh process under
    ``_unchosen_env(**env_extra)``; the CompletedProcess, text output."""
    return subprocess.run(list(prefix) + [sys.executable, "-c", code] + list(args), cwd=cwd,
                          env=_unchosen_env(**env_extra),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120)


@pytest.fixture(scope="session")
def unchosen_env():
    """``unchosen_env(**extra)``: os.environ without RACNN_RESIZE,
    RACNN_EXT_DIR and CC, plus ``extra`` (for a subprocess)."""
    return _unchosen_env


@pytest.fixture(scope="session")
def fresh_python():
    """``fresh_python(code, env_extra, cwd=REPO, prefix=(), args=())``: run
    ``python -c code`` in a fresh process without the caller's engine choice
    (unchosen_env) plus ``env_extra``."""
    return _fresh_python
