"""Write files and folders so that an interrupted build never leaves output
that looks finished: everything is written under a temporary name in the same
folder and renamed into place only when complete."""
import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_dir(final_path, overwrite=False):
    """Yield a temporary folder beside ``final_path``; on success rename it to
    ``final_path`` (replacing an existing one when ``overwrite``), on any error
    remove it.  The temporary name starts with ``.`` and ends in ``.partial``."""
    final_path = os.path.abspath(final_path)
    parent = os.path.dirname(final_path)
    os.makedirs(parent, exist_ok=True)
    if os.path.exists(final_path) and not overwrite:
        raise FileExistsError(final_path)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(final_path) + ".",
                           suffix=".partial", dir=parent)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if os.path.exists(final_path):
        old = final_path + ".old.%d" % os.getpid()
        os.rename(final_path, old)
        os.rename(tmp, final_path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, final_path)


@contextlib.contextmanager
def atomic_path(final_path):
    """Yield the path of an empty temporary file beside ``final_path`` (named
    ``.<name>.XXXX.partial``) for the caller -- or a program it runs -- to
    write; rename it over ``final_path`` when the block ends without error,
    else delete it."""
    final_path = os.path.abspath(final_path)
    os.makedirs(os.path.dirname(final_path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(final_path) + ".",
                               suffix=".partial", dir=os.path.dirname(final_path))
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, final_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_file(final_path, mode="w"):
    """Open a temporary file beside ``final_path`` for writing; rename it over
    ``final_path`` when the block ends without error, else delete it."""
    with atomic_path(final_path) as tmp, open(tmp, mode) as fh:
        yield fh


def write_text(path, text):
    """Atomically write ``text`` to ``path``."""
    with atomic_file(path, "w") as fh:
        fh.write(text)
