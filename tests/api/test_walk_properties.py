"""Property: whatever page size a server serves, whatever ``total`` it reports (right, missing,
off), whether a page past the end is empty or repeats the last one, and whether a row is served
on two pages, a walk returns every row exactly once or raises IncompleteLoadError."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from hypothesis import given, settings
from hypothesis import strategies as st

from selorax_analytics.api.paginators import PageWalker
from selorax_analytics.exceptions import IncompleteLoadError
from tests._fake_list import FakeList, row

POOL = ThreadPoolExecutor(4)

servers = st.fixed_dictionaries(
    {
        "rows": st.integers(0, 70),
        "limit": st.integers(2, 12),
        "cap": st.none() | st.integers(1, 12),
        "total": st.sampled_from([None, "missing"]) | st.integers(-6, 6).filter(bool),
        "past_end": st.sampled_from(["empty", "repeat"]),
        "duplicate": st.none() | st.tuples(st.integers(1, 8), st.integers(0, 69)),
        "in_flight": st.integers(1, 4),
    }
)


def _walk(server: dict) -> tuple[list[int], FakeList]:
    rows = [row(i) for i in range(1, server["rows"] + 1)]
    duplicate = server["duplicate"]
    served = min(server["limit"], server["cap"] or server["limit"])
    if duplicate is not None and (
        duplicate[1] >= len(rows) or (served == 1 and server["total"] == "missing")
    ):
        # with one row a page and no total, page n serving page n-1's row is what a page past
        # the end repeating the last looks like: no client can tell them apart
        duplicate = None
    fake = FakeList(
        rows,
        cap=server["cap"],
        total=server["total"],
        past_end=server["past_end"],
        duplicate=duplicate,
    )
    walker = PageWalker(
        fake.fetch,
        id_field="user_id",
        pool=POOL,
        max_in_flight=server["in_flight"],
        limit=server["limit"],
        changes=fake.changes,
    )
    return [r["user_id"] for r in walker.walk()], fake


@settings(max_examples=300, deadline=None)
@given(servers)
def test_a_walk_never_returns_a_missing_or_repeated_row(server):
    expected = list(range(1, server["rows"] + 1))
    try:
        got, _ = _walk(server)
    except IncompleteLoadError as exc:
        # only a row served on two pages, or a total the rows do not fit, may end the walk
        off = isinstance(server["total"], int)
        assert server["duplicate"] is not None or off, str(exc)
        assert "same row on two pages" in str(exc) or "fitted the total" in str(exc)
        return
    assert sorted(got) == expected
    assert len(got) == len(set(got))


@settings(max_examples=100, deadline=None)
@given(servers.filter(lambda s: s["duplicate"] is None and s["total"] is None))
def test_the_documented_paging_costs_the_pages_and_one_check(server):
    _, fake = _walk(server)
    size = min(server["limit"], server["cap"] or server["limit"])
    if server["rows"] <= size:
        size = server["limit"]  # page 1 holds the list: the cap cannot show (nor matter)
    pages = max(1, -(-server["rows"] // size))
    full_last = server["rows"] and server["rows"] % size == 0
    # page 1 and, if it was cut short by a cap, nothing more than the pages of the served size;
    # one more page when the last is full (the total alone cannot tell that the list ends)
    assert fake.requests("walk") == pages + (1 if full_last else 0)
    assert fake.requests("changes") == 1
