"""Progress bars for long work (tqdm from Debian's python3-tqdm), on stderr,
silent when RACNN_NO_PROGRESS is set or stderr is not a terminal and
RACNN_PROGRESS is not set."""
import os
import sys

from tqdm import tqdm


def progress(iterable=None, total=None, desc=None, unit="it", **kwargs):
    """Wrap ``iterable`` in a progress bar showing rate and ETA."""
    disable = bool(os.environ.get("RACNN_NO_PROGRESS")) or (
        not sys.stderr.isatty() and not os.environ.get("RACNN_PROGRESS"))
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable,
                file=sys.stderr, dynamic_ncols=True, mininterval=0.5, **kwargs)
