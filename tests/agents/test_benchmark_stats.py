"""benchmarks/stats.py, against hand-worked curves: what counts as a stable solve, and the ratio's bound when the
reference never solves stably."""

from benchmarks.stats import Curve, compare, ratio, summarize


def curve(scores, bar=475.0, every=10):
    result = Curve(bar)
    for index, score in enumerate(scores, start=1):
        result.add(index * every, index * 2.0, score)  # every 10 steps, 2 s apart
    return result


def row(scores, library="x"):
    return {"library": library, "seed": 0, "bar": 475.0, "final_return": scores[-1], **curve(scores).figures()}


def test_a_spike_that_falls_back_is_a_first_solve_but_not_a_stable_one():
    figures = curve([100, 500, 200, 480, 500, 490]).figures()
    assert (figures["first_solve_steps"], figures["first_solve_s"]) == (20, 4.0)
    assert (figures["stable_solve_steps"], figures["stable_solve_s"]) == (40, 8.0)  # 480 onwards holds
    assert curve([100, 500, 200]).figures()["stable_solve_steps"] is None  # ends below the bar: never


def test_a_reference_that_never_solves_stably_gives_an_upper_bound_on_the_ratio():
    """Ours: stable at 2, 4, 6 s (median 4). Reference: stable at 8 s once, never on two seeds whose budgets end
    at 10 s: its median is "never", so the plain ratio has no value, and the bound is 4 / median(8, 10, 10)."""
    ours = [row([500] * 5), row([0, 500, 500, 500, 500]), row([0, 0, 500, 500, 500])]
    reference = [row([0, 0, 0, 500, 500], "sb3"), row([0, 500, 0, 0, 0], "sb3"), row([0] * 5, "sb3")]
    ratios = compare({"gymforge": ours, "sb3": reference})["gymforge_over_sb3"]
    assert ratios["stable_solve_s"]["median_ratio"] is None  # median(ours) / infinity
    assert ratios["stable_solve_s_at_most"]["median_ratio"] == 0.4
    # a reference that always solves stably needs no bound
    assert "stable_solve_s_at_most" not in compare({"gymforge": ours, "sb3": ours})["gymforge_over_sb3"]


def test_a_ratio_whose_median_is_never_has_no_value_even_when_the_references_is_never_too():
    """Ours never reaches the bar on both seeds; the reference on one of two, so its median is halfway to never.
    Never over (nearly) never is no ratio of 1 or 2: it has no value, and neither have its interval's bounds."""
    assert ratio([None, None], [2048, None]) == {"median_ratio": None, "ci95": [None, None]}
    assert ratio([None, None], [None, None])["median_ratio"] is None
    figures = ratio([1000, None, 3000], [10000, 20000, 30000])  # medians 3000 and 20000
    assert figures["median_ratio"] == 0.15 and figures["ci95"][1] is None  # a resample may hold two nevers


def test_a_score_just_under_the_bar_is_no_solve_though_it_shows_rounded():
    figures = curve([474.996, 475.0]).figures()  # measured, not rounded, against the bar of 475
    assert (figures["first_solve_steps"], figures["stable_solve_steps"]) == (20, 20)
    assert figures["curve"][0] == (10, 2.0, 475.0)  # shown rounded to 2 decimals
    assert curve([474.999]).figures()["first_solve_steps"] is None


def test_the_iqm_over_seeds_that_never_solve_is_never_where_they_reach_its_middle_half():
    """24 seeds: the IQM is the mean of the middle 12 (6 trimmed each side). With 5 nevers they are all trimmed:
    seeds solving at 1..19 give the mean of 7..18 = 12.5. With 7 nevers one is in the middle half: the IQM is never
    (null), not 1e18 / 12 = 8.3e16 as a stand-in number for never gave."""
    assert summarize(list(range(1, 20)) + [None] * 5)["iqm"] == 12.5
    figures = summarize(list(range(1, 18)) + [None] * 7)
    assert figures["iqm"] is None and figures["iqm_ci95"][1] is None
    assert figures["median"] == 12.5  # 12 and 13 in the middle: the median still has a value
