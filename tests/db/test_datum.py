"""racnn.db.datum: Datum bytes equal to Caffe's own serialisation."""
import numpy as np
import pytest

from racnn.db import datum
from racnn.db.datum import datum_bytes_chw


@pytest.mark.parametrize("encoded,label", [("png", 0), ("jpg", 7), ("png", 70000)])
def test_encoded_datum_bytes_are_exactly_caffes(encoded, label):
    import cv2
    from caffe.proto import caffe_pb2
    img = np.random.RandomState(1).randint(0, 256, (23, 31, 3)).astype(np.uint8)
    d = caffe_pb2.Datum()
    d.label = label
    d.data = cv2.imencode("." + encoded, img)[1].tobytes()
    d.encoded = True
    assert datum.datum_bytes(img, label, encoded) == d.SerializeToString()


@pytest.mark.parametrize("shape,label", [((3, 227, 227), 0), ((6, 51, 51), 0), ((3, 2, 5), 199),
                                         ((1, 1, 1), 300), ((3, 300, 500), 70000)])
def test_raw_datum_bytes_are_exactly_caffes(shape, label):
    from caffe.proto import caffe_pb2
    arr = np.random.RandomState(0).randint(0, 256, shape).astype(np.uint8)
    d = caffe_pb2.Datum()
    d.channels, d.height, d.width = shape
    d.data = arr.tobytes()
    d.label = label
    assert datum_bytes_chw(arr, label) == d.SerializeToString()
    assert datum.datum_bytes(arr.transpose(1, 2, 0), label) == d.SerializeToString()
    back_label, back = datum.parse_datum(datum_bytes_chw(arr, label))
    assert back_label == label
    np.testing.assert_array_equal(back, arr)
