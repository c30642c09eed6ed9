"""tools/_init_paths.py: a tool started with a python3 outside the
environment says so instead of a traceback from racnn/ (a friction a new
user hit: issue 15, item 11)."""
import os
import subprocess
import sys

from racnn.paths import REPO


def test_tool_outside_the_environment_says_where_to_run_it(tmp_path):
    """The host's python3 lacks the environment's modules (here: tqdm hidden
    by a sitecustomize); every tool then stops with one message and the
    docker/run command, exit 2, no traceback."""
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['tqdm'] = None\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run([sys.executable, "tools/experiment.py", "cars", "alexnet",
                           "--set", "stage2_epochs=2"], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    assert proc.returncode == 2, proc.stderr
    assert "experiment.py: error: the Python module 'tqdm' is missing" in proc.stderr
    assert "docker/run python3 tools/experiment.py cars alexnet --set stage2_epochs=2\n" \
        in proc.stderr
    assert "Traceback" not in proc.stderr
    # a module of our own that fails is still a traceback (a bug to see)
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['racnn.cli'] = None\n")
    proc = subprocess.run([sys.executable, "tools/experiment.py", "--help"], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    assert proc.returncode == 1 and "Traceback" in proc.stderr
