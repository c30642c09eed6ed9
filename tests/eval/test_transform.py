"""racnn.eval.transform: Caffe's TEST preprocessing (mean files)."""
import numpy as np
import pytest


@pytest.mark.parametrize("legacy", [True, False])
def test_mean_file_loads_both_blob_shapes(tmp_path, legacy):
    """A binaryproto mean file, with the legacy num/channels/height/width or
    with ``shape``, loads as its CxHxW array."""
    from caffe.proto import caffe_pb2
    from racnn.eval.transform import _load_mean_file
    mean = np.arange(2 * 3 * 4, dtype=np.float32).reshape(1, 2, 3, 4) / 7
    blob = caffe_pb2.BlobProto()
    if legacy:
        blob.num, blob.channels, blob.height, blob.width = mean.shape
    else:
        blob.shape.dim.extend(mean.shape)
    blob.data.extend(mean.ravel().tolist())
    path = tmp_path / "mean.binaryproto"
    path.write_bytes(blob.SerializeToString())
    np.testing.assert_array_equal(_load_mean_file(str(path)), mean[0])
