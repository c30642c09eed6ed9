"""racnn.nets.build: train/val, deploy and SR nets as the zoo and the paper
define them (written here, not read from the builders), their Data layers,
the stage-1 net on a real 6-channel LMDB, and clear errors."""
import caffe
import lmdb
import numpy as np
import pytest
from caffe.proto import caffe_pb2
from google.protobuf import text_format

from racnn.errors import RacnnError
from racnn.nets import build_net, build_sr_pretrain, layout
from tests.support.nets import PAPER_SR, RELEASE_SR, close, layers, pairs

caffe.set_mode_cpu()


# ---- BVLC model zoo deploy nets: (name, type, num_output, kernel, stride, pad, group)
ALEXNET = [("conv1", "Convolution", 96, 11, 4, 0, 1), ("conv2", "Convolution", 256, 5, 1, 2, 2),
           ("conv3", "Convolution", 384, 3, 1, 1, 1), ("conv4", "Convolution", 384, 3, 1, 1, 2),
           ("conv5", "Convolution", 256, 3, 1, 1, 2), ("fc6", "InnerProduct", 4096),
           ("fc7", "InnerProduct", 4096)]
VGG16 = [("conv%d_%d" % (b, i), "Convolution", c, 3, 1, 1, 1)
         for b, n, c in ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512))
         for i in range(1, n + 1)] + [("fc6", "InnerProduct", 4096), ("fc7", "InnerProduct", 4096)]


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
