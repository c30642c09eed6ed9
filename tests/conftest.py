"""Shared test fixtures.  The suite runs inside the Caffe environment
(``make test`` enters it through docker/run)."""
import os
import sys

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:             # so that racnn imports from this checkout
    sys.path.insert(0, _ROOT)

os.environ.setdefault("GLOG_minloglevel", "2")   # keep pycaffe quiet
os.environ.setdefault("MPLBACKEND", "Agg")

from racnn.paths import REPO, shared_dir  # noqa: E402


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
