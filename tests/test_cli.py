"""racnn.cli: each tool's argument parser is made from its docstring, and
``--help`` works."""
import os

import pytest

from tests.support import commands


@pytest.mark.parametrize("script", ["make_nets.py", "init_weights.py", "draw_net.py"])
def test_tools_have_help(script):
    run = commands.python(os.path.join("tools", script), "--help")
    assert run.returncode == 0 and "usage:" in run.stdout
