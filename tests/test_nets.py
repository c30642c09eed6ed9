"""Net generators without running Caffe's solvers: zoo names and shapes, the
SR front, multipliers of every layer of every committed net against the
numbers of docs/METHOD.md (written here, not read from racnn.nets.presets),
layout, errors."""
import glob
import os
import re

import pytest
from caffe.proto import caffe_pb2
from google.protobuf import text_format

from racnn import vocab
from racnn.errors import RacnnError
from racnn.nets import build_net, build_sr_deploy, build_sr_pretrain, last_layer_name, layout
from racnn.nets import new_layers, param_layer_names
from racnn.protoio import proto_text

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---- docs/METHOD.md, "Multipliers: two readings" --------
# ((weight lr, weight decay), (bias lr, bias decay)); Caffe's default decay is 1.
PAPER_SR = {"sconv1": ((1, 0.1), (1, 0.1)), "sconv2": ((1, 0.1), (1, 0.1)),
            "sconv3": ((0.1, 0.1), (0.1, 0.1))}
RELEASE_SR = {
    "g": {"sconv1": ((1, 1), (0.1, 1)), "sconv2": ((1, 1), (0.1, 1)),
          "sconv3": ((0.1, 1), (0.1, 1))},
    "p": {"sconv1": ((0.1, 1), (0.1, 1)), "sconv2": ((0.1, 1), (0.1, 1)),
          "sconv3": ((0.1, 1), (0.1, 1))},
}
BACKBONE = {("paper", "e2e"): ((0.1, 0), (0.1, 0)),      # "classification layers: lr 0.1, decay 0"
            ("release", "e2e"): ((0.1, 1), (0, 1)),      # same pair read as (weight lr, bias lr)
            ("paper", "frozen"): ((0, 0), (0, 0)),       # Table II: lr_mult 0, decay_mult 0
            ("release", "frozen"): ((0, 0), (0, 0))}
LAST = {"paper": ((1, 1), (1, 1)),                       # "new last layer: both 1"
        "release": ((1, 1), (2, 0))}                     # fc8_finetune of the released files

# ---- BVLC model zoo deploy nets: (name, type, num_output, kernel, stride, pad, group)
ALEXNET = [("conv1", "Convolution", 96, 11, 4, 0, 1), ("conv2", "Convolution", 256, 5, 1, 2, 2),
           ("conv3", "Convolution", 384, 3, 1, 1, 1), ("conv4", "Convolution", 384, 3, 1, 1, 2),
           ("conv5", "Convolution", 256, 3, 1, 1, 2), ("fc6", "InnerProduct", 4096),
           ("fc7", "InnerProduct", 4096)]
VGG16 = [("conv%d_%d" % (b, i), "Convolution", c, 3, 1, 1, 1)
         for b, n, c in ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))
         for i in range(1, n + 1)] + [("fc6", "InnerProduct", 4096), ("fc7", "InnerProduct", 4096)]
GOOGLENET_INCEPTION = {"3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
                       "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
                       "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
                       "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
                       "5b": (384, 192, 384, 48, 128, 128)}


def read(path):
    proto = caffe_pb2.NetParameter()
    with open(path) as fh:
        text_format.Merge(fh.read(), proto)
    return proto


def layers(proto):
    return {layer.name: layer for layer in proto.layer}


def pairs(layer):
    return tuple((p.lr_mult, p.decay_mult) for p in layer.param)


def close(a, b):
    return all(abs(x - y) < 1e-6 for pa, pb in zip(a, b) for x, y in zip(pa, pb)) and len(a) == len(b)


def test_alexnet_and_vgg_match_the_zoo():
    for backbone, table in (("alexnet", ALEXNET), ("vgg16", VGG16)):
        byname = layers(build_net(backbone, 200, dataset="birds", phase="deploy"))
        for row in table:
            layer = byname[row[0]]
            assert layer.type == row[1]
            if row[1] == "Convolution":
                cp = layer.convolution_param
                assert (cp.num_output, cp.kernel_size[0], cp.stride[0] if cp.stride else 1,
                        cp.pad[0] if cp.pad else 0, cp.group) == row[2:], row
            else:
                assert layer.inner_product_param.num_output == row[2]
        assert byname["fc8_birds"].inner_product_param.num_output == 200
        assert "fc8" not in byname          # the ImageNet classifier must not load


def test_googlenet_matches_the_zoo():
    byname = layers(build_net("googlenet", 102, dataset="flowers", phase="deploy"))
    for module, widths in GOOGLENET_INCEPTION.items():
        p = "inception_%s/" % module
        got = [byname[p + s].convolution_param.num_output
               for s in ("1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5", "pool_proj")]
        assert tuple(got) == widths, module
        assert list(byname[p + "output"].bottom) == [p + "1x1", p + "3x3", p + "5x5", p + "pool_proj"]
    assert byname["conv1/7x7_s2"].convolution_param.stride[0] == 2
    assert byname["pool5/7x7_s1"].pooling_param.kernel_size == 7
    assert byname["pool5/drop_7x7_s1"].dropout_param.dropout_ratio == pytest.approx(0.4)
    assert byname["loss3/classifier_flowers"].inner_product_param.num_output == 102
    assert not [n for n in byname if n.startswith(("loss1", "loss2"))]
    aux = layers(build_net("googlenet", 102, dataset="flowers", aux_heads=True))
    assert aux["loss1/classifier_flowers"].inner_product_param.num_output == 102
    assert aux["loss2/fc"].inner_product_param.num_output == 1024
    assert list(aux["loss1/ave_pool"].bottom) == ["inception_4a/output"]
    assert aux["loss1/loss"].loss_weight[0] == pytest.approx(0.3)
    assert new_layers("googlenet", "flowers", aux_heads=True) == (
        "loss1/classifier_flowers", "loss2/classifier_flowers", "loss3/classifier_flowers")


def test_sr_front_is_the_papers():
    byname = layers(build_net("alexnet", 196, dataset="cars", racnn=True, phase="deploy"))
    for name, (out, k, pad) in {"sconv1": (64, 9, 4), "sconv2": (32, 5, 2),
                                "sconv3": (3, 5, 2)}.items():
        cp = byname[name].convolution_param
        assert (cp.num_output, cp.kernel_size[0], cp.pad[0]) == (out, k, pad)
        assert cp.weight_filler.type == "gaussian" and cp.weight_filler.std == pytest.approx(0.001)
    assert [byname[r].type for r in ("srelu1", "srelu2")] == ["ReLU", "ReLU"]
    assert "srelu3" not in byname
    assert list(byname["sum"].bottom) == ["data", "sconv3"]
    assert byname["sum"].eltwise_param.operation == caffe_pb2.EltwiseParameter.SUM
    assert list(byname["conv1"].bottom) == ["sum"]
    sr = layers(build_sr_deploy(100, 120))
    assert list(sr["data"].input_param.shape[0].dim) == [1, 3, 100, 120]
    assert list(sr)[-1] == "sum"


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


def test_train_val_data_layers_loss_and_accuracy():
    proto = build_net("vgg16", 196, dataset="cars", racnn=True, mean=True)
    train, test = proto.layer[0], proto.layer[1]
    assert (train.type, test.type) == ("Data", "Data")
    assert train.include[0].phase == caffe_pb2.TRAIN and test.include[0].phase == caffe_pb2.TEST
    assert train.transform_param.mirror and not test.transform_param.mirror
    assert train.transform_param.crop_size == test.transform_param.crop_size == 224
    assert list(train.transform_param.mean_value) == [104, 117, 123]
    assert train.data_param.source == "data/lmdb/cars/train_r50_s227_matlab"
    assert test.data_param.source == "data/lmdb/cars/test_r50_s227_matlab"
    assert (train.data_param.batch_size, test.data_param.batch_size) == (4, 2)  # release VGG
    assert train.data_param.backend == caffe_pb2.DataParameter.LMDB
    byname = layers(proto)
    assert byname["loss"].type == "SoftmaxWithLoss" and not byname["loss"].include
    assert byname["accuracy"].include[0].phase == caffe_pb2.TEST
    assert byname["accuracy"].accuracy_param.top_k == 1
    plain = build_net("alexnet", 196, dataset="cars")
    assert not plain.layer[0].transform_param.mean_value       # release: no mean
    assert plain.layer[0].data_param.batch_size == 8
    deploy = layers(build_net("alexnet", 196, dataset="cars", phase="deploy", deploy_batch=5))
    assert list(deploy["data"].input_param.shape[0].dim) == [5, 3, 227, 227]
    assert deploy["prob"].type == "Softmax" and list(deploy["prob"].bottom) == ["fc8_cars"]
    assert not any(len(layer.param) for layer in deploy.values())


def test_stage1_net_slices_one_database():
    proto = build_sr_pretrain("data/lmdb/sr", batch_size=16, mults="paper", patch=41,
                              test_source="data/lmdb/sr_test")
    byname = layers(proto)
    assert [l.type for l in proto.layer[:3]] == ["Data", "Data", "Slice"]
    assert proto.layer[0].transform_param.crop_size == 41
    assert byname["slice"].slice_param.axis == 1 and list(byname["slice"].slice_param.slice_point) == [3]
    assert list(byname["slice"].top) == ["data", "label"]
    assert byname["loss"].type == "EuclideanLoss" and list(byname["loss"].bottom) == ["sum", "label"]
    for name, want in PAPER_SR.items():
        assert close(pairs(byname[name]), want)
    release = layers(build_sr_pretrain("x"))
    for name, want in RELEASE_SR["g"].items():        # "same values as g-RACNN"
        assert close(pairs(release[name]), want)
    assert proto.layer[0].data_param.batch_size == 16 and release["pairs"].data_param.batch_size == 32


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


@pytest.mark.parametrize("kwargs, message", [
    (dict(backbone="resnet"), "unknown backbone"),
    (dict(mults="authors"), "multiplier reading"),
    (dict(mode="half"), "training mode"),
    (dict(sr_init="x"), "SR initialisation"),
    (dict(phase="test"), "unknown phase"),
    (dict(num_classes=1), "at least 2"),
    (dict(aux_heads=True), "aux_heads exists only for googlenet"),
    (dict(dataset="mine"), "train_source is required"),
])
def test_bad_arguments_raise_clear_errors(kwargs, message):
    args = dict(backbone="alexnet", num_classes=10, dataset="cars")
    args.update(kwargs)
    with pytest.raises(RacnnError, match=message):
        build_net(args.pop("backbone"), args.pop("num_classes"), **args)
    with pytest.raises(RacnnError, match="unknown variant"):
        layout.parse_variant("racnn")


def test_written_text_reads_back_to_the_same_net():
    """Floats are printed with 7 digits (0.1, not 0.10000000149011612): the
    text must still parse to exactly the generated NetParameter."""
    for backbone in ("alexnet", "googlenet", "tiny"):
        for mults in ("paper", "release"):
            proto = build_net(backbone, 10, dataset="x", racnn=True, mults=mults, mean=True,
                              train_source="a", test_source="b")
            back = caffe_pb2.NetParameter()
            text_format.Merge(proto_text(proto, ["header"]), back)
            assert back == proto
            assert "0.10000000149011612" not in proto_text(proto)
