"""Frictions a new user hit (issue 15, item 11): the demo's per-class table
renders its bold mean in Markdown; evaluation blocks say how many classes
have test images; a tool started with a python3 outside the environment says
so instead of a traceback from racnn/."""
import csv
import os
import re
import subprocess
import sys

from racnn.demo import run as demo


def test_per_class_markdown_bold_has_no_inner_space(tmp_path):
    record = {"results": {}}
    for name, accs in (("cnn", (0.25, 0.5)), ("racnn_g", (1.0, None))):
        d = tmp_path / name / "eval"
        os.makedirs(str(d))
        with open(str(d / "per_class.csv"), "w") as fh:
            w = csv.writer(fh)
            w.writerow(["class", "name", "images", "correct", "accuracy"])
            for cls, acc in enumerate(accs):
                w.writerow([cls, "c%d" % cls, 4, 0, "" if acc is None else acc])
        record["results"][name] = {"eval_dir": str(d), "mean_class_accuracy": accs[0]}
    md, path = demo.per_class_table(str(tmp_path), record)
    last = md.splitlines()[-1]
    assert last.startswith("| **mean class accuracy** | ")
    assert last.endswith(" | **25.0** | **100.0** |")
    assert not re.search(r"\*\*\s+\d", md)          # "** 25.0**" is not bold in Markdown
    assert "|  25.0 |" in md.splitlines()[2] and "n/a" in md.splitlines()[3]
    assert open(path).read() == md


def test_evaluation_block_says_how_many_classes_have_test_images():
    import numpy as np
    from racnn.eval.cli import block
    from racnn.eval.metrics import metrics_from_scores
    labels = np.repeat(np.arange(24), 2)                 # 24 of 50 classes have images
    scores = np.eye(50)[labels]
    m = metrics_from_scores(scores, labels)
    text = block(m, "racnn_g, iteration 4")
    assert text.splitlines()[0] == \
        "racnn_g, iteration 4: 48 images; 24 of 50 classes have test images"
    assert "mean class accuracy 100.00 %" in text and "(24 with images)" not in text


def test_tool_outside_the_environment_says_where_to_run_it(tmp_path):
    """The host's python3 lacks the environment's modules (here: tqdm hidden
    by a sitecustomize); every tool then stops with one message and the
    docker/run command, exit 2, no traceback."""
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['tqdm'] = None\n")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    proc = subprocess.run([sys.executable, "tools/experiment.py", "cars", "alexnet",
                           "--set", "stage2_epochs=2"], cwd=repo, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    assert proc.returncode == 2, proc.stderr
    assert "experiment.py: error: the Python module 'tqdm' is missing" in proc.stderr
    assert "docker/run python3 tools/experiment.py cars alexnet --set stage2_epochs=2\n" \
        in proc.stderr
    assert "Traceback" not in proc.stderr
    # a module of our own that fails is still a traceback (a bug to see)
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['racnn.cli'] = None\n")
    proc = subprocess.run([sys.executable, "tools/experiment.py", "--help"], cwd=repo, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    assert proc.returncode == 1 and "Traceback" in proc.stderr
