"""Write files and folders so that an interrupted build never leaves output
that looks finished: everything is written under a temporary name in the same
folder and renamed into place only when complete.

The temporary name, ``.<name>.pid<PID>@<HOST>.<random>.partial``, names its
owner: a process killed with ``kill -9`` cannot remove its partial output (a
database's can be hundreds of MB), so the next write of the same output
removes the partials whose owner is a process of this host that no longer
exists (``remove_stale_partials``).  A partial of a live process, or of
another host (a shared file system), is never touched.

Outputs get the mode a plain ``open``/``mkdir`` would give them (0666/0777
less the umask), not the private 0600/0700 of ``tempfile``'s names, so a
database folder and the run-folder files look like every other file.
"""
import contextlib
import errno
import os
import re
import shutil
import socket
import tempfile

from .errors import RacnnError

_PARTIAL = re.compile(r"\.pid(\d+)@(.+)\.[^.]+\.partial$")


def umask():
    """This process's umask (read without changing it where /proc says it)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)          # the portable way: set and restore at once
    os.umask(mask)
    return mask


def _owner_tag():
    return ".pid%d@%s." % (os.getpid(), socket.gethostname())


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:          # someone else's process: alive
        return True
    return True


def remove_stale_partials(final_path):
    """Remove the partial outputs of ``final_path`` whose owner process (on
    this host) is gone; returns their paths."""
    final_path = os.path.abspath(final_path)
    parent, prefix = os.path.dirname(final_path), "." + os.path.basename(final_path)
    host, removed = socket.gethostname(), []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(prefix + ".pid"):
            continue
        m = _PARTIAL.match(name[len(prefix):])
        if not m or m.group(2) != host or _alive(int(m.group(1))):
            continue
        path = os.path.join(parent, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
        removed.append(path)
    return removed


def _no_space(exc, final_path):
    """A full disk as a RacnnError naming the device's folder, not a
    traceback (the partial output is already removed)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise RacnnError("%s: no space left on the device holding %s; the partial output was "
                         "removed" % (final_path, os.path.dirname(final_path))) from exc


@contextlib.contextmanager
def atomic_dir(final_path, overwrite=False):
    """Yield a temporary folder beside ``final_path``; on success rename it to
    ``final_path`` (replacing an existing one when ``overwrite``), on any error
    remove it.  The temporary name starts with ``.`` and ends in ``.partial``
    (see the module docstring); stale ones of ``final_path`` are removed."""
    final_path = os.path.abspath(final_path)
    parent = os.path.dirname(final_path)
    os.makedirs(parent, exist_ok=True)
    if os.path.exists(final_path) and not overwrite:
        raise FileExistsError(final_path)
    remove_stale_partials(final_path)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(final_path) + _owner_tag(),
                           suffix=".partial", dir=parent)
    try:
        os.chmod(tmp, 0o777 & ~umask())
        yield tmp
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _no_space(exc, final_path)
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
    ``.<name>.pid<PID>@<HOST>.XXXX.partial``) for the caller -- or a program it runs -- to
    write; rename it over ``final_path`` when the block ends without error,
    else delete it."""
    final_path = os.path.abspath(final_path)
    os.makedirs(os.path.dirname(final_path), exist_ok=True)
    remove_stale_partials(final_path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(final_path) + _owner_tag(),
                               suffix=".partial", dir=os.path.dirname(final_path))
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~umask())
        yield tmp
        os.replace(tmp, final_path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _no_space(exc, final_path)
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
