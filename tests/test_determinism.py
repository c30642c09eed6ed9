"""Seeded initial weights: the new layers of init.caffemodel are filled by
Caffe's own fillers under the run's seed, so the same seed gives the same
file (the smoke demo run twice: tests/test_demo.py)."""
import caffe
import numpy as np

from racnn.nets import build_net, write_net
from racnn.weights import init_caffemodel
from test_weights import file_arrays

caffe.set_mode_cpu()


def nets(tmp_path):
    """A tiny backbone's weights (its own 'imagenet' last layer) and a
    train/val net whose last layer (fc7_birds) is new."""
    backbone = tmp_path / "backbone.caffemodel"
    proto = str(backbone) + ".prototxt"
    write_net(build_net("tiny", 1000, dataset="imagenet", phase="deploy"), proto)
    caffe.Net(proto, caffe.TEST).save(str(backbone))
    tv = str(tmp_path / "train_val.prototxt")
    write_net(build_net("tiny", 10, dataset="birds", phase="train_val", train_source="x",
                        test_source="y"), tv)
    return str(backbone), tv


def init(tv, backbone, out, seed):
    init_caffemodel(tv, [backbone], str(out), expected_new=["fc7_birds"], seed=seed)
    return out.read_bytes(), file_arrays(str(out))


def test_same_seed_same_file_other_seed_other_new_layer(tmp_path):
    backbone, tv = nets(tmp_path)
    a, wa = init(tv, backbone, tmp_path / "a.caffemodel", 1701)
    b, wb = init(tv, backbone, tmp_path / "b.caffemodel", 1701)
    c, wc = init(tv, backbone, tmp_path / "c.caffemodel", 1702)
    assert a == b                                       # byte for byte
    assert not np.array_equal(wa["fc7_birds"][0], wc["fc7_birds"][0])
    assert wa["fc7_birds"][0].std() > 0                 # a filler, not zeros
    loaded = file_arrays(backbone)
    for name in ("conv1", "fc6"):                       # loaded layers do not depend on it
        np.testing.assert_array_equal(wa[name][0], loaded[name][0])
        np.testing.assert_array_equal(wc[name][0], loaded[name][0])


def test_without_a_seed_the_filler_draws_differ(tmp_path):
    """The defect the seed fixes: Caffe's generator runs on from wherever it
    is, so two initialisations in a row fill the new layer differently."""
    backbone, tv = nets(tmp_path)
    _, wa = init(tv, backbone, tmp_path / "a.caffemodel", None)
    _, wb = init(tv, backbone, tmp_path / "b.caffemodel", None)
    assert not np.array_equal(wa["fc7_birds"][0], wb["fc7_birds"][0])
