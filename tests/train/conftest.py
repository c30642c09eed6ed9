"""Fixtures of the training tests."""
import pytest

from racnn.rundir import settings
from racnn.train.net_sources import classifier_sources


@pytest.fixture
def committed():
    """``committed(variant="racnn_p")``: the configuration of birds-alexnet
    and the committed net and solver a stage of ``variant`` copies."""
    def sources(variant="racnn_p"):
        cfg = settings.make_config("birds", "alexnet")
        return cfg, classifier_sources(cfg, variant, None, None)
    return sources
