"""Slow runs started ahead of the tests that read them.

The workflows' SMOKE runs (tests/workflows/conftest.py) are each made once per
session.  A run is a tool in a process of its own that the suite only waits
for, and the suite's own processes keep about one of the machine's cores busy;
so when the collected tests will need a run, tests/conftest.py starts it at the
beginning of the session, one run after another in a thread of their own, in
the order the tests will first need them.  The fixture that returns the run
then waits for it instead of starting it: the same command with the same
environment and folders, only started earlier.  Where a run was not started
ahead (a part of the suite without it), the fixture runs it then.

``recipe(name)`` registers, under a fixture's name, what makes its run:
``recipe(tmp_path_factory)`` returns ``(value, Run)``, or None where the run
cannot be made (its fixture skips); ``take(name, tmp_path_factory)`` is that
pair, started ahead or not.
"""
import os
import signal
import subprocess
import threading
import time

from racnn.paths import REPO

_RECIPES = {}
_TAKEN = {}
_QUEUE = []
_lock = threading.Lock()


class Run(object):
    """``argv`` in the repository root under ``env``, stdout and stderr
    together, in a process (and session) of its own; or ``call()``, which
    returns (returncode, output) and starts nothing of this process's (it
    only waits, as for a container)."""

    def __init__(self, argv=(), env=None, call=None):
        self.argv, self.env, self.call = list(argv), env, call
        self.proc = None
        self.returncode = self.output = self.seconds = self.error = None
        self._done = threading.Event()
        self._started = self._cancelled = False

    def run(self):
        """Run it to its end (once; a cancelled run does not start)."""
        t0 = time.time()
        with _lock:
            if self._cancelled or self._started:
                return
            self._started = True
            if self.call is None:
                self.proc = subprocess.Popen(self.argv, cwd=REPO, env=self.env,
                                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                             universal_newlines=True, start_new_session=True)
        try:
            if self.call is not None:
                self.returncode, self.output = self.call()
            else:
                self.output = self.proc.communicate()[0]
                self.returncode = self.proc.returncode
        except Exception as exc:            # raised again where the result is asked for
            self.error = exc
        finally:
            self.seconds = time.time() - t0
            self._done.set()

    def result(self):
        """(returncode, output, seconds), once it has ended; runs it now
        where it was not started ahead."""
        if not self._done.is_set() and self not in _QUEUE:
            self.run()
        self._done.wait()
        if self.error is not None:
            raise self.error
        return self.returncode, self.output, self.seconds

    def cancel(self):
        """Stop it (the whole process group) or keep it from starting."""
        with _lock:
            self._cancelled = True
            if self.proc is not None and self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._done.set()


def recipe(name):
    """Register the decorated ``f(tmp_path_factory)`` as what makes the run
    of fixture ``name``."""
    def register(f):
        _RECIPES[name] = f
        return f
    return register


def take(name, tmp_path_factory):
    """The (value, Run) of fixture ``name``: the one made at the start of
    the session, else made now (None: it cannot be made)."""
    if _TAKEN.get(name) is None:
        _TAKEN[name] = _RECIPES[name](tmp_path_factory)
    return _TAKEN[name]


def start(items, tmp_path_factory):
    """Make the runs that ``items`` (the session's tests, in order) will need,
    in the order they will first need them, and run them one after another
    in a thread."""
    order = []
    for item in items:
        for name in getattr(item, "fixturenames", ()):
            if name in _RECIPES and name not in order:
                order.append(name)
    for name in order:
        try:
            made = take(name, tmp_path_factory)
        except Exception:           # its fixture makes it again, and fails where it is needed
            continue
        if made is not None:
            _QUEUE.append(made[1])
    if _QUEUE:
        threading.Thread(target=lambda: [run.run() for run in list(_QUEUE)], daemon=True,
                         name="runs ahead").start()
    return order


def stop():
    """Cancel what still runs or waits (the session ends)."""
    for run in _QUEUE:
        run.cancel()
