"""Dataset adapters: official file formats -> one list of samples.

``load(fmt, root, split)`` returns a :class:`Dataset` whose ``samples`` are
:class:`Sample` tuples ``(path, label, box, id)``:

* ``path``: absolute path of the image file;
* ``label``: 0-based class index, in the order of ``class_names``, which
  comes from the official files (never from directory listing order);
* ``box``: ``(x0, y0, x1, y1)`` in 0-based pixel coordinates, half-open
  (the crop is ``img[y0:y1, x0:x1]``), or None for the whole image;
* ``id``: a short stable identifier (official image id or relative path).

Formats: ``cars`` (Stanford Cars devkit), ``cub`` (CUB-200-2011; alias
``birds``), ``flowers`` (Oxford 102 Flowers; training = trnid + valid as in
the paper; ``train``/``val``/``trainval``/``test`` available), ``folder``
(folder-per-class with optional split lists; also reads what
``racnn.datasets.synthetic`` writes).
"""
import collections
import hashlib
import os

import numpy as np

from .. import specs
from ..errors import RacnnError

Sample = collections.namedtuple("Sample", "path label box id")

#: adapter name -> module name (imported lazily)
FORMATS = collections.OrderedDict([
    ("cars", "cars"), ("cub", "cub"), ("flowers", "flowers"), ("folder", "folder")])
#: other spellings accepted by ``load``: the dataset names of racnn.specs and
#: their aliases (each meaning its dataset's format), and the demo's dataset
FORMAT_ALIASES = dict(
    [(name, spec.fmt) for name, spec in specs.DATASETS.items() if name != spec.fmt]
    + [(alias, specs.DATASETS[name].fmt) for alias, name in specs.DATASET_ALIASES.items()
       if alias not in FORMATS], synthetic="folder")
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


class Dataset(object):
    """The samples of one split of a dataset and its class names.

    ``name`` is the dataset name used for database paths (``cars``,
    ``birds``, ``flowers`` or the folder's name)."""

    def __init__(self, name, fmt, root, split, samples, class_names, layout=None):
        self.name = name
        self.layout = layout
        self.fmt = fmt
        self.root = os.path.abspath(root)
        self.split = split
        self.samples = list(samples)
        self.class_names = list(class_names)
        self._check()

    @property
    def num_classes(self):
        return len(self.class_names)

    def __len__(self):
        return len(self.samples)

    def __repr__(self):
        return "<Dataset %s %s: %d samples, %d classes, root %s>" % (
            self.name, self.split, len(self.samples), self.num_classes, self.root)

    def _check(self):
        if not self.samples:
            raise RacnnError("%s dataset at %s: the %r split has no images"
                             % (self.fmt, self.root, self.split))
        n = self.num_classes
        for s in self.samples:
            if not (0 <= s.label < n):
                raise RacnnError("%s dataset at %s: image %s has label %d, outside 0..%d "
                                 "(%d classes)" % (self.fmt, self.root, s.path, s.label, n - 1, n))
            if s.box is not None:
                x0, y0, x1, y1 = s.box
                if not (x1 > x0 and y1 > y0):
                    raise RacnnError("%s dataset at %s: image %s has an empty bounding box %r"
                                     % (self.fmt, self.root, s.path, s.box))

    def label_range(self):
        labels = [s.label for s in self.samples]
        return min(labels), max(labels)

    def source_hash(self):
        """sha256 over (relative path, label, box) of every sample in order:
        identifies the source list a database was made from."""
        h = hashlib.sha256()
        for s in self.samples:
            rel = os.path.relpath(s.path, self.root)
            h.update(("%s\t%d\t%r\n" % (rel, s.label, s.box)).encode("utf-8"))
        return h.hexdigest()

    def check_files(self, limit=5):
        """Raise a RacnnError listing (the first ``limit``) missing images."""
        missing = [s.path for s in self.samples if not os.path.isfile(s.path)]
        if missing:
            raise RacnnError("%s dataset at %s: %d of %d images of the %r split are missing, "
                             "e.g. %s%s" % (self.fmt, self.root, len(missing), len(self.samples),
                                            self.split, ", ".join(missing[:limit]),
                                            "\nExpected layout:\n" + self.layout
                                            if self.layout else ""))


def image_files(folder):
    """The image files (``IMAGE_EXTS``) under ``folder``, recursively:
    sub-folders and files in sorted order."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        out.extend(os.path.join(dirpath, f) for f in sorted(filenames)
                   if f.lower().endswith(IMAGE_EXTS))
    return out


def expand_images(inputs):
    """The image files named by ``inputs`` (files, or folders walked by
    ``image_files``), in the order given; a RacnnError naming an input that
    does not exist, or when there is no image at all."""
    files = []
    for path in inputs:
        if os.path.isdir(path):
            files.extend(image_files(path))
        elif os.path.isfile(path):
            files.append(path)
        else:
            raise RacnnError("input %s does not exist (give image files or folders)" % path)
    if not files:
        raise RacnnError("no image files in %s" % " ".join(inputs))
    return files


def canonical_format(fmt):
    key = str(fmt).lower()
    key = FORMAT_ALIASES.get(key, key)
    if key not in FORMATS:
        raise RacnnError("unknown dataset format %r; valid: %s (aliases: %s)"
                         % (fmt, ", ".join(FORMATS), ", ".join(sorted(FORMAT_ALIASES))))
    return key


def load(fmt, root, split, check_files=True, **opts):
    """Load ``split`` of the dataset in format ``fmt`` found at ``root``.

    With ``check_files`` (default) every image must exist; otherwise only
    the metadata files are read.  Extra ``opts`` go to the adapter; every
    adapter takes ``use_boxes`` (default True: crop to the official boxes;
    ignored by ``flowers`` and ``folder``, which have none)."""
    import importlib
    key = canonical_format(fmt)
    if not os.path.isdir(root):
        raise RacnnError("%s dataset: folder %s does not exist" % (key, root))
    module = importlib.import_module("." + FORMATS[key], __name__)
    ds = module.load(os.path.abspath(root), split, **opts)
    if check_files:
        ds.check_files()
    return ds


def require_file(root, names, fmt, layout, required=True):
    """The first of ``names`` (relative to ``root``) that exists; when none
    does, a RacnnError naming the file and the expected ``layout`` (or None
    when not ``required``)."""
    if isinstance(names, str):
        names = [names]
    for name in names:
        path = os.path.join(root, name)
        if os.path.isfile(path):
            return path
    if not required:
        return None
    raise RacnnError("%s dataset at %s: missing %s.\nExpected layout:\n%s"
                     % (fmt, root, " or ".join(names), layout))


def loadmat(path):
    """The variables of a MATLAB .mat file (scipy.io.loadmat), or a
    RacnnError naming the file it cannot read."""
    import scipy.io
    try:
        return scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises several types for bad files
        raise RacnnError("cannot read %s: %s" % (path, exc))


def read_lines(path):
    """Non-empty, stripped lines of a text file, with their 1-based numbers."""
    with open(path, encoding="utf-8") as fh:
        return [(i + 1, line.strip()) for i, line in enumerate(fh) if line.strip()]


def read_class_names(root):
    """``(path, names)`` of the optional ``root/classes.txt`` (one class name
    a line, in label order); ``names`` is None when there is no such file."""
    path = os.path.join(root, "classes.txt")
    return path, [line for _, line in read_lines(path)] if os.path.isfile(path) else None


def check_split(split, valid, fmt):
    if split not in valid:
        raise RacnnError("%s dataset: unknown split %r; valid: %s" % (fmt, split, ", ".join(valid)))
    return split


#: images with more pixels than this are bad images (a decompression bomb, or a
#: scan no fine-grained dataset holds: CUB's largest is 0.25 Mpx); the
#: builders' --max-pixels sets it (``limit_pixels``) before their workers fork
MAX_PIXELS = 100 * 1000 * 1000


def limit_pixels(max_pixels):
    """Set ``MAX_PIXELS`` for this process (and the workers it forks later)."""
    global MAX_PIXELS
    if int(max_pixels) < 1:
        raise RacnnError("the pixel limit must be positive, got %s" % max_pixels)
    MAX_PIXELS = int(max_pixels)


def relative_path(where, rel, root):
    """``root/rel`` for a path read from a metadata file, or a RacnnError
    naming ``where`` (the file and line) when ``rel`` is absolute or climbs
    out of ``root`` with ``..``: a list must not make a builder read
    ``../../../etc/hostname``."""
    parts = str(rel).replace("\\", "/").split("/")
    if os.path.isabs(rel) or ".." in parts or (len(rel) > 1 and rel[1] == ":"):
        raise RacnnError("%s: paths must be relative to %s (no '..', not absolute), got %r"
                         % (where, root, rel))
    return os.path.join(root, rel)


def read_image(path, rgb=False):
    """Decode an image file to an HxWx3 uint8 array, BGR (or RGB with
    ``rgb``): grey images are replicated to 3 channels, alpha is dropped,
    EXIF orientation is ignored as MATLAB's ``imread`` does; a RacnnError
    naming the file otherwise.

    RGB and grey images are decoded by Pillow (the same libjpeg-turbo and
    libpng as OpenCV, identical pixels, ~2x faster here); other modes
    (CMYK, 16-bit, ...) by OpenCV (imported only then: 0.25 s)."""
    if not os.path.isfile(path):
        raise RacnnError("image %s does not exist" % path)
    try:
        import io
        from PIL import Image
        with open(path, "rb") as fh:        # one read: Pillow reads files in small chunks
            data = fh.read()
        # our limit (MAX_PIXELS, below) replaces Pillow's, which opening checks
        # against the header's size: one message, and a limit the user can raise
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            im = Image.open(io.BytesIO(data))
        finally:
            Image.MAX_IMAGE_PIXELS = saved
        with im:
            if im.size[0] * im.size[1] > MAX_PIXELS:
                raise RacnnError("image %s is %dx%d = %d pixels, more than the limit of %d "
                                 "(--max-pixels)" % (path, im.size[0], im.size[1],
                                                     im.size[0] * im.size[1], MAX_PIXELS))
            if im.mode in ("RGB", "L", "P", "RGBA", "LA"):
                im = im if im.mode == "RGB" else im.convert("RGB")
                arr = np.frombuffer(im.tobytes(), np.uint8).reshape(im.size[1], im.size[0], 3)
                if rgb:
                    return arr
                import cv2
                return cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow's errors for bad files
        raise RacnnError("cannot decode image %s (corrupt or not an image: %s)" % (path, exc))
    import cv2
    img = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if img is None or img.size == 0:
        raise RacnnError("cannot decode image %s (corrupt or not an image)" % path)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB) if rgb else img


def crop(img, box, path="image"):
    """``(img[y0:y1, x0:x1], clipped)``: the box is clipped to the image
    (``clipped`` tells whether it had to be); an empty result is an error."""
    if box is None:
        return img, False
    h, w = img.shape[:2]
    x0, y0, x1, y1 = (int(v) for v in box)
    cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if cx1 <= cx0 or cy1 <= cy0:
        raise RacnnError("%s: bounding box %r lies outside the %dx%d image"
                         % (path, tuple(box), w, h))
    clipped = (cx0, cy0, cx1, cy1) != (x0, y0, x1, y1)
    return img[cy0:cy1, cx0:cx1], clipped


def read_sample(sample, rgb=False):
    """``(cropped BGR (or RGB) image, clipped)`` of a Sample."""
    return crop(read_image(sample.path, rgb), sample.box, sample.path)
