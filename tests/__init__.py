"""The test suite (a package, so that equal basenames in its folders, such as
tests/eval/test_cli.py and tests/report/test_cli.py, are different modules).
tests/README.md is its map."""
