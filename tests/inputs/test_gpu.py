"""racnn.inputs.gpu: a run that asks for a GPU stops at once where none can
be used (the tool: tests/docker/test_gpu_flags.py)."""
import pytest

from racnn.errors import RacnnError
from racnn.inputs import gpu as expgpu


def test_gpu_request_without_a_usable_gpu_is_refused():
    # (issue 11: a run asked for a GPU stops at once)
    if expgpu._gpu_problem("0") is None:
        pytest.skip("a GPU is usable here")
    with pytest.raises(RacnnError, match="GPU 0 requested"):
        expgpu.usable_gpu("0")
    assert expgpu.usable_gpu("") is None
