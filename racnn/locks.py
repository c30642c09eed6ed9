"""One file lock for everything several processes may reach at once: a
database or stage-1 model that several runs need (``wait``: one process
builds it, the others wait and then find it finished) and a run folder
(``refuse``: a second driver on the same folder stops with the holder's name
instead of training into the same snapshots and train.log).

The lock is ``fcntl.flock`` on a small file whose content names the holder
(pid, host, command, since): the kernel drops the lock when the holder dies,
however it dies, so a stale file never blocks anyone and its content is only
ever read to say who holds a lock that is really held.  flock works across
hosts on the shared file systems of clusters (NFS emulates it with POSIX
locks on Linux >= 2.6.12; Lustre and GPFS need their ``flock`` mount option).

Within one process the lock is re-entrant (a second flock from the same
process on a fresh descriptor would wait for itself): ``ensure_*`` holds the
database's lock and the ``build_*`` it calls takes it again for free.
"""
import contextlib
import datetime
import fcntl
import json
import os
import socket
import sys
import time

from .errors import RacnnError

#: lock files held by this process: real path -> [descriptor, depth]
_HELD = {}


def lock_path_beside(path):
    """The lock file of an output that appears by rename (a database folder):
    ``.<name>.lock`` in the same folder, which the rename never touches."""
    path = os.path.abspath(path).rstrip(os.sep)
    return os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".lock")


def holder(lock_file):
    """The holder's description written in ``lock_file`` (a dict; empty when
    unreadable or not yet written)."""
    try:
        with open(lock_file) as fh:
            return json.loads(fh.read() or "{}")
    except (OSError, ValueError):
        return {}


def is_held(lock_file):
    """Whether a process holds ``lock_file`` now (a non-blocking try, not the
    file's content: a killed holder's description outlives its lock)."""
    try:
        fd = os.open(lock_file, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def describe(info):
    """``pid 123 on host vm since <time> (python3 tools/experiment.py ...)``."""
    if not info:
        return "another process (its description is not written yet)"
    return "pid %s on %s since %s (%s)" % (info.get("pid", "?"), info.get("host", "?"),
                                           info.get("since", "?"), info.get("command", "?"))


def _me():
    cmd = " ".join([os.path.basename(sys.executable)] + sys.argv)
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.datetime.now().isoformat(timespec="seconds"),
            "command": cmd if len(cmd) <= 400 else cmd[:397] + "..."}


def _try(fd):
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@contextlib.contextmanager
def hold(lock_file, what, wait=True, timeout=None, poll=0.5):
    """Hold the lock ``lock_file`` for the block.

    ``what`` names the protected thing in messages ("database data/lmdb/...",
    "run folder runs/...").  Held by another process: with ``wait``, say once
    on stderr who holds it and wait (at most ``timeout`` seconds, then a
    RacnnError); without, raise a RacnnError naming the holder at once."""
    key = os.path.realpath(lock_file)
    if key in _HELD:                        # re-entrant within one process
        _HELD[key][1] += 1
        try:
            yield
        finally:
            _HELD[key][1] -= 1
        return
    os.makedirs(os.path.dirname(key), exist_ok=True)
    try:
        fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise RacnnError("cannot open the lock file %s of %s: %s" % (key, what, exc.strerror))
    try:
        if not _try(fd):
            other = describe(holder(key))
            if not wait:
                raise RacnnError("%s is in use by %s; wait for it to finish or stop it "
                                 "(lock file %s)" % (what, other, key))
            print("[racnn] waiting for %s: held by %s" % (what, other), file=sys.stderr,
                  flush=True)
            start = time.time()
            while not _try(fd):
                if timeout is not None and time.time() - start > timeout:
                    raise RacnnError("gave up after %.0f s waiting for %s, held by %s "
                                     "(lock file %s)" % (timeout, what, other, key))
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(_me()) + "\n").encode(), 0)
        _HELD[key] = [fd, 1]
        try:
            yield
        finally:
            del _HELD[key]
            os.ftruncate(fd, 0)             # released: the file no longer names anyone
    finally:
        os.close(fd)                        # closing drops the flock


def hold_beside(path, what, wait=True, timeout=None):
    """``hold`` on ``lock_path_beside(path)``."""
    return hold(lock_path_beside(path), what, wait=wait, timeout=timeout)
