"""Batch planning is pure logic: every index once, budget kept, longest first."""

from hypothesis import given
from hypothesis import strategies as st

from translate_kit.runtime.engine import plan_batches, spread_budget


@given(st.lists(st.integers(1, 200), max_size=300), st.integers(1, 4000), st.integers(1, 4))
def test_plan_covers_every_index_within_budget(lengths, budget, beams):
    batches = plan_batches(lengths, budget, beams)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    for batch in batches:
        cost = len(batch) * max(lengths[i] for i in batch) * beams
        assert cost <= budget or len(batch) == 1


def test_plan_sorts_longest_first():
    assert plan_batches([3, 9, 5, 9], budget=20) == [[1, 3], [2, 0]]


@given(st.lists(st.integers(1, 120), min_size=1, max_size=60), st.sampled_from([1, 2, 4]), st.integers(1, 4),
       st.sampled_from([256, 1024, 4096]))
def test_spread_budget_gives_each_worker_one_batch_of_small_work(lengths, beams, workers, budget):
    """Small work is planned as at most one batch per worker (never 3 batches on 2 workers, one
    worker decoding two while the other idles), with the smallest such budget; enough work gets
    the full budget. Every plan still covers each item once and keeps within its budget."""
    spread = spread_budget(lengths, budget, beams, workers)
    plan = plan_batches(lengths, spread, beams)
    assert sorted(i for b in plan for i in b) == list(range(len(lengths)))
    assert all(len(b) == 1 or len(b) * max(lengths[i] for i in b) * beams <= spread for b in plan)
    assert spread <= max(budget, max(lengths) * beams)
    if sum(lengths) * beams >= budget * workers or workers == 1:
        assert spread == max(budget, max(lengths) * beams)
    elif len(plan_batches(lengths, max(budget, max(lengths) * beams), beams)) <= workers:
        assert len(plan) <= workers
        if spread > max(lengths) * beams:
            assert len(plan_batches(lengths, spread - 1, beams)) > workers  # the smallest such budget


def test_sixteen_sentences_on_two_workers_are_two_batches():
    lengths = [38, 35, 33, 31, 30, 29, 28, 27, 26, 25, 24, 22, 21, 20, 18, 12]
    plan = plan_batches(lengths, spread_budget(lengths, 4096, 1, 2), 1)
    assert len(plan) == 2  # the earlier budget, half the summed lengths, planned three (5, 7 and 4 sentences)
