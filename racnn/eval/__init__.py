"""Exact evaluation outside the solver: one pass over a test database
(evaluate, with Caffe's TEST-phase preprocessing from transform), metrics
from saved scores (metrics), the evaluation folder's files (outputs), and
the command line (cli; ``python3 -m racnn.eval`` = tools/eval_per_class.py).
Run folders are read through racnn.rundir."""
