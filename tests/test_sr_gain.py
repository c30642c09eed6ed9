"""The degradation is the one the authors' SR weights were trained for: on
real photos (cub_mini test images cropped to their boxes, resized to 227,
degraded to 50 with the matlab kernel) their three SR layers, run by Caffe,
raise PSNR over the degraded image; with OpenCV's INTER_CUBIC degradation
(no antialiasing) the same weights make the images worse (PAPER.md)."""
import os

import numpy as np
import pytest

from racnn import datasets
from racnn.degrade import degrade

N_IMAGES = 12       # every 5th of the 60 test images: all 10 classes, ~1 s each on CPU


def psnr(a, b):
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return 10.0 * np.log10(255.0 ** 2 / mse)


@pytest.fixture(scope="module")
def sr_net(authors_sr_weights, tmp_path_factory):
    import caffe
    from racnn.nets import build_sr_deploy
    path = str(tmp_path_factory.mktemp("sr") / "sr_deploy.prototxt")
    with open(path, "w") as fh:
        fh.write(str(build_sr_deploy(227, 227)))
    net = caffe.Net(path, authors_sr_weights, caffe.TEST)
    # the weights really are the authors' (not fillers): sconv1 is 64x3x9x9 and non-trivial
    assert net.params["sconv1"][0].data.shape == (64, 3, 9, 9)
    assert np.abs(net.params["sconv1"][0].data).max() > 0.01
    return net


def super_resolve(net, lr_bgr):
    """The SR output (BGR uint8) of a 227x227 BGR image; the weights were
    trained on RGB in 0..255, so the net sees RGB."""
    net.blobs["data"].data[0] = lr_bgr[:, :, ::-1].transpose(2, 0, 1)
    out = net.forward()["sum"][0].transpose(1, 2, 0)[:, :, ::-1]
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


def gains(net, samples, kernel):
    out = []
    for s in samples:
        img, _ = datasets.read_sample(s)
        lr, hr = degrade(img, 50, 227, kernel, return_hr=True)
        out.append(psnr(super_resolve(net, lr), hr) - psnr(lr, hr))
    return np.array(out)


def test_authors_sr_weights_gain_with_matlab_degradation_not_opencv(sr_net, shared):
    ds = datasets.load("cub", os.path.join(shared, "data", "cub_mini"), "test")
    samples = ds.samples[::5][:N_IMAGES]
    assert len({s.label for s in samples}) == 10
    matlab = gains(sr_net, samples, "matlab")
    opencv = gains(sr_net, samples, "opencv")
    print("\nSR gain over the degraded image (dB), %d cropped cub_mini test images: "
          "matlab kernel mean %+.2f (min %+.2f, max %+.2f); opencv INTER_CUBIC mean %+.2f"
          % (len(samples), matlab.mean(), matlab.min(), matlab.max(), opencv.mean()))
    assert matlab.mean() >= 0.5
    assert (matlab > 0).mean() >= 0.9        # nearly every image improves
    assert opencv.mean() < 0                 # OpenCV's degradation: the weights hurt
    assert matlab.mean() - opencv.mean() > 1.0
