"""Generated nets in real Caffe (CPU): forward and backward of the committed
nets, `sum` keeps the input's shape, the stage-1 net on a real 6-channel
LMDB, and every committed net reduces to a structure that was run."""
import collections
import copy
import glob
import os

import caffe
import lmdb
import numpy as np
import pytest
from caffe.proto import caffe_pb2
from google.protobuf import text_format

from racnn.nets import build_net, build_sr_pretrain, layout, param_layer_names
from racnn.nets.dummy import instantiate, with_dummy_data
from racnn.protoio import read_net

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
caffe.set_mode_cpu()

# (backbone, dataset, variant, mode, mults): one of each backward pattern per
# backbone -- CNN end-to-end (all layers learn), CNN frozen (only the last
# layer learns), RACNN (SR layers learn, so backward crosses the backbone).
RUNS = [("alexnet", "cars", "cnn", "e2e", "paper"), ("alexnet", "birds", "cnn", "frozen", "release"),
        ("alexnet", "flowers", "racnn_g", "frozen", "release"),
        ("googlenet", "birds", "cnn", "e2e", "release"), ("googlenet", "flowers", "cnn", "frozen", "paper"),
        ("googlenet", "cars", "racnn_p", "e2e", "paper"),
        ("vgg16", "flowers", "cnn", "e2e", "release"), ("vgg16", "cars", "cnn", "frozen", "paper"),
        ("vgg16", "birds", "racnn_p", "frozen", "release")]
SIZE = {"alexnet": 227, "vgg16": 224, "googlenet": 224}


def _last(proto):
    return param_layer_names(proto)[-1]


@pytest.mark.parametrize("run", RUNS, ids=["-".join(r) for r in RUNS])
def test_committed_train_val_runs_forward_backward(run):
    backbone, dataset, variant, mode, mults = run
    proto = read_net(layout.train_val_path(*run))
    net = instantiate(proto, caffe.TRAIN, batch_size=1)
    loss = net.forward()["loss"]
    net.backward()
    assert np.isfinite(loss) and loss > 0
    size = SIZE[backbone]
    assert net.blobs["data"].data.shape == (1, 3, size, size)
    last = _last(proto)
    assert net.blobs[last].data.shape == (1, {"cars": 196, "birds": 200, "flowers": 102}[dataset])
    assert np.any(net.params[last][0].diff != 0)              # the new layer learns
    if variant != "cnn":
        assert net.blobs["sum"].data.shape == net.blobs["data"].data.shape
        assert np.any(net.params["sconv1"][0].diff != 0)      # gradient reaches the SR front
        np.testing.assert_allclose(net.blobs["sum"].data,
                                   net.blobs["data"].data + net.blobs["sconv3"].data, rtol=1e-5)


@pytest.mark.parametrize("backbone", ["alexnet", "vgg16", "googlenet"])
def test_committed_deploy_nets_run_and_test_phase_has_accuracy(backbone):
    for racnn in (False, True):
        net = caffe.Net(layout.deploy_path(backbone, "birds", racnn), caffe.TEST)
        net.blobs["data"].data[...] = np.random.RandomState(0).uniform(0, 255, net.blobs["data"].data.shape)
        prob = net.forward()["prob"]
        assert prob.shape == (1, 200)
        np.testing.assert_allclose(prob.sum(), 1.0, rtol=1e-4)
        assert ("sum" in net.blobs) == racnn
        if racnn:
            assert net.blobs["sum"].data.shape == net.blobs["data"].data.shape
    if backbone != "vgg16":     # VGG's TEST net is the same graph; skip 140M more weights
        test = instantiate(layout.train_val_path(backbone, "birds", "racnn_g", "e2e", "paper"),
                           caffe.TEST, batch_size=2)
        out = test.forward()
        assert set(out) == {"loss", "accuracy"} and 0 <= out["accuracy"] <= 1


def test_googlenet_with_auxiliary_heads_trains():
    proto = build_net("googlenet", 10, dataset="toy", aux_heads=True,
                      train_source="x", test_source="y")
    net = instantiate(proto, caffe.TRAIN, batch_size=1)
    out = net.forward()
    assert set(out) == {"loss", "loss1/loss", "loss2/loss"}
    net.backward()
    for name in ("loss1/classifier_toy", "loss2/classifier_toy", "loss3/classifier_toy"):
        assert net.blobs[name].data.shape == (1, 10)
        assert np.any(net.params[name][0].diff != 0)


def _normalise(proto):
    """The structure of a train/val net with dataset- and preset-specific
    values removed: multipliers, last-layer name and width, sources, name."""
    proto = copy.deepcopy(proto)
    last = _last(proto)
    for layer in proto.layer:
        del layer.param[:]
        if layer.name == last:
            layer.inner_product_param.num_output = 0
            layer.name = "LAST"
        for field in (layer.top, layer.bottom):
            items = ["LAST" if v == last else v for v in field]
            del field[:]
            field.extend(items)
        if layer.type == "Data":
            layer.data_param.source = ""
    return text_format.MessageToString(proto)


def test_every_committed_net_is_a_structure_that_was_run():
    """108 train/val and 18 deploy files reduce to 2 structures per backbone
    and kind (CNN, RACNN), each run above; the multipliers that were removed
    are checked layer by layer in test_nets.py."""
    for pattern, run in (("*_train_val.prototxt", {(b, v != "cnn") for b, _, v, _, _ in RUNS}),
                         ("*_deploy.prototxt", {(b, r) for b in SIZE for r in (False, True)})):
        groups = collections.defaultdict(set)
        for path in glob.glob(os.path.join(REPO, "prototxt", "*", "*", pattern)):
            backbone = path.split(os.sep)[-3]
            groups[(backbone, _normalise(read_net(path)))].add(
                os.path.basename(path).startswith("racnn"))
        assert len(groups) == 6, pattern
        assert {(k[0], racnn) for k, v in groups.items() for racnn in v} == run
        assert all(len(v) == 1 for v in groups.values())


def _write_pairs_db(path, count, patch, rng):
    env = lmdb.open(path, map_size=1 << 26)
    pairs = []
    with env.begin(write=True) as txn:
        for i in range(count):
            pair = rng.randint(0, 256, (6, patch, patch)).astype(np.uint8)
            pairs.append(pair)
            txn.put(b"%08d" % i, caffe.io.array_to_datum(pair, 0).SerializeToString())
    env.close()
    return pairs


def test_stage1_net_on_a_real_six_channel_lmdb(tmp_path):
    rng = np.random.RandomState(1)
    pairs = _write_pairs_db(str(tmp_path / "sr"), 3, 21, rng)
    proto = build_sr_pretrain(str(tmp_path / "sr"), batch_size=3, patch=21)
    path = tmp_path / "sr_train.prototxt"
    path.write_text(text_format.MessageToString(proto))
    net = caffe.Net(str(path), caffe.TRAIN)
    loss = net.forward()["loss"]
    data, label, out = (net.blobs[b].data for b in ("data", "label", "sum"))
    want = np.stack(pairs).astype(np.float32)
    np.testing.assert_array_equal(data, want[:, :3])       # channels 0-2: LR input
    np.testing.assert_array_equal(label, want[:, 3:])      # channels 3-5: HR label
    assert out.shape == data.shape
    np.testing.assert_allclose(loss, ((out - label) ** 2).sum() / 2 / 3, rtol=1e-4)
    net.backward()
    assert np.any(net.params["sconv1"][0].diff != 0)


def test_dummy_data_replaces_only_data_layers():
    proto = build_sr_pretrain("unused", test_source="unused2")
    dummy = with_dummy_data(proto, batch_size=2)
    kinds = [l.type for l in dummy.layer]
    assert kinds[:2] == ["DummyData", "DummyData"] and "Data" not in kinds
    assert list(dummy.layer[0].dummy_data_param.shape[0].dim) == [2, 6, 51, 51]
    assert dummy.layer[1].include[0].phase == caffe_pb2.TEST
    assert [l.type for l in proto.layer][:2] == ["Data", "Data"]     # original untouched

