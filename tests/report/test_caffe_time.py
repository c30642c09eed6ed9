"""racnn.report.caffe_time: `caffe time` of the tiny backbone with and
without the SR front (the paper's backbones are a benchmark:
tools/time_nets.py), placed in Table I's rows."""
import pytest

from racnn import vocab
from racnn.report import caffe_time, table_i


@pytest.fixture(scope="module")
def tiny_times():
    return {(b, r): caffe_time.time_net(b, r, batch_size=4, iterations=1)
            for b in ("tiny",) for r in (False, True)}


def test_caffe_time_tiny(tiny_times):
    cnn, racnn = tiny_times[("tiny", False)], tiny_times[("tiny", True)]
    for t in (cnn, racnn):
        assert t["forward_backward_ms"] > 0 and t["forward_ms"] > 0 and t["device"] == "CPU"
        # Caffe's iteration timer wraps the per-layer forward and backward timers:
        # never less than their sum (more under load, so no upper bound here)
        assert t["forward_backward_ms"] >= 0.99 * (t["forward_ms"] + t["backward_ms"]) - 1.0
    # three SR convolutions at full resolution (64 9x9 filters) cost far more than
    # the tiny classifier: the effect Table I shows
    assert racnn["forward_backward_ms"] > 2 * cnn["forward_backward_ms"]
    rows = table_i.table_rows(tiny_times)
    assert [r["dataset"] for r in rows] == list(vocab.DATASETS)
    cars = rows[0]
    assert cars["ours_cnn"] == pytest.approx(
        cnn["forward_backward_ms"] / 1000 * 2036)       # ceil(8144 / 4)
    assert cars["ours_ratio"] > 2 and cars["paper_cnn"] is None
    assert "| cars | Tiny (CPU demo) |" in table_i.markdown(rows)
