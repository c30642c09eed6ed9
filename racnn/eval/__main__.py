"""``python3 -m racnn.eval ...``: tools/eval_per_class.py as a module, so
racnn.pipeline evaluates each stage in a process of its own (one Caffe net
per process) without running a tool by path."""
import os

from .cli import main

os.environ.setdefault("GLOG_minloglevel", "2")   # pycaffe's INFO lines off, as in the tools
main(prog="python3 -m racnn.eval")
