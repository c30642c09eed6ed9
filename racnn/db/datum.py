"""Caffe Datums without pycaffe in the hot path: an HxWxC uint8 BGR image
(or a CHW array) and its label as the bytes Caffe's Data layer reads, raw or
PNG/JPEG ``encoded`` as ``convert_imageset --encoded`` writes them, and back."""
import numpy as np

from ..errors import RacnnError

ENCODINGS = (False, "png", "jpg")


def _caffe_pb2():
    from caffe.proto import caffe_pb2
    return caffe_pb2


def datum_bytes(img, label, encoded=False):
    """Serialise an HxWxC uint8 (BGR) image and its label as a Caffe Datum."""
    img = np.asarray(img)
    if img.dtype != np.uint8:
        raise RacnnError("datums hold uint8 images, got %s" % img.dtype)
    if img.ndim == 2:
        img = img[:, :, None]
    if encoded:
        import cv2
        ext = {"png": ".png", "jpg": ".jpg"}.get(encoded)
        if ext is None or img.shape[2] != 3:
            raise RacnnError("encoded datums need a 3-channel image and encoding png or jpg, "
                             "got %r with %d channels" % (encoded, img.shape[2]))
        ok, buf = cv2.imencode(ext, img)
        if not ok:
            raise RacnnError("could not %s-encode an image" % encoded)
        data = buf.tobytes()     # fields 4 data, 5 label, 7 encoded, as pycaffe writes them
        return b"".join((b"\x22", _varint(len(data)), data, b"\x28", _varint(_label(label)),
                         b"\x38\x01"))
    return datum_bytes_chw(img.transpose(2, 0, 1), label)


def _varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def datum_bytes_chw(chw, label):
    """A raw Datum of a CxHxW uint8 array (the Datum's own layout).

    The protobuf wire format is written directly (fields 1 channels,
    2 height, 3 width, 4 data, 5 label, in the order and form of
    ``caffe_pb2.Datum.SerializeToString``; tests/db/test_datum.py checks the bytes
    are identical): the writer then needs neither pycaffe (1 s to import,
    100 MB per worker) nor two extra copies of every image.  Encoded Datums
    (``datum_bytes``) are written the same way."""
    chw = np.asarray(chw)
    if chw.dtype != np.uint8 or chw.ndim != 3:
        raise RacnnError("raw datums hold CxHxW uint8 arrays, got %s %s" % (chw.dtype, chw.shape))
    c, h, w = chw.shape
    data = np.ascontiguousarray(chw).tobytes()
    return b"".join((b"\x08", _varint(c), b"\x10", _varint(h), b"\x18", _varint(w),
                     b"\x22", _varint(len(data)), data, b"\x28", _varint(_label(label))))


def _label(label):
    label = int(label)
    if label < 0:
        raise RacnnError("datum labels are >= 0, got %d" % label)
    return label


def parse_datum(value):
    """``(label, uint8 CHW array)`` of a serialised Datum (decodes encoded ones
    to BGR like Caffe's DataTransformer)."""
    datum = _caffe_pb2().Datum()
    datum.ParseFromString(value)
    if datum.encoded:
        import cv2
        img = cv2.imdecode(np.frombuffer(datum.data, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise RacnnError("an encoded datum could not be decoded")
        return datum.label, img.transpose(2, 0, 1)
    if datum.data:
        arr = np.frombuffer(datum.data, np.uint8)
    else:
        arr = np.asarray(datum.float_data, np.float32)
    return datum.label, arr.reshape(datum.channels, datum.height, datum.width)
