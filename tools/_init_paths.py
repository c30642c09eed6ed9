"""Imported first by every tool (the py-faster-rcnn convention): puts the
repository root on ``sys.path``, so ``racnn`` imports from a checkout without
being installed, and turns pycaffe's INFO lines off in the tool's own process
unless ``GLOG_minloglevel`` is set (Caffe children get their full log from
racnn.train.caffe_train)."""
import os
import shlex
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault("GLOG_minloglevel", "2")

# Outside the package's environment (e.g. the host's python3 instead of
# `docker/run python3 ...`), a tool would die on its first missing import with
# a traceback from deep inside racnn/; say what is wrong and what to type.
ENVIRONMENT_MODULES = {"caffe", "cv2", "google", "lmdb", "matplotlib", "numpy", "scipy",
                       "tqdm", "PIL"}


def _outside_environment(kind, exc, tb, _default=sys.excepthook):
    name = (getattr(exc, "name", None) or "").split(".")[0]
    if issubclass(kind, ModuleNotFoundError) and name in ENVIRONMENT_MODULES:
        tool = os.path.relpath(os.path.abspath(sys.argv[0]))
        sys.stderr.write(
            "%s: error: the Python module '%s' is missing: this python3 (%s) is not the "
            "package's Caffe environment. Run the tool in it:\n  docker/run python3 %s%s\n"
            "(or `make shell` for a shell inside it; README, \"Set up and run\")\n"
            % (os.path.basename(tool), name, sys.executable, tool,
               "".join(" " + shlex.quote(a) for a in sys.argv[1:])))
        sys.exit(2)
    _default(kind, exc, tb)


sys.excepthook = _outside_environment
