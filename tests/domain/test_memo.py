from __future__ import annotations

from domain.memo import BoundedMemo


def test_a_memo_hands_back_what_it_remembers_and_reads_as_a_dict() -> None:
    memo: BoundedMemo[str, int | None] = BoundedMemo(3)
    assert memo.remember("a", 1) == 1
    assert memo.remember("none", None) is None
    assert memo["a"] == 1 and "none" in memo and memo.get("b") is None


def test_a_full_memo_starts_over_and_never_holds_more_than_its_limit() -> None:
    memo: BoundedMemo[int, int] = BoundedMemo(3)
    for n in range(3):
        memo.remember(n, n * n)
    assert dict(memo) == {0: 0, 1: 1, 2: 4}
    memo.remember(3, 9)
    assert dict(memo) == {3: 9}
    for n in range(20):
        memo.remember(n, n)
        assert len(memo) <= 3
