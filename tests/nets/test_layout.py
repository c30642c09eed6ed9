"""racnn.nets.layout: the committed files' names, last-layer names, variants."""
import os

from racnn import vocab
from racnn.nets import last_layer_name, layout, new_layers
from racnn.paths import REPO


def test_names_and_layout():
    assert last_layer_name("alexnet", "cars") == "fc8_cars"
    assert last_layer_name("vgg16", "cub") == "fc8_birds"
    assert last_layer_name("googlenet", "birds") == "loss3/classifier_birds"
    assert last_layer_name("tiny", "My Shapes!") == "fc7_my_shapes"
    assert last_layer_name("alexnet") == "fc8_finetune"
    assert layout.train_val_path("alexnet", "cars", "racnn_p", "frozen", "release") == os.path.join(
        REPO, "prototxt/alexnet/cars/racnn_p_frozen_release_train_val.prototxt")
    assert layout.deploy_path("vgg16", "birds", True, root="") == "prototxt/vgg16/birds/racnn_deploy.prototxt"
    assert layout.solver_path("googlenet", "flowers", "cnn", "e2e", "paper", root="/x") == \
        "/x/solvers/googlenet/flowers/cnn_e2e_paper_solver.prototxt"
    assert layout.sr_train_path("paper", root="") == "prototxt/sr/sr_pretrain_paper.prototxt"
    assert layout.parse_variant("racnn_p") == (True, "p")
    assert new_layers("alexnet", "cars", racnn=True) == ("sconv1", "sconv2", "sconv3", "fc8_cars")
    assert new_layers("alexnet", "cars", racnn=True, sr_init="p") == ("fc8_cars",)
    assert new_layers("tiny", "toy") == ("conv1", "conv2", "conv3", "fc6", "fc7_toy")
    for backbone in vocab.PAPER_BACKBONES:        # committed deploy nets load the zoo by name
        for dataset in vocab.DATASETS:
            for racnn in (False, True):
                assert os.path.isfile(layout.deploy_path(backbone, dataset, racnn))
