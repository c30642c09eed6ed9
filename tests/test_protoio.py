"""racnn.protoio: a net written as text reads back to the same NetParameter."""
from caffe.proto import caffe_pb2
from google.protobuf import text_format

from racnn.nets import build_net
from racnn.protoio import proto_text


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
