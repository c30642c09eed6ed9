"""racnn.pipeline's front ends: `make <dataset>-<backbone>` runs
tools/experiment.py with the Makefile's variables as its options."""
from tests.support.commands import make_n


def test_make_experiment_variables_for_weights_nets_and_restart():
    out = make_n("birds-alexnet", "BACKBONE_WEIGHTS=none", "NETS=mynets/", "RESTART=racnn_g")
    assert "tools/experiment.py birds alexnet" in out
    assert "--set backbone_weights=none --set nets=mynets/ --restart racnn_g" in \
        " ".join(out.split())
