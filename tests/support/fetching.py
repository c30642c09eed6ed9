"""Resources the download tests serve themselves: files with their checksums,
archives with chosen members, a toy dataset of one archive and one file."""
import hashlib
import io
import os
import tarfile

from racnn import fetch


def digest(path, algo):
    """The hex ``algo`` (md5, sha1, sha256) digest of the file at ``path``."""
    with open(path, "rb") as fh:
        return hashlib.new(algo, fh.read()).hexdigest()


def tgz(path, members):
    """A .tgz with (name, bytes) files; a name ending in '/' is a folder,
    ('name', '->target') a symlink."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(data, str) and data.startswith("->"):
                info.type, info.linkname = tarfile.SYMTYPE, data[2:]
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def dataset_resource(src, algo="md5"):
    """A dataset made of one archive and one plain file, served from ``src``."""
    arch = tgz(os.path.join(src, "toy.tgz"), [("toy/", None), ("toy/images.txt", b"1 a.jpg\n"),
                                              ("toy/images/a.jpg", b"jpeg bytes")])
    mat = os.path.join(src, "labels.mat")
    with open(mat, "wb") as fh:
        fh.write(b"labels")
    files = (fetch.FileSpec("file://" + arch, "toy.tgz", digest(arch, algo), algo, True),
             fetch.FileSpec("file://" + mat, "labels.mat", digest(mat, algo), algo, False))
    return fetch.Resource("toy", "Toy set", "dataset", files, "datasets/toy",
                          ("toy/images.txt", "toy/images", "labels.mat"), "the tests")
