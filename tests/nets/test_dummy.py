"""racnn.nets.dummy: nets on dummy data replace only the Data layers."""
from caffe.proto import caffe_pb2

from racnn.nets import build_sr_pretrain
from racnn.nets.dummy import with_dummy_data


def test_dummy_data_replaces_only_data_layers():
    proto = build_sr_pretrain("unused", test_source="unused2")
    dummy = with_dummy_data(proto, batch_size=2)
    kinds = [l.type for l in dummy.layer]
    assert kinds[:2] == ["DummyData", "DummyData"] and "Data" not in kinds
    assert list(dummy.layer[0].dummy_data_param.shape[0].dim) == [2, 6, 51, 51]
    assert dummy.layer[1].include[0].phase == caffe_pb2.TEST
    assert [l.type for l in proto.layer][:2] == ["Data", "Data"]     # original untouched
