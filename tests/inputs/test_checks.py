"""racnn.inputs.checks: a missing dataset or missing weights stop a run
before any work, naming what is missing, where it goes and the command that
fetches it (tools/experiment.py in a process of its own)."""
import os

from tests.support.commands import experiment as tool


def test_missing_dataset_names_it_where_it_goes_and_the_fetch_command(tmp_path):
    proc = tool(["cars", "alexnet"], tmp_path)
    assert proc.returncode == 2
    err = proc.stderr
    assert "dataset cars (Stanford Cars" in err and "is missing" in err
    assert str(tmp_path / "data") in err                     # where it must be put
    assert "python3 tools/fetch.py cars" in err              # the fetch command
    assert "Traceback" not in err
    runs = tmp_path / "runs"         # failed before any work: at most the run's lock file
    assert not runs.exists() or [n for n in os.listdir(str(runs)) if not n.startswith(".")] == []


def test_missing_imagenet_weights_name_the_model_and_fetch_command(tmp_path):
    from racnn.datasets import synthetic
    root = str(tmp_path / "syn")
    synthetic.generate(root, num_classes=2, train_per_class=2, test_per_class=1, size=32)
    proc = tool(["syn", "alexnet", "--format", "folder", "--data-root", root], tmp_path)
    assert proc.returncode == 2
    assert "bvlc_alexnet" in proc.stderr
    assert "docker/run python3 tools/fetch.py bvlc_alexnet" in proc.stderr   # as on the host
    assert "Or train without ImageNet weights: --backbone-weights none (fillers; make ... " \
        "BACKBONE_WEIGHTS=none)" in proc.stderr
    proc = tool(["syn", "tiny", "--format", "folder", "--data-root", root, "--sr-weights",
                 "authors"], tmp_path)
    assert proc.returncode == 2
    assert "rsrcnn_authors" in proc.stderr and "python3 tools/fetch.py rsrcnn_authors" \
        in proc.stderr
    proc = tool(["syn", "tiny", "--format", "folder", "--data-root", str(tmp_path / "nope")],
                tmp_path)
    assert proc.returncode == 2 and "dataset syn: %s does not exist" % (tmp_path / "nope") \
        in proc.stderr
    proc = tool(["syn", "tiny", "--data-root", root], tmp_path)
    assert proc.returncode == 2 and "unknown dataset 'syn'" in proc.stderr
