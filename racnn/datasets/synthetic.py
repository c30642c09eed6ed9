"""A seeded synthetic fine-grained dataset for the CPU demo and the tests.

Every image shows a smooth coloured background with blurred clutter and one
object (a rotated ellipse of random colour, size and place).  The object is
covered by a fine texture; the class is only in that texture: its pattern
(``PATTERNS``: vertical or horizontal stripes, an upright or a diagonal
checkerboard) and its period (``PERIODS``, in units of ``detail`` = the
finest period as a fraction of the image side).  Every pattern is its own
mirror image (a diagonal grating would turn into another class under the
training nets' random mirroring).  Nothing coarse depends on the class, so
at low resolution, where bicubic downscaling attenuates the texture to a
faint trace (the checkerboards' finer diagonal components most), the
classes look alike: the situation RACNN is about.

The images are ordinary JPEG files in the folder-per-class layout::

    <root>/classes.txt            one class name per line, in label order
    <root>/train.txt, test.txt    one relative image path per line
    <root>/<class name>/<split>_<nnnn>.jpg
    <root>/synthetic.json         the generator's parameters (for re-use checks)

``generate`` writes them through ``racnn.atomic`` (an interrupted run leaves
no folder that looks finished) and is deterministic for a given seed.
"""
import json
import math
import os

import numpy as np

from ..atomic import atomic_dir
from ..errors import RacnnError

#: texture patterns: name -> orientations (degrees) of the cosine gratings
#: multiplied together (one: stripes, two: a checkerboard)
PATTERNS = (("stripes000", (0.0,)), ("stripes090", (90.0,)), ("checker", (0.0, 90.0)),
            ("diamond", (45.0, 135.0)))
#: period multipliers (of ``detail``) of the texture, one per period factor
PERIODS = (1.0, 1.4)

DEFAULTS = dict(num_classes=8, train_per_class=60, test_per_class=30, size=96,
                detail=0.14, contrast=(0.35, 0.6), noise=4.0, quality=95, seed=0)

INFO_FILE = "synthetic.json"
#: version of the images ``render`` draws (a dataset of another version is not reused)
GENERATOR = 2


def class_names(num_classes=DEFAULTS["num_classes"]):
    """Names of the classes, e.g. ``c2_checker_p1.0``, in label order."""
    return ["c%d_%s_p%.1f" % (i, name, p)
            for i, (name, _, p) in enumerate(_factors(num_classes))]


def _factors(num_classes):
    """[(pattern name, grating angles, period multiplier)] per class."""
    combos = [(name, angles, p) for p in PERIODS for name, angles in PATTERNS]
    if not 2 <= num_classes <= len(combos):
        raise RacnnError("synthetic dataset: num_classes must be 2..%d, not %r"
                         % (len(combos), num_classes))
    return combos[:num_classes]


def _smooth_noise(rng, size, cells, amplitude):
    """Low-frequency noise: a random ``cells x cells`` grid upsampled."""
    import cv2
    grid = rng.uniform(-amplitude, amplitude, size=(cells, cells, 3)).astype(np.float32)
    return cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)


def render(rng, label, size=DEFAULTS["size"], detail=DEFAULTS["detail"],
           contrast=DEFAULTS["contrast"], noise=DEFAULTS["noise"],
           num_classes=DEFAULTS["num_classes"]):
    """One ``size x size`` BGR uint8 image of class ``label``."""
    import cv2
    _, angles, pmult = _factors(num_classes)[label]
    s = float(size)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)

    # background: a gradient between two random colours + clutter
    c0, c1 = rng.uniform(40, 215, size=(2, 3))
    t = rng.uniform(0, 2 * math.pi)
    ramp = ((xx * math.cos(t) + yy * math.sin(t)) / s + 1.0) / 2.0
    img = c0 + (c1 - c0) * np.clip(ramp, 0, 1)[..., None]
    img = img + _smooth_noise(rng, size, 5, 30.0)
    for _ in range(rng.randint(2, 5)):     # blurred distractor blobs
        cx, cy = rng.uniform(0, s, size=2)
        r = rng.uniform(0.05, 0.15) * s
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
        img = img + blob[..., None] * rng.uniform(-60, 60, size=3)

    # the object: a rotated ellipse with a soft edge
    cx, cy = rng.uniform(0.35, 0.65, size=2) * s
    ax, ay = rng.uniform(0.22, 0.36, size=2) * s
    phi = rng.uniform(0, math.pi)
    u = (xx - cx) * math.cos(phi) + (yy - cy) * math.sin(phi)
    v = -(xx - cx) * math.sin(phi) + (yy - cy) * math.cos(phi)
    mask = np.clip((1.0 - np.sqrt((u / ax) ** 2 + (v / ay) ** 2)) * s * 0.15, 0, 1)
    base = rng.uniform(60, 195, size=3)

    # the class: a texture of the class's pattern and period on the object,
    # turned by a small random angle (symmetric, so mirroring keeps the class)
    turn = rng.uniform(-6, 6)
    period = detail * s * pmult * rng.uniform(0.93, 1.07)
    wave = np.ones_like(xx)
    for a in angles:
        theta = math.radians(a + turn)
        wave *= np.cos(2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period
                       + rng.uniform(0, 2 * math.pi))
    amp = rng.uniform(*contrast) * np.minimum(base, 255 - base)
    obj = base + wave[..., None] * amp
    img = img * (1 - mask[..., None]) + obj * mask[..., None]

    img = img + rng.normal(0, noise, size=img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def generate(root, num_classes=DEFAULTS["num_classes"],
             train_per_class=DEFAULTS["train_per_class"],
             test_per_class=DEFAULTS["test_per_class"], size=DEFAULTS["size"],
             detail=DEFAULTS["detail"], contrast=DEFAULTS["contrast"],
             noise=DEFAULTS["noise"], quality=DEFAULTS["quality"],
             seed=DEFAULTS["seed"], overwrite=False, progress=None):
    """Write the dataset into ``root`` and return its parameters (also saved
    as ``root/synthetic.json``).  An existing dataset with the same
    parameters is kept as is; one with other parameters is an error unless
    ``overwrite``.  ``progress`` optionally wraps an iterable (a bar)."""
    import cv2
    params = dict(generator=GENERATOR, num_classes=int(num_classes), train_per_class=int(train_per_class),
                  test_per_class=int(test_per_class), size=int(size), detail=float(detail),
                  contrast=[float(c) for c in contrast], noise=float(noise),
                  quality=int(quality), seed=int(seed))
    names = class_names(num_classes)
    existing = read_info(root)
    if existing is not None:
        if {k: existing.get(k) for k in params} == params:
            return existing
        if not overwrite:
            raise RacnnError("%s holds a synthetic dataset made with other parameters "
                             "(%s); remove it or choose another folder"
                             % (root, os.path.join(root, INFO_FILE)))
    elif os.path.exists(root) and os.listdir(root) and not overwrite:
        raise RacnnError("%s exists and is not a synthetic dataset; choose another folder" % root)

    jobs = [(split, label, i) for split, n in (("train", train_per_class), ("test", test_per_class))
            for label in range(num_classes) for i in range(n)]
    if progress is not None:
        jobs = progress(jobs, total=len(jobs), desc="synthetic images", unit="img")
    lists = {"train": [], "test": []}
    with atomic_dir(root, overwrite=True) as tmp:
        for name in names:
            os.makedirs(os.path.join(tmp, name))
        for split, label, i in jobs:
            # one seeded stream per image: the same image whatever the counts
            rng = np.random.RandomState([seed, label, 0 if split == "train" else 1, i])
            img = render(rng, label, size, detail, contrast, noise, num_classes)
            rel = "%s/%s_%04d.jpg" % (names[label], split, i)
            if not cv2.imwrite(os.path.join(tmp, rel), img,
                               [cv2.IMWRITE_JPEG_QUALITY, int(quality)]):
                raise RacnnError("could not write %s" % os.path.join(root, rel))
            lists[split].append(rel)
        for split, rels in lists.items():
            with open(os.path.join(tmp, split + ".txt"), "w") as fh:
                fh.write("".join(r + "\n" for r in rels))
        with open(os.path.join(tmp, "classes.txt"), "w") as fh:
            fh.write("".join(n + "\n" for n in names))
        info = dict(params, class_names=names, train_count=len(lists["train"]),
                    test_count=len(lists["test"]))
        with open(os.path.join(tmp, INFO_FILE), "w") as fh:
            json.dump(info, fh, indent=1)
    return info


def read_info(root):
    """The parameters of the synthetic dataset in ``root``, or None."""
    path = os.path.join(root, INFO_FILE)
    if not os.path.isfile(path):
        return None
    with open(path) as fh:
        return json.load(fh)
