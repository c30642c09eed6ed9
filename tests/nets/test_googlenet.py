"""racnn.nets.googlenet: the zoo's GoogLeNet (inception widths, heads), and
its auxiliary heads training in real Caffe."""
import caffe
import numpy as np
import pytest

from racnn.nets import build_net, new_layers
from racnn.nets.dummy import instantiate
from tests.support.nets import layers

caffe.set_mode_cpu()


GOOGLENET_INCEPTION = {"3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
                       "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
                       "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
                       "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
                       "5b": (384, 192, 384, 48, 128, 128)}


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
