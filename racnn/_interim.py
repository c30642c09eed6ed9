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


def load_weights(net, caffemodels, expected_new=()):
    from caffe.proto import caffe_pb2
    for path in caffemodels:
        p = caffe_pb2.NetParameter()
        with open(path, "rb") as fh:
            p.ParseFromString(fh.read())
        have = {l.name: [tuple(b.shape.dim) if b.HasField("shape") else
                         (b.num, b.channels, b.height, b.width) for b in l.blobs]
                for l in list(p.layer) + list(p.layers) if l.blobs}
        for name, blobs in net.params.items():
            want = [tuple(b.data.shape) for b in blobs]
            if name not in have:
                raise RacnnError("%s: no layer %r" % (path, name))
            got = [s[-len(w):] if len(s) > len(w) else s for s, w in zip(have[name], want)]
            if len(have[name]) != len(want) or got != want:
                raise RacnnError("%s: layer %r has %s, net expects %s"
                                 % (path, name, have[name], want))
        net.copy_from(path)
    return None
