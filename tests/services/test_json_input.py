"""Files people hand the bot: each hostile one is refused with its place, never with a traceback."""

from __future__ import annotations

import io
import tracemalloc
from typing import Any

import pytest

from services.json_input import CHUNK, MAX_DEPTH, JsonInputError, load_json, stream_object


@pytest.mark.parametrize(("data", "where", "problem"), [
    (b'{"people": [\n  {"name": "Ad\xe9"}]}', "line 2, column 15", "not UTF-8"),
    (b'{"people": [{"name": "\\ud800"}]}', "people[0].name", "lone surrogate"),
    (b'{"people": [{"\\udfff": 1}]}', "people[0]", "lone surrogate"),
    (b"[" * 100_000, f"line 1, column {MAX_DEPTH + 1}", "nested deeper"),
    (b'{"a": ' + b"[" * 900 + b"]" * 900 + b"}", f"line 1, column {MAX_DEPTH + 6}", "nested deeper"),
    (b'{"quantity":\n  ' + b"9" * 5000 + b"}", "line 2, column 3", "5000 digits"),
    (b'{"quantity": NaN}', "line 1, column 14", "NaN"),
    (b'{"quantity": -Infinity}', "line 1, column 14", "Infinity"),
    (b'{"quantity": 1e999}', "line 1, column 14", "too large"),
    (b'{"a": 1,\n}', "line 2, column 1", "invalid JSON"),
    (b'{"a": "unterminated', "line 1, column 7", "invalid JSON"),
])
def test_hostile_files_name_the_place(data: bytes, where: str, problem: str) -> None:
    with pytest.raises(JsonInputError) as info:
        load_json(data)
    assert info.value.where == where and problem in info.value.problem


def test_good_files_keep_their_values() -> None:
    data = ('\ufeff{"name": "合作伙伴 \\ud83d\\ude00", "nested": [[{"k": "[[[\\""}]], "n": -12.5e3, '
            '"big": 1234567890123}')
    assert load_json(data.encode()) == {"name": "合作伙伴 😀", "nested": [[{"k": '[[["'}]], "n": -12500.0,
                                        "big": 1234567890123}
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert load_json(deep) is not None


def _members(data: bytes, chunk: int) -> list[tuple[str, int | None, object, str]]:
    return [(m.key, m.index, m.value, m.where) for m in stream_object(io.BytesIO(data), ("people",), chunk=chunk)]


GOOD = ('\ufeff{"organization": {"name": "合作伙伴 \\ud83d\\ude00"},\n "people": [\n  {"name": "王伟", "n": -12.5e3},\n'
        '  1234567890123, "[[{\\"", [], null\n ],\n "packages": [], "tail": [[1]]}').encode()


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64, CHUNK])
def test_a_streamed_object_gives_what_load_json_gives_whatever_the_chunks(chunk: int) -> None:
    """Chunks cut characters, numbers, strings and the byte order mark anywhere: the values are the same."""
    members = _members(GOOD, chunk)
    whole = load_json(GOOD)
    assert [m[0] for m in members if m[1] is None] == list(whole)
    assert [m[2] for m in members if m[0] == "people" and m[1] is not None] == whole["people"]
    assert {m[0]: m[2] for m in members if m[1] is None and m[0] != "people"} == \
        {k: v for k, v in whole.items() if k != "people"}
    assert [m[3] for m in members if m[0] == "people"] == [
        "line 2, column 12", "line 3, column 3", "line 4, column 3", "line 4, column 18", "line 4, column 27",
        "line 4, column 31"]


@pytest.mark.parametrize(("data", "where", "problem"), [
    (b'{"people": [\n  {"name": "Ad\xe9"}]}', "line 2, column 15", "not UTF-8"),
    (b'{"people": [{"name": "x"}, {"name": "\\ud800"}]}', "people[1].name", "lone surrogate"),
    (b'{"people": [{"a": ' + b"[" * 900 + b"]" * 900 + b"}]}", f"line 1, column {MAX_DEPTH + 16}, in people[0]",
     "nested deeper"),
    (b'{"people": [{"q":\n  ' + b"9" * 5000 + b"}]}", "line 2, column 3, in people[0]", "5000 digits"),
    (b'{"people": [{}, {"q": NaN}]}', "line 1, column 23, in people[1]", "NaN"),
    (b'{"people": [{}, {"q": 1e999}]}', "line 1, column 23, in people[1]", "too large"),
    (b'{"people": [{},\n {"a" 1}]}', "line 2, column 7, in people[1]", "Expecting ':' delimiter"),
    (b'{"people": [{} {}]}', "line 1, column 16, after people[0]", "Expecting ',' delimiter"),
    (b'{"people": [{},]}', "line 1, column 16, in people[1]", "Expecting value"),
    (b'{"a": 1,\n}', "line 2, column 1", "Expecting property name"),
    (b'{"a": "unterminated', "line 1, column 7, in a", "Unterminated string"),
    (b'{"a": 1, "a": 2}', "line 1, column 10", "given twice"),
    (b'{"a": 1} []', "line 1, column 10", "Extra data"),
    (b'[{"a": 1}]', "line 1, column 1", "expecting an object"),
    (b"", "line 1, column 1", "Expecting value"),
])
@pytest.mark.parametrize("chunk", [3, CHUNK])
def test_a_hostile_streamed_file_names_the_place_and_the_record(data: bytes, where: str, problem: str,
                                                                 chunk: int) -> None:
    with pytest.raises(JsonInputError) as info:
        _members(data, chunk)
    assert info.value.where == where and problem in info.value.problem


class _HeadThenUnreadable(io.RawIOBase):
    """A file whose first bytes can be read and the rest cannot (a disk error, a pipe never closed)."""

    def __init__(self, head: bytes) -> None:
        self.head = head
        self.read_after_head = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.head:
            self.read_after_head = True
            raise OSError(5, "the rest of the file cannot be read")
        size = min(len(buffer), len(self.head))
        buffer[:size], self.head = self.head[:size], self.head[size:]
        return size


def test_a_fault_is_reported_without_reading_what_follows_it() -> None:
    head = b'{"people": [\n  {"name": "A"},\n  {"name": "B" "email": "b@contoso.com"},\n' + b" " * 100
    file = _HeadThenUnreadable(head)
    with pytest.raises(JsonInputError) as info:
        list(stream_object(file, ("people",)))
    assert info.value.where == "line 3, column 16, in people[1]"
    assert not file.read_after_head


class _People(io.RawIOBase):
    """An object whose people list never ends, made as it is read (nothing of it exists as a whole)."""

    def __init__(self) -> None:
        self.pending = b'{"people": ['
        self.made = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while len(self.pending) < len(buffer):
            self.pending += b'{"id": "p-%d", "name": "Person %d", "email": "p%d@contoso.com"},\n' % (
                (self.made,) * 3)
            self.made += 1
        size = len(buffer)
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        self.bytes_read += size
        return size


def test_a_long_list_is_read_in_bounded_memory() -> None:
    """What is held while a list is read is a chunk and an element, not what was read before."""
    file = _People()
    people = stream_object(file, ("people",), chunk=1 << 14)
    tracemalloc.start()
    try:
        for member in people:
            if member.index == 40_000:
                break
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert file.bytes_read > 2_500_000
    assert peak < 200_000


def test_a_value_longer_than_allowed_is_refused_before_it_is_all_read() -> None:
    file = _People()
    file.pending = b'{"people": [{"name": "' + b"x" * 5_000_000
    with pytest.raises(JsonInputError) as info:
        list(stream_object(file, ("people",), chunk=1 << 14, max_value=1 << 20))
    assert info.value.where == "line 1, column 13, people[0]" and "longer than" in info.value.problem
    assert file.bytes_read < 3 << 20
