"""racnn.nets.presets: the multipliers of every layer of every committed net
and of generated nets against the numbers of docs/METHOD.md ("Multipliers:
two readings"), written here (tests/support/nets.py and below), not read
from racnn.nets.presets."""
import glob
import os
import re

from caffe.proto import caffe_pb2
from google.protobuf import text_format

from racnn.nets import build_net, last_layer_name, param_layer_names
from racnn.paths import REPO
from tests.support.nets import PAPER_SR, RELEASE_SR, close, layers, pairs


BACKBONE = {("paper", "e2e"): ((0.1, 0), (0.1, 0)),      # "classification layers: lr 0.1, decay 0"
            ("release", "e2e"): ((0.1, 1), (0, 1)),      # same pair read as (weight lr, bias lr)
            ("paper", "frozen"): ((0, 0), (0, 0)),       # Table II: lr_mult 0, decay_mult 0
            ("release", "frozen"): ((0, 0), (0, 0))}
LAST = {"paper": ((1, 1), (1, 1)),                       # "new last layer: both 1"
        "release": ((1, 1), (2, 0))}                     # fc8_finetune of the released files


def read(path):
    proto = caffe_pb2.NetParameter()
    with open(path) as fh:
        text_format.Merge(fh.read(), proto)
    return proto


def _parse_name(path):
    rel = os.path.relpath(path, os.path.join(REPO, "prototxt"))
    backbone, dataset, fname = rel.split(os.sep)
    m = re.match(r"(cnn|racnn_g|racnn_p)_(e2e|frozen)_(paper|release)_train_val\.prototxt$", fname)
    assert m, fname
    return backbone, dataset, m.group(1), m.group(2), m.group(3)


def expected_pairs(name, variant, mode, mults, last):
    if name in PAPER_SR:
        return PAPER_SR[name] if mults == "paper" else RELEASE_SR[variant[-1]][name]
    if name == last:
        return LAST[mults]
    return BACKBONE[(mults, mode)]


def test_multipliers_of_every_committed_layer_equal_the_paper():
    files = sorted(glob.glob(os.path.join(REPO, "prototxt", "*", "*", "*_train_val.prototxt")))
    assert len(files) == 3 * 3 * 3 * 2 * 2
    for path in files:
        backbone, dataset, variant, mode, mults = _parse_name(path)
        proto = read(path)
        last = {"alexnet": "fc8_", "vgg16": "fc8_", "googlenet": "loss3/classifier_"}[backbone] + dataset
        names = param_layer_names(proto)
        assert (variant != "cnn") == ("sconv1" in names), path
        assert last in names
        for name in names:
            got = pairs(layers(proto)[name])
            want = expected_pairs(name, variant, mode, mults, last)
            assert close(got, want), (path, name, got, want)


def test_multipliers_of_generated_tiny_and_aux_nets():
    for mults in ("paper", "release"):
        for mode in ("e2e", "frozen"):
            for sr_init in "gp":
                variant = "racnn_" + sr_init
                for backbone, kw in (("tiny", {}), ("googlenet", {"aux_heads": True})):
                    proto = build_net(backbone, 5, dataset="toy", racnn=True, sr_init=sr_init,
                                      mode=mode, mults=mults, train_source="a", test_source="b", **kw)
                    last = last_layer_name(backbone, "toy")
                    for name in param_layer_names(proto):
                        aux_new = name.startswith(("loss1/classifier", "loss2/classifier"))
                        want = expected_pairs(last if aux_new else name, variant, mode, mults, last)
                        assert close(pairs(layers(proto)[name]), want), (backbone, name)
