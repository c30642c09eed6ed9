"""User-facing errors and the small wrapper every command-line tool uses.

Library code raises :class:`RacnnError` with a message that names the file and
what is wrong; ``cli_main`` prints it as ``<tool>: error: <message>`` and exits
with its ``status`` (2; 3 for :class:`NotFinished`) instead of showing a
traceback from deep inside.
"""
import functools
import os
import sys


class RacnnError(Exception):
    """An error caused by the user's input or environment (bad file, missing
    data, mismatched database); its message is shown without a traceback."""
    status = 2


class NotFinished(RacnnError):
    """The work ran, but its result is not finished by racnn.rundir.verdict's
    rule (a stale stage kept, say): a script or a sweep must not go on as if
    it were.  Exit status 3."""
    status = 3


def cli_main(func):
    """Decorate a tool's ``main(argv=None)`` so RacnnError ends the program
    with a clear message and its exit status (2, NotFinished 3; Ctrl-C 130)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        prog = os.path.basename(sys.argv[0]) or "racnn"
        try:
            return func(*args, **kwargs)
        except RacnnError as exc:
            print("%s: error: %s" % (prog, exc), file=sys.stderr)
            sys.exit(exc.status)
        except KeyboardInterrupt:
            print("%s: interrupted" % prog, file=sys.stderr)
            sys.exit(130)

    return wrapper


class RacnnWarning(UserWarning):
    """Something suspicious that does not stop the work (e.g. a database
    without its manifest); shown through the ``warnings`` module."""
