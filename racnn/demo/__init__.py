"""The demo: the whole pipeline on a synthetic dataset on the CPU.
``settings``: its dataset and experiment settings as plain data (importing
it costs nothing, so the sweep tool reads it on a host without the
environment); ``run``: the demo run and its per-class table (tools/demo.py)."""
