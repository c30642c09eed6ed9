"""Dataset adapters: official file formats -> one list of samples.

``base``: the Dataset / Sample model, ``load(fmt, root, split)`` and the
helpers the adapters share; ``images``: finding, decoding and cropping image
files; one module per format of racnn.vocab.FORMATS (``cars``, ``cub``,
``flowers``, ``folder``); ``synthetic``: the demo's generated dataset.
The names below are handed on from ``base`` and ``images``.
"""
from .base import Dataset, Sample, canonical_format, load  # noqa: F401
from .images import (MAX_PIXELS, crop, expand_images, image_files, limit_pixels,  # noqa: F401
                     read_image, read_sample)
