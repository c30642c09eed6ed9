"""Images for the database tests, and what Caffe's own Data layer reads back
from a database."""
import os

import numpy as np


def random_images(n, shape=(12, 10, 3), seed=0):
    """``n`` random uint8 HxWxC images."""
    rng = np.random.RandomState(seed)
    return [rng.randint(0, 256, shape).astype(np.uint8) for _ in range(n)]


def caffe_read(db_dir, batch, channels, size):
    """The first ``batch`` (data, label) as Caffe's Data layer delivers them."""
    import caffe
    from caffe import layers as L, params as P
    n = caffe.NetSpec()
    n.data, n.label = L.Data(source=db_dir, backend=P.Data.LMDB, batch_size=batch, ntop=2)
    path = os.path.join(os.path.dirname(db_dir), "read_%s.prototxt" % os.path.basename(db_dir))
    with open(path, "w") as fh:
        fh.write(str(n.to_proto()))
    net = caffe.Net(path, caffe.TEST)
    net.forward()
    assert net.blobs["data"].data.shape == (batch, channels, size, size)
    return net.blobs["data"].data.copy(), net.blobs["label"].data.copy()
