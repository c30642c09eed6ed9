"""The degradation is the one the authors' SR weights were trained for: on
real photos (cub_mini test images cropped to their boxes, resized to 227,
degraded to 50 with the matlab kernel) their three SR layers, run by Caffe,
raise PSNR over the degraded image; with OpenCV's INTER_CUBIC degradation
(no antialiasing) the same weights make the images worse (PAPER.md)."""
import os

import numpy as np
import pytest

from racnn import datasets
from racnn.report.srview import sr_net, sr_views

N_IMAGES = 12       # every 5th of the 60 test images: all 10 classes, ~1 s each on CPU


@pytest.fixture(scope="module")
def authors_weights(authors_sr_weights):
    """The authors' SR weights, checked to be theirs (not fillers) as
    racnn.report.srview loads them: sconv1 is 64x3x9x9 and non-trivial."""
    net, _ = sr_net(authors_sr_weights, 227, rgb_weights=True)
    assert net.params["sconv1"][0].data.shape == (64, 3, 9, 9)
    assert np.abs(net.params["sconv1"][0].data).max() > 0.01
    return authors_sr_weights


def gains(weights, samples, kernel):
    """PSNR of the SR output minus that of the degraded image, per sample
    (racnn.report.srview: the weights were trained on RGB, so ``rgb_weights``)."""
    images = [(s.id, datasets.read_sample(s)[0]) for s in samples]
    views = sr_views(weights, images, 50, 227, kernel, rgb_weights=True)
    return np.array([v.psnr_sr - v.psnr_lr for v in views])


def test_authors_sr_weights_gain_with_matlab_degradation_not_opencv(authors_weights, shared):
    ds = datasets.load("cub", os.path.join(shared, "data", "cub_mini"), "test")
    samples = ds.samples[::5][:N_IMAGES]
    assert len({s.label for s in samples}) == 10
    matlab = gains(authors_weights, samples, "matlab")
    opencv = gains(authors_weights, samples, "opencv")
    print("\nSR gain over the degraded image (dB), %d cropped cub_mini test images: "
          "matlab kernel mean %+.2f (min %+.2f, max %+.2f); opencv INTER_CUBIC mean %+.2f"
          % (len(samples), matlab.mean(), matlab.min(), matlab.max(), opencv.mean()))
    assert matlab.mean() >= 0.5
    assert (matlab > 0).mean() >= 0.9        # nearly every image improves
    assert opencv.mean() < 0                 # OpenCV's degradation: the weights hurt
    assert matlab.mean() - opencv.mean() > 1.0
