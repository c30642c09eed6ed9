"""Where things live.  Every default path is relative to the repository root
and can be moved with an environment variable."""
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env_dir(var, default):
    return os.path.abspath(os.environ.get(var) or os.path.join(REPO, default))


#: datasets, databases and downloaded weights (git-ignored)
DATA_DIR = _env_dir("RACNN_DATA", "data")
#: one folder per experiment run (git-ignored)
RUNS_DIR = _env_dir("RACNN_RUNS", "runs")


def shared_dir():
    """The ``../shared`` folder of test fixtures beside the repository, or
    None when this clone has none (tests then skip with a reason)."""
    path = os.environ.get("RACNN_SHARED") or os.path.join(os.path.dirname(REPO), "shared")
    return path if os.path.isdir(path) else None
