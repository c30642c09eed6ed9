"""racnn.plots (issue 15, item 10): the learning-curve figure's panels do not
run into each other, and confusion matrices of many classes list the most
confused pairs by name beside the picture."""
import numpy as np
from PIL import Image

from racnn import plots
from tests.support.pictures import check_png


def test_most_confused_pairs_counts_names_and_order():
    cm = np.zeros((50, 50), dtype=np.int64)
    np.fill_diagonal(cm, 3)
    cm[4, 7] = 5
    cm[7, 4] = 2
    cm[10, 1] = 2
    cm[49, 0] = 1
    names = ["class %02d" % i for i in range(50)]
    assert plots.most_confused(cm, names, k=3) == [
        (5, 4, 7, "class 04", "class 07"), (2, 7, 4, "class 07", "class 04"),
        (2, 10, 1, "class 10", "class 01")]
    assert plots.most_confused(cm, None, k=10)[-1] == (1, 49, 0, "49", "0")
    assert plots.most_confused(np.eye(3, dtype=int), names) == []


def test_confusion_matrix_of_50_classes_has_the_pairs_beside_it(tmp_path):
    rng = np.random.RandomState(0)
    cm = rng.poisson(0.3, size=(50, 50)) + np.diag(np.full(50, 4))
    path = plots.confusion_matrix(cm, str(tmp_path / "confusion.png"),
                                  ["bird %d" % i for i in range(50)])
    rgb = check_png(path, 600, 600)
    h, w, _ = rgb.shape
    assert w > 1.25 * h                      # the list takes a column of its own
    alone = plots.confusion_matrix(np.diag([3, 4]), str(tmp_path / "diag.png"))
    h2, w2, _ = check_png(alone, 150, 150).shape
    assert w2 < 1.25 * h2                    # nothing confused: no list


def test_learning_curve_panels_do_not_overlap(tmp_path):
    train = [{"iteration": i, "loss": 5.0 / (1 + i), "lr": 0.01 * 0.1 ** (i // 400)}
             for i in range(0, 1200, 20)]
    test = [{"iteration": i, "accuracy": i / 1200.0, "loss": 3.0 - i / 600.0}
            for i in range(0, 1201, 200)]
    fig = plots.learning_curves_figure(train, test, "curves")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    right = [ax for ax in fig.axes if ax.get_ylabel() == "test output"]
    left = [ax for ax in fig.axes if ax not in right]
    assert len(right) == 1 and {ax.get_ylabel() for ax in left} == {"loss", "learning rate"}
    box = right[0].get_tightbbox(renderer)
    for ax in left:
        assert not ax.get_tightbbox(renderer).overlaps(box), ax.get_ylabel()
    plots.save(fig, str(tmp_path / "curves.png"))
    check_png(str(tmp_path / "curves.png"), 800, 300)


# ---------- classes without test images
# A class without test images is drawn as a hatched grey row of the
# confusion matrix, not as a white row that reads as "none correct".
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
