"""Caffe's DataTransformer in the TEST phase, for images scored outside a
Data layer: centre crop to the net's input size (offsets ``(H - h) // 2``,
``(W - w) // 2``), no mirror, then ``(pixel - mean) * scale`` in float32, the
same operations in the same order as ``data_transformer.cpp``, so the net sees
bit-identical input.

``Transform`` holds the settings; ``transform_from_train_val(path)`` reads
them from the TEST-phase Data layer of a train_val prototxt;
``racnn.protoio.test_data_layer(path)`` returns that layer (its ``data_param.source`` is the
test database); ``Preprocessor(transform, (C, H, W))`` applies them to CHW
uint8 arrays.
"""
import collections
import os
import warnings

import numpy as np

from .. import protoio
from ..errors import RacnnError, RacnnWarning


class Transform(collections.namedtuple(
        "Transform", "crop_size mean_values mean_file scale")):
    """Caffe's TEST-phase DataTransformer settings.  ``crop_size`` 0 means the
    net's input size; ``mean_values`` is a tuple (one value or one per
    channel) or empty; ``mean_file`` a .binaryproto path or None."""

    def describe(self):
        return {"crop_size": self.crop_size, "mean_values": list(self.mean_values),
                "mean_file": self.mean_file, "scale": self.scale, "mirror": False}


DEFAULT_TRANSFORM = Transform(0, (), None, 1.0)


def transform_from_train_val(train_val):
    """The ``Transform`` of the TEST Data layer of ``train_val``."""
    tp = protoio.test_data_layer(train_val).transform_param
    if tp.mirror:
        warnings.warn("%s: TEST Data layer has mirror: true; Caffe ignores mirror in "
                      "the TEST phase and so does the evaluation" % train_val, RacnnWarning)
    mean_file = tp.mean_file if tp.HasField("mean_file") else None
    if mean_file and not os.path.isabs(mean_file) and isinstance(train_val, str):
        cand = os.path.join(os.path.dirname(train_val), mean_file)
        mean_file = cand if os.path.exists(cand) else mean_file
    return Transform(int(tp.crop_size), tuple(float(v) for v in tp.mean_value),
                     mean_file, float(tp.scale))


def _load_mean_file(path):
    from caffe.proto import caffe_pb2
    blob = caffe_pb2.BlobProto()
    try:
        with open(path, "rb") as fh:
            blob.ParseFromString(fh.read())
    except (OSError, Exception) as exc:  # protobuf raises DecodeError
        raise RacnnError("%s: cannot read mean file (%s)" % (path, exc))
    # deferred: racnn.nets / racnn.weights import pycaffe (~1 s)
    from ..weights import blob_shape
    return np.array(blob.data, dtype=np.float32).reshape(blob_shape(blob)[-3:])


class Preprocessor(object):
    """Applies a Transform to CHW uint8 images, exactly as Caffe does."""

    def __init__(self, transform, input_shape):
        self.t = transform
        c, h, w = input_shape
        if transform.crop_size and (transform.crop_size, transform.crop_size) != (h, w):
            raise RacnnError("crop_size %d of the train_val net differs from the deploy "
                             "net's input %dx%d" % (transform.crop_size, h, w))
        self.shape = (c, h, w)
        self.mean_values = None
        if transform.mean_values:
            mv = list(transform.mean_values)
            if len(mv) == 1:
                mv = mv * c
            if len(mv) != c:
                raise RacnnError("%d mean values for %d channels" % (len(mv), c))
            self.mean_values = np.array(mv, np.float32).reshape(c, 1, 1)
        self.mean = _load_mean_file(transform.mean_file) if transform.mean_file else None
        self.scale = np.float32(transform.scale)

    def __call__(self, img, key):
        c, h, w = self.shape
        ic, ih, iw = img.shape
        if ic != c:
            raise RacnnError("image %s has %d channels, the net expects %d" % (key, ic, c))
        if ih < h or iw < w:
            raise RacnnError("image %s is %dx%d, smaller than the net input %dx%d"
                             % (key, ih, iw, h, w))
        h0, w0 = (ih - h) // 2, (iw - w) // 2        # DataTransformer, TEST phase
        x = img[:, h0:h0 + h, w0:w0 + w].astype(np.float32)
        if self.mean is not None:
            if self.mean.shape != img.shape:
                raise RacnnError("mean file %s is %s, images are %s" % (
                    self.t.mean_file, self.mean.shape, img.shape))
            x -= self.mean[:, h0:h0 + h, w0:w0 + w]
        elif self.mean_values is not None:
            x -= self.mean_values
        if self.scale != 1:
            x *= self.scale
        return x
