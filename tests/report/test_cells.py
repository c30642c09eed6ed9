"""racnn.report.cells: the records placed in the paper's cells -- Fig. 4's
RACNN row (p-RACNN, else g-RACNN) and its Staged-Training row, and where
their numbers come from."""
import pytest

from racnn import paper
from racnn.report import cells as report_cells, markdown


def test_fig4_racnn_uses_p_then_g():
    res = [dict(dataset="cars", backbone="alexnet", variant=v, res=50, mode="e2e",
                mults="paper", sr_weights=None, smoke=False, ours=o, overall=o,
                num_images=1, iteration=1, run="r", config="c", log=None, model=None,
                eval=None, evaluated=0) for v, o in (("racnn_g", 60.0), ("cnn", 50.0))]
    cells, used = report_cells.paper_rows(res)
    fig = {(c["row"].split(" (")[0], c["dataset"]): c for c in cells if c["table"] == "Fig. 4"}
    assert fig[("RACNN-AlexNet", "cars")]["ours"] == 60.0
    assert "g-RACNN" in [c["row"] for c in cells if c["ours"] == 60.0][0]
    assert fig[("AlexNet", "cars")]["diff"] == pytest.approx(50.0 - 50.4)
    assert fig[("RACNN-AlexNet", "birds")]["ours"] is None and len(used) == 2


def test_fig4_staged_row_and_where_its_numbers_come_from(tmp_path):
    """Fig. 4's Staged-Training row is filled from an AlexNet e2e r50 run's
    staged stage; the report says the baselines are reference [35]'s."""
    results = [{"dataset": "cars", "backbone": "alexnet", "variant": "staged", "res": 50,
                "mode": "e2e", "mults": "paper", "sr_weights": "pretrain", "smoke": False,
                "ours": 57.0, "overall": 58.0, "num_images": 10, "iteration": 100,
                "run": str(tmp_path / "r"), "config": None, "log": None, "model": None,
                "eval": None, "evaluated": 1.0, "short_schedule": True, "best_test": None}]
    cells, used = report_cells.paper_rows(results)
    cell = [c for c in cells if c["table"] == "Fig. 4" and c["variant"] == "staged" and
            c["dataset"] == "cars"][0]
    assert cell["paper"] == 59.5 and cell["ours"] == 57.0 and cell["diff"] == -2.5
    text = markdown.paper_tables(cells, [], str(tmp_path))
    assert "| Staged-Training AlexNet | 59.50 | 57.00 (short) | -2.50 |" in text
    assert "reference [35]" in text and set(paper.FIG_4_FROM_REF35) == {"cnn", "staged"}
