"""racnn.nets.sr_front: the paper's SR front (layers, fillers, the residual
sum) in the RACNN nets and the SR-only deploy net."""
import pytest
from caffe.proto import caffe_pb2

from racnn.nets import build_net, build_sr_deploy
from tests.support.nets import layers


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
