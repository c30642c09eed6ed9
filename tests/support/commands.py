"""Running the repository's tools as a user does: ``python3 tools/X.py ...``
from the repository root, in a process of its own, text output."""
import os
import subprocess
import sys

from racnn.paths import REPO


def python(*args, merge=False, **kw):
    """``python3 ARGS`` in the repository root (``args[0]``: a tool such as
    tools/make_nets.py, or ``-c``/``-m``); stderr apart, or into stdout
    with ``merge``."""
    return subprocess.run([sys.executable] + list(args), cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT if merge else subprocess.PIPE,
                          universal_newlines=True, **kw)


def data_env(tmp_path, **extra):
    """os.environ with data/ and runs/ in folders of ``tmp_path`` (RACNN_DATA,
    RACNN_RUNS), plus ``extra``."""
    env = dict(os.environ, RACNN_DATA=str(tmp_path / "data"), RACNN_RUNS=str(tmp_path / "runs"))
    env.update(extra)
    return env


def experiment(args, tmp_path, **env):
    """tools/experiment.py ARGS in a clean data/runs tree under ``tmp_path``."""
    return python("tools/experiment.py", *args, env=data_env(tmp_path, **env))


def eval_per_class(*args):
    """tools/eval_per_class.py ARGS."""
    return python("tools/eval_per_class.py", *args, timeout=300)


def sweep(env, *args):
    """tools/sweep.py ARGS under ``env``."""
    return python("tools/sweep.py", *args, env=env)


def make_n(*args, **env):
    """``make -n ARGS`` (what make would run) with CI unset plus ``env``; its
    output, after checking that make accepted the target."""
    e = {k: v for k, v in os.environ.items() if k != "CI"}
    e.update(env)
    run = subprocess.run(["make", "-n"] + list(args), cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, env=e)
    assert run.returncode == 0, run.stdout
    return run.stdout
