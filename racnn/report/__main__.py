"""``python3 -m racnn.report RUN... --out DIR``: tools/report.py as a module
(racnn.pipeline runs it on its own run folder after evaluation)."""
from .cli import main

main(prog="python3 -m racnn.report")
