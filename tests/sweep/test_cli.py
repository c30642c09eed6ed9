"""racnn.sweep's command line (tools/sweep.py): the report of a sweep."""
import os

from tests.support.commands import data_env, sweep


def test_report_of_a_sweep_without_runs_is_an_error(tmp_path):
    """Not a report of every run under runs/ (racnn.report's default)."""
    env = data_env(tmp_path)
    r = sweep(env, "report", "table3")
    folder = os.path.join(env["RACNN_RUNS"], "sweeps", "table3")
    assert r.returncode == 2
    assert r.stderr.strip() == ("sweep.py: error: no run of sweep table3 has a run folder yet "
                                "(tools/sweep.py status %s)" % folder)
