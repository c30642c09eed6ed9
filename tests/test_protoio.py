"""racnn.protoio: a net written as text reads back to the same NetParameter;
the fields read without Caffe's schema are Caffe's."""
import glob
import os

import pytest
from caffe.proto import caffe_pb2
from google.protobuf import text_format

from racnn import protoio
from racnn.errors import RacnnError
from racnn.nets import build_net
from racnn.paths import REPO
from racnn.protoio import proto_text
from racnn.train.stage_copies import data_layers


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


def test_fields_read_without_caffes_schema_agree_with_caffe(tmp_path):
    """The sweep's cost estimate reads max_iter and the training batch
    without Caffe (a login node): for every committed net and solver the
    schema-free reading gives what Caffe's parser gives; a broken file is a
    one-line error naming it."""
    nets = glob.glob(os.path.join(REPO, "prototxt", "**", "*train_val.prototxt"), recursive=True)
    nets += glob.glob(os.path.join(REPO, "prototxt", "sr", "sr_pretrain_*.prototxt"))
    solvers = glob.glob(os.path.join(REPO, "solvers", "**", "*_solver.prototxt"), recursive=True)
    assert len(nets) > 50 and len(solvers) > 50
    for path in nets:
        want = data_layers(protoio.read_net(path))["train"].data_param.batch_size
        assert protoio.train_batch_size(path) == want, path
    for path in solvers:
        assert protoio.solver_max_iter(path) == protoio.read_solver(path).max_iter, path
    bad = tmp_path / "bad.prototxt"
    bad.write_text('layer { name: "x" type: "Data" \n')
    with pytest.raises(RacnnError, match="bad.prototxt: unbalanced braces"):
        protoio.train_batch_size(str(bad))
