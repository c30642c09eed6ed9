"""Instantiate a generated net without its databases: Data layers become
DummyData layers of the same tops and shapes (the crop size, 3 channels --
6 for the stage-1 net's 6-channel pairs -- and labels 0).  Used to build a
net for weight initialisation and by the tests."""
import copy
import os
import tempfile

from caffe.proto import caffe_pb2
from google.protobuf import text_format

from .. import protoio
from ..errors import RacnnError


def with_dummy_data(proto, batch_size=None, value_range=(0, 255)):
    """A copy of ``proto`` whose Data layers are DummyData layers (uniform
    pixels in ``value_range``, labels 0); batch from the Data layer unless
    ``batch_size`` is given."""
    proto = copy.deepcopy(proto)
    sliced = {b for layer in proto.layer if layer.type == "Slice" for b in layer.bottom}
    for layer in proto.layer:
        if layer.type != "Data":
            continue
        crop = layer.transform_param.crop_size
        if not crop:
            raise RacnnError("Data layer %r has no crop_size: cannot infer its shape" % layer.name)
        batch = int(batch_size or layer.data_param.batch_size)
        channels = 6 if layer.top[0] in sliced else 3
        dummy = caffe_pb2.LayerParameter(name=layer.name, type="DummyData",
                                         top=list(layer.top), include=list(layer.include))
        dummy.dummy_data_param.shape.add().dim.extend([batch, channels, crop, crop])
        dummy.dummy_data_param.data_filler.add(type="uniform", min=value_range[0],
                                               max=value_range[1])
        if len(layer.top) > 1:
            dummy.dummy_data_param.shape.add().dim.extend([batch])
            dummy.dummy_data_param.data_filler.add(type="constant", value=0)
        layer.CopyFrom(dummy)
    return proto


def write_temp_net(proto):
    """Write ``proto`` to a temporary .prototxt and return its path (caller
    removes it)."""
    fd, path = tempfile.mkstemp(suffix=".prototxt", prefix="racnn_net_")
    with os.fdopen(fd, "w") as fh:
        fh.write(text_format.MessageToString(proto))
    return path


def instantiate(net, phase, batch_size=1):
    """A ``caffe.Net`` of ``net`` (a prototxt path or NetParameter) in
    ``phase`` (caffe.TRAIN / caffe.TEST) with Data layers swapped for
    DummyData of ``batch_size``."""
    import caffe
    proto = protoio.read_net(net) if isinstance(net, str) else net
    path = write_temp_net(with_dummy_data(proto, batch_size))
    try:
        return caffe.Net(path, phase)
    finally:
        os.unlink(path)
