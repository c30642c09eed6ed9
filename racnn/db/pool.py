"""An ordered, bounded, streaming parallel map for the database builders.

``ordered_map(func, items, workers)`` yields ``func(item)`` in order,
computed by forked worker processes (one BLAS and one OpenCV thread each).
Items go out in chunks; at most ``workers * inflight`` chunks are in flight,
so memory stays bounded whatever the number of items.

Results travel back through shared memory: every ``bytes`` value of at
least ``BIG`` bytes in a result tuple (or in a list inside it) is copied
into the chunk's slot of an anonymous shared mapping made before the fork,
and only its offset and length go through the pipe.  (Pickling 155 kB
Datums through multiprocessing's pipes cost ~1 ms of CPU per image, as much
as a third of the work.)  A value that does not fit its slot simply goes
through the pipe.
"""
import collections
import mmap
import multiprocessing
import os
import signal
import sys
import time
import weakref
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..errors import RacnnError
from ..resize.numpy_engine import set_blas_threads, single_blas_thread

CHUNK = 8           # items per task sent to a worker
INFLIGHT = 4        # chunks in flight per worker
BIG = 1 << 16       # bytes values at least this long go through shared memory

#: glibc mallopt parameters and values: every image makes temporaries of
#: 0.1-2 MB, which glibc would mmap and unmap each time (page faults and
#: zeroing: ~40 % of the CPU time of a build); served from a padded heap
#: that is trimmed late, they are reused.
_MALLOPT = ((-3, 64 << 20),     # M_MMAP_THRESHOLD
            (-2, 16 << 20),     # M_TOP_PAD
            (-1, 128 << 20))    # M_TRIM_THRESHOLD

#: shared mappings by token, inherited by the forked workers
_SHARED = {}


def tune_malloc():
    """Keep this process's large temporaries on the heap (glibc only; a
    no-op elsewhere).  Process-wide: the builders call it in their workers
    and in the writing process."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        for param, value in _MALLOPT:
            libc.mallopt(param, value)
    except (OSError, AttributeError):
        pass


def _init_worker():
    """One thread per worker process: the workers are the parallelism."""
    tune_malloc()
    set_blas_threads(1)
    cv2 = sys.modules.get("cv2")        # imported by the parent when the work needs it
    if cv2 is not None:
        cv2.setNumThreads(1)


class _Ref(tuple):
    """(offset, length) of a value stored in shared memory."""


def _pack(value, buf, pos, end):
    """``value`` with big bytes moved into ``buf[pos:end]``; returns (value, pos)."""
    if isinstance(value, bytes) and len(value) >= BIG and pos + len(value) <= end:
        buf[pos:pos + len(value)] = value
        return _Ref((pos, len(value))), pos + len(value)
    if isinstance(value, (tuple, list)):
        out = []
        for v in value:
            v, pos = _pack(v, buf, pos, end)
            out.append(v)
        return (tuple(out) if isinstance(value, tuple) else out), pos
    return value, pos


def _unpack(value, buf):
    if isinstance(value, _Ref):
        return bytes(buf[value[0]:value[0] + value[1]])
    if isinstance(value, tuple):
        return tuple(_unpack(v, buf) for v in value)
    if isinstance(value, list):
        return [_unpack(v, buf) for v in value]
    return value


def _run_chunk(func, chunk, token, start, size):
    results = [func(item) for item in chunk]
    buf = _SHARED.get(token)
    if buf is None:
        return results
    packed, _ = _pack(results, buf, start, start + size)
    return packed


def ordered_map(func, items, workers=None, chunk=CHUNK, inflight=INFLIGHT, item_bytes=0):
    """An iterator of ``func(item)`` for every item, in order, computed by
    ``workers`` processes (``os.cpu_count()`` by default; 0 or 1 = in this
    process).  ``item_bytes``: shared memory per item for the results' big
    bytes values (a chunk's slot holds ``chunk`` times that; 0 = results go
    through pipes).  ``func`` must be
    picklable (a module-level function, a functools.partial of one, or an
    instance of a module-level class).  The workers are forked here, before
    the caller starts progress-bar threads.  A worker that dies (the OOM
    killer, a crashing decoder) is a RacnnError at the next result, naming
    it: concurrent.futures notices a dead worker at once and fails what was
    pending, where multiprocessing.Pool replaced it and waited forever for
    the task it lost."""
    workers = (os.cpu_count() or 1) if workers is None else int(workers)
    tune_malloc()
    if workers <= 1:
        return _serial_map(func, items)
    slots = workers * inflight
    token = None
    slot_bytes = int(chunk) * int(item_bytes)
    if slot_bytes:
        token = "%d-%d" % (os.getpid(), id(items))
        _SHARED[token] = mmap.mmap(-1, slots * int(slot_bytes))
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_init_worker)
    pool.submit(int).result()           # forks every worker now (Python 3.9 forks on submit)
    procs = list(pool._processes.values())      # private; only to name a dead worker
    gen = _pool_map(pool, procs, func, items, slots, chunk, token, slot_bytes)
    weakref.finalize(gen, _cleanup, pool, token)      # also when it is never iterated
    return gen


def _cleanup(pool, token):
    """Stop the workers (a chunk already running is finished), free the
    shared memory."""
    pool.shutdown(wait=True, cancel_futures=True)
    buf = _SHARED.pop(token, None)
    if buf is not None:
        buf.close()


def _serial_map(func, items):
    with single_blas_thread():
        for item in items:
            yield func(item)


def _get(future, procs):
    try:
        return future.result()
    except BrokenProcessPool:
        raise _died(procs)


def _submit(pool, procs, *args):
    # A worker that dies between two submissions breaks the pool before the
    # next result is read: submit raises then, and must say the same.
    try:
        return pool.submit(*args)
    except BrokenProcessPool:
        raise _died(procs)


def _died(procs):
    """The error naming the worker that died.  The pool's thread reaps the
    workers as we read their exit codes: a read between its waitpid and its
    storing the status gives None (seen under load: the killed worker
    unnamed), so wait until every one has its code.  The pool SIGTERMs the
    others once one died: name one that did not."""
    deadline = time.monotonic() + 3
    while any(p.exitcode is None for p in procs) and time.monotonic() < deadline:
        time.sleep(0.02)
    dead = [p for p in procs if p.exitcode not in (None, -signal.SIGTERM)] or \
        [p for p in procs if p.exitcode is not None]
    what = "worker process %d died (%s)" % (dead[0].pid, _exit_text(dead[0].exitcode)) \
        if dead else "a worker process died"
    return RacnnError("%s; the build is stopped (out of memory? see dmesg)" % what)


def _exit_text(code):
    if code < 0:
        try:
            return "killed by %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exit status %d" % code


def _pool_map(pool, procs, func, items, slots, chunk, token, slot_bytes):
    pending = collections.deque()
    free = list(range(slots))
    try:
        it = iter(items)
        done = False
        while True:
            while not done and free:
                batch = [x for _, x in zip(range(chunk), it)]
                if not batch:
                    done = True
                    break
                slot = free.pop()
                pending.append((slot, _submit(
                    pool, procs, _run_chunk, func, batch, token, slot * slot_bytes, slot_bytes)))
            if not pending:
                break
            slot, future = pending.popleft()
            values = _get(future, procs)
            buf = _SHARED.get(token)
            if buf is not None:
                values = _unpack(values, buf)
            free.append(slot)
            for value in values:
                yield value
    finally:
        _cleanup(pool, token)
