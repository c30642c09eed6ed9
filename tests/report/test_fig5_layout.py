"""Fig. 5's layout: equal points of several networks stay visible (shifted
apart), the axis starts at 0 with a margin even when every point sits at
one iteration, and the HR backbone is one of the networks."""
from racnn.report import fig5


def test_equal_points_are_drawn_apart_and_the_axis_starts_at_zero():
    same = [(4, 0.5)]
    series = [("CNN", same, (4, 0.5)), ("g-RACNN", same, (4, 0.5)),
              ("p-RACNN", same, (4, 0.5)), ("Staged", same, (4, 0.5))]
    (lo, hi), shifts = fig5.x_layout(series)
    assert lo < 0 < 4 < hi and hi - lo > 4                       # not 3.8 .. 4.2
    assert len(set(4 + s for s in shifts)) == 4                  # four visible stars
    assert max(shifts) - min(shifts) < 0.1 * (hi - lo)           # still at iteration ~4


def test_the_hr_backbone_is_a_network_of_fig5():
    assert fig5.NETWORKS[0] == "backbone_hr" and "HR" in fig5._label("backbone_hr", "tiny",
                                                                     "run", False)
