"""Batch planning is pure logic: every index once, budget kept, longest first."""

from hypothesis import given
from hypothesis import strategies as st

from translate_kit.engine import plan_batches


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
