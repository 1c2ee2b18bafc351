"""Files people hand the bot: each hostile one is refused with its place, never with a traceback."""

from __future__ import annotations

import pytest

from services.json_input import MAX_DEPTH, JsonInputError, load_json


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
