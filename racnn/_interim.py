"""TEMPORARY stand-ins for racnn.db / racnn.weights functions that other
parts are still writing; removed as soon as those modules land."""
import json
import os

import numpy as np

from .errors import RacnnError


def check_manifest(db_dir, num_classes=None, **_):
    with open(os.path.join(db_dir, "manifest.json")) as fh:
        m = json.load(fh)
    if num_classes is not None and m.get("num_classes") != num_classes:
        raise RacnnError("%s: manifest num_classes %s, expected %d"
                         % (db_dir, m.get("num_classes"), num_classes))
    return m


def iter_datums(db_dir):
    import cv2
    import lmdb
    from caffe.proto import caffe_pb2
    env = lmdb.open(db_dir, readonly=True, lock=False)
    d = caffe_pb2.Datum()
    with env.begin() as txn:
        for key, val in txn.cursor():
            d.ParseFromString(val)
            if d.encoded:
                img = cv2.imdecode(np.frombuffer(d.data, np.uint8), cv2.IMREAD_COLOR)
                img = img.transpose(2, 0, 1)
            else:
                img = np.frombuffer(d.data, np.uint8).reshape(d.channels, d.height, d.width)
            yield key.decode(), d.label, img
    env.close()


