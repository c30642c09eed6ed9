"""Fixtures of the training tests."""
import sys

import pytest

from racnn.rundir import settings
from racnn.train.net_sources import classifier_sources
from tests.support import ahead, workflows
from tests.support.commands import data_env


@pytest.fixture
def committed():
    """``committed(variant="racnn_p")``: the configuration of birds-alexnet
    and the committed net and solver a stage of ``variant`` copies."""
    def sources(variant="racnn_p"):
        cfg = settings.make_config("birds", "alexnet")
        return cfg, classifier_sources(cfg, variant, None, None)
    return sources


@ahead.recipe("release_g_run")
def _release_g_run(tmp_path_factory):
    from racnn.datasets import synthetic
    tmp = tmp_path_factory.mktemp("release_g")
    root = str(tmp / "syn")
    synthetic.generate(root, num_classes=2, train_per_class=4, test_per_class=2)
    return tmp, ahead.Run([sys.executable, "tools/experiment.py", "syn", "tiny", "--format",
                           "folder", "--data-root", root, "--smoke", "--variants", "racnn_g",
                           "--backbone-weights", "none", "--mults", "release", "--set",
                           "sr_size=72", "--set", "sr_patch=24", "--set", "sr_stride=24"],
                          data_env(tmp))


@pytest.fixture(scope="session")
def release_g_run(tmp_path_factory):
    """`tools/experiment.py syn tiny --smoke --variants racnn_g --mults
    release` on a small synthetic dataset without backbone weights (stage 1
    at 72 px): its run folder (started ahead, tests.support.ahead)."""
    _, run = ahead.take("release_g_run", tmp_path_factory)
    out, _ = workflows.finished(run)
    return str(workflows.run_folder(out))
