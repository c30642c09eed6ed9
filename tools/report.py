#!/usr/bin/env python3
"""Results tables beside the paper from run folders: racnn.report.cli, also
``python3 -m racnn.report``; --help for usage."""
import _init_paths  # noqa: F401  (the repository on the import path, GLOG default; first)

from racnn.report.cli import main


if __name__ == "__main__":
    main()
