"""A class without test images is drawn as a hatched grey row of the
confusion matrix, not as a white row that reads as "none correct"."""
import numpy as np
from PIL import Image

from racnn import plots


def _grey_pixels(path):
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    grey = (abs(img[..., 0] - img[..., 1]) < 6) & (abs(img[..., 1] - img[..., 2]) < 6) & \
        (img[..., 0] > 150) & (img[..., 0] < 230)
    return int(grey.sum())


def test_a_class_without_test_images_is_hatched(tmp_path):
    present = np.array([[3, 1, 0], [0, 4, 0], [1, 0, 2]])
    absent = present.copy()
    absent[1] = 0                                   # class 1 has no test image
    a = plots.confusion_matrix(present, str(tmp_path / "a.png"), ["x", "y", "z"])
    b = plots.confusion_matrix(absent, str(tmp_path / "b.png"), ["x", "y", "z"])
    assert _grey_pixels(b) > _grey_pixels(a) + 2000
