"""Checks on the PNG figures the package draws: a real picture of the size
expected, not an empty canvas."""
import numpy as np
from PIL import Image


def check_png(path, min_width=200, min_height=150):
    """The picture at ``path`` as an HxWx3 uint8 array, after checking that it
    is a PNG at least ``min_width`` x ``min_height`` and not blank: several
    colours, and more than 1 % of its pixels differ from the background (the
    most frequent colour)."""
    with Image.open(path) as im:
        assert im.format == "PNG", "%s is %s, not PNG" % (path, im.format)
        rgb = np.asarray(im.convert("RGB"))
    h, w, _ = rgb.shape
    assert w >= min_width and h >= min_height, "%s is %dx%d" % (path, w, h)
    flat = rgb.reshape(-1, 3)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    assert len(colours) >= 8, "%s has %d colours" % (path, len(colours))
    assert 1 - counts.max() / float(len(flat)) > 0.01, "%s is nearly all one colour" % path
    return rgb
