"""Parse the training log of Caffe 1.0 (Debian's build: glog lines such as
``I1127 01:58:42.621914 13046 solver.cpp:239] Iteration 0 (5 iter/s, 0.2s/5
iters), loss = 1.61``) into rows.

``parse_log(path) -> CaffeLog(train, test, start, path)``:
  * ``train``: one dict per displayed iteration: ``iteration``, ``seconds``
    (since the log's first time stamp), ``lr``, ``loss`` (the loss Caffe
    displays, smoothed over ``average_loss`` iterations) and every ``Train
    net output`` as ``train_<name>`` (unsmoothed);
  * ``test``: one dict per test pass: ``iteration``, ``seconds`` and every
    ``Test net output`` by name; a blob with several values (an Accuracy
    layer's per-class top) becomes ``name[0]``, ``name[1]``, ...; outputs of a
    second test net are prefixed ``test1/``.
A run resumed into the same log keeps the last value of a repeated
iteration.  Time stamps carry no year: a jump back in time (new year) is
counted forward.  ``write_csv(log, train_csv, test_csv)`` writes both tables;
``seconds_per_iteration(log)`` is the median training speed over display
intervals (intervals that contain a test pass do not distort the median).
``caffe_env()`` is the environment under which a ``caffe`` process writes
the full log these functions read.
"""
import collections
import datetime
import os
import re

from ..errors import RacnnError
from ..atomic import atomic_file

CaffeLog = collections.namedtuple("CaffeLog", "train test start path")


def caffe_env():
    """Environment of a ``caffe`` child: full glog output to stderr."""
    return dict(os.environ, GLOG_minloglevel="0", GLOG_logtostderr="1")

_NUM = r"([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|-?nan|-?inf))"
_STAMP = re.compile(r"^[IWEF](\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d+)\s")
_TRAIN = re.compile(r"\] Iteration (\d+)(?: \([^)]*\))?, loss = " + _NUM)
_LR = re.compile(r"\] Iteration (\d+), lr = " + _NUM)
_TESTING = re.compile(r"\] Iteration (\d+), Testing net \(#(\d+)\)")
_OUTPUT = re.compile(r"\]\s+(Train|Test) net output #(\d+): (\S+) = " + _NUM)


class _Clock(object):
    """Seconds since the first time stamp, across midnight and new year."""

    def __init__(self, year):
        self.year, self.start, self.last = year, None, None

    def __call__(self, m):
        mo, d, hh, mm, ss, frac = m.groups()
        try:
            t = datetime.datetime(self.year, int(mo), int(d), int(hh), int(mm), int(ss),
                                  int(frac[:6].ljust(6, "0")))
        except ValueError:               # 29 Feb in a year guessed wrong
            t = datetime.datetime(self.year + 1, int(mo), int(d), int(hh), int(mm), int(ss))
        if self.last is not None and t < self.last - datetime.timedelta(days=1):
            self.year += 1
            t = t.replace(year=self.year)
        if self.start is None:
            self.start = t
        self.last = t
        return (t - self.start).total_seconds()


def parse_log(path, year=None):
    """Parse a Caffe training log file; see the module docstring."""
    if not os.path.isfile(path):
        raise RacnnError("%s: no such log file" % path)
    year = year or datetime.datetime.fromtimestamp(os.path.getmtime(path)).year
    clock = _Clock(year)
    train = collections.OrderedDict()
    test = collections.OrderedDict()
    seconds = None
    cur_train = cur_test = None
    prefix = ""
    with open(path, errors="replace") as fh:
        for line in fh:
            ms = _STAMP.match(line)
            if not ms:
                continue
            seconds = clock(ms)
            m = _TRAIN.search(line)
            if m:
                it = int(m.group(1))
                cur_train = train.setdefault(it, {"iteration": it})
                cur_train.update(seconds=seconds, loss=float(m.group(2)))
                cur_test = None
                continue
            m = _LR.search(line)
            if m:
                it = int(m.group(1))
                train.setdefault(it, {"iteration": it, "seconds": seconds})["lr"] = \
                    float(m.group(2))
                continue
            m = _TESTING.search(line)
            if m:
                it, net = int(m.group(1)), int(m.group(2))
                prefix = "test%d/" % net if net else ""
                cur_test = test.setdefault(it, {"iteration": it})
                if not net:
                    cur_test["seconds"] = seconds
                for k in [k for k in cur_test if k.startswith(prefix) and
                          (prefix or "/" not in k) and k not in ("iteration", "seconds")]:
                    del cur_test[k]          # a resumed run tests this iteration again
                continue
            m = _OUTPUT.search(line)
            if m:
                kind, name, value = m.group(1), m.group(3), float(m.group(4))
                row = cur_train if kind == "Train" else cur_test
                if row is None:
                    continue
                _add(row, (prefix if kind == "Test" else "train_") + name, value)
    for rows in (train, test):
        for row in rows.values():
            _number_repeats(row)
    return CaffeLog([train[k] for k in sorted(train)], [test[k] for k in sorted(test)],
                    clock.start, path)


def _add(row, name, value):
    """Store ``value``; a repeated name collects a list (per-class tops)."""
    if name in row:
        old = row[name]
        row[name] = (old if isinstance(old, list) else [old]) + [value]
    else:
        row[name] = value


def _number_repeats(row):
    for name in [k for k, v in row.items() if isinstance(v, list)]:
        values = row.pop(name)
        for i, v in enumerate(values):
            row["%s[%d]" % (name, i)] = v


def columns(rows, first):
    """Column order: ``first``, then every other key in order of appearance."""
    cols = list(first)
    for r in rows:
        cols += [k for k in r if k not in cols]
    return cols


def _write(rows, path, first):
    cols = columns(rows, first)
    with atomic_file(path) as fh:
        fh.write(",".join(cols) + "\n")
        for r in rows:
            fh.write(",".join("" if r.get(c) is None else
                              ("%d" % r[c] if c == "iteration" else "%.9g" % r[c])
                              for c in cols) + "\n")
    return path


def write_csv(log, train_csv, test_csv):
    """Write the train and test tables of a parsed log as CSV files."""
    _write(log.train, train_csv, ("iteration", "seconds", "lr", "loss"))
    _write(log.test, test_csv, ("iteration", "seconds"))
    return train_csv, test_csv


def seconds_per_iteration(log):
    """Median seconds per training iteration over display intervals, or None
    when the log has fewer than two displayed iterations."""
    rows = [r for r in log.train if "loss" in r]
    rates = sorted((b["seconds"] - a["seconds"]) / (b["iteration"] - a["iteration"])
                   for a, b in zip(rows, rows[1:]) if b["iteration"] > a["iteration"])
    if not rates:
        return None
    mid = len(rates) // 2
    return rates[mid] if len(rates) % 2 else 0.5 * (rates[mid - 1] + rates[mid])
