"""Imported first by every tool (the py-faster-rcnn convention): puts the
repository root on ``sys.path``, so ``racnn`` imports from a checkout without
being installed, and turns pycaffe's INFO lines off in the tool's own process
unless ``GLOG_minloglevel`` is set (Caffe children get their full log from
racnn.experiment.caffe_train)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
os.environ.setdefault("GLOG_minloglevel", "2")
