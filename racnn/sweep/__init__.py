"""Sweeps: a named grid of the paper (or any product of experiment settings)
expanded to a plan of runs, each the existing experiment in its own run
folder, run one after another (``local``) or as one Slurm job array
(``slurm``), with each run's state read back from its folder and the
scheduler (``status``).  tools/sweep.py is the command line.

The sweep tool is an orchestrator that may run outside the Caffe
environment (on a cluster's login node, beside ``sbatch``): these modules
import only pure-Python parts of the package; everything that needs Caffe,
numpy or the databases runs through a backend (racnn.sweep.backend).
"""
