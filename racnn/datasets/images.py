"""Image files: finding them (``image_files``, ``expand_images``), decoding
them the way MATLAB's ``imread`` does (``read_image``: BGR or RGB uint8, EXIF
orientation ignored, a pixel limit against decompression bombs) and cropping
a sample to its bounding box (``crop``, ``read_sample``)."""
import os

import numpy as np

from ..errors import RacnnError

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")


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
