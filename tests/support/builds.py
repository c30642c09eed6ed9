"""Small image folders written by the tests, and tools/build_lmdb.py run on
them in a process of its own (the database builds the fault cases attack)."""
import os
import subprocess
import sys

import numpy as np

from racnn.paths import REPO

TOOL = [sys.executable, "tools/build_lmdb.py"]


def png(path, seed=0, shape=(32, 40, 3)):
    """A random PNG image (Pillow) at ``path``."""
    from PIL import Image
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.random.RandomState(seed).randint(0, 256, shape).astype(np.uint8)).save(
        path)


def flat_png(path, value=100, shape=(24, 30, 3)):
    """A one-colour PNG image (Pillow) at ``path``."""
    from PIL import Image
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full(shape, value, np.uint8)).save(path)


def folder(root, per_class=3, shape=(32, 40, 3), classes=("a", "b")):
    """A folder-per-class dataset of random PNGs under ``root``."""
    for k, cls in enumerate(classes):
        for i in range(per_class):
            png(os.path.join(str(root), cls, "%04d.png" % i), seed=k * 1000 + i, shape=shape)
    return str(root)


def build_lmdb(*args, **kw):
    """tools/build_lmdb.py ARGS (a process of its own, at most 300 s)."""
    return subprocess.run(TOOL + list(args), capture_output=True, text=True, cwd=REPO,
                          timeout=300, **kw)


def build(root, out, *extra, **kw):
    """The database of the folder dataset ``root`` (all of it, r 8, size 16,
    one worker) at ``out``."""
    return build_lmdb("--dataset", "folder", "--root", str(root), "--split", "all", "--res", "8",
                      "--size", "16", "--out", str(out), "--workers", "1", *extra, **kw)


def leftovers(folder, name):
    """Entries of ``folder`` that belong to output ``name`` other than itself
    (partials, old copies)."""
    return [f for f in os.listdir(str(folder)) if f.startswith("." + name)
            and not f.endswith(".lock")]
