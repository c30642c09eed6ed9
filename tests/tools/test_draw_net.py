"""tools/draw_net.py (`make draw`): Caffe's net drawing, no module of racnn."""
import os

from tests.support.commands import python as tool
from tests.support.pictures import check_png


def test_draw_net_writes_a_png(tmp_path):
    """The command of `make draw` (into a temporary file)."""
    out = str(tmp_path / "racnn_alexnet.png")
    run = tool("tools/draw_net.py", "prototxt/alexnet/cars/racnn_deploy.prototxt", out)
    assert run.returncode == 0, run.stderr
    with open(out, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(out) > 10000
    # make draw (docs/racnn_alexnet.png): one column, readable at a README's width
    run = tool("tools/draw_net.py", "--rankdir", "TB", "--fold-inplace",
               "prototxt/alexnet/cars/racnn_deploy.prototxt", out)
    assert run.returncode == 0, run.stderr
    h, w, _ = check_png(out, 300, 1000).shape
    assert w <= 1000 and h > 2 * w, (w, h)
    bad = tool("tools/draw_net.py", "no/such.prototxt", out)
    assert bad.returncode == 2 and "no/such.prototxt" in bad.stderr
