"""JSON files that people hand the bot (inventories, backups), read so that every way a file can be
bad is refused with its place, never a traceback.

``json.loads`` alone turns bad files into exceptions that carry no place, or into values the bot
cannot store: bytes that are not UTF-8 (``UnicodeDecodeError``), nesting deeper than the parser's
recursion limit (``RecursionError``), integers over 4,300 digits (``ValueError``), ``NaN`` and
``1e999`` (floats that are not JSON), and ``"\\ud800"`` (a lone surrogate, which no file can encode).
:func:`load_json` finds each before or after parsing and names the line and column, or the JSON
path of the value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

#: deeper than any inventory or backup the bot writes (its documents nest a few levels)
MAX_DEPTH = 64
#: digits of a number's integer part: no field of the bot needs more
MAX_DIGITS = 30

_TOKENS = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"?'  # a string (an unterminated one runs to the end: json.loads names it)
    r"|[\[\]{}]"
    r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"
    r"|NaN|-?Infinity",
    re.S,
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_LONG_NUMBER = re.compile(rf"\d{{{MAX_DIGITS + 1},}}")
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_EMPTY_PAIR = re.compile(r"\[\]|\{\}")


class JsonInputError(ValueError):
    """The file is refused; ``where`` is ``line N, column M`` or a JSON path such as ``people[0].name``
    (files checked further, inventories and backups, refuse with subclasses naming their fields)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


def load_json(data: bytes | str) -> Any:
    """Parse one JSON document (UTF-8 bytes, or text).

    A good file costs one ``json.loads`` and a few scans in C; the token-by-token scan that finds the
    place of a fault runs only once a fault is known to be there.

    Raises:
        JsonInputError: not UTF-8, not JSON, nested deeper than ``MAX_DEPTH``, a number too long or
            not finite, or a string with a lone surrogate; ``where`` names the place.
    """
    text = _decode(data) if isinstance(data, bytes) else data
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # too deep, too long a number, NaN, 1e999
        _scan(text)
        raise JsonInputError("$", f"invalid JSON: {exc}") from None
    if _deeper_or_longer_than_allowed(text):
        _scan(text)
    if _SURROGATE.search(text) or _SURROGATE_ESCAPE.search(text):
        _check_text(value)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"{token} is too large for a number")
    return value


def _deeper_or_longer_than_allowed(text: str) -> bool:
    """Whether a parsed document nests deeper than ``MAX_DEPTH`` or has a number over ``MAX_DIGITS``
    digits: strings are cut out, then each round removes the innermost empty pairs, one level a round."""
    skeleton = _STRING.sub("", text)
    if _LONG_NUMBER.search(skeleton):
        return True
    brackets = _NOT_BRACKET.sub("", skeleton)
    for _ in range(MAX_DEPTH):
        if not brackets:
            return False
        brackets = _EMPTY_PAIR.sub("", brackets)
    return bool(brackets)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # a byte order mark is tolerated, as editors on Windows write one
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise JsonInputError(f"line {line}, column {column}",
                             f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def _place(text: str, pos: int) -> str:
    return f"line {text.count(chr(10), 0, pos) + 1}, column {pos - text.rfind(chr(10), 0, pos)}"


def _scan(text: str) -> None:
    """Depth and numbers, in one linear pass over the tokens outside strings."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            continue
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JsonInputError(_place(text, match.start()), f"nested deeper than {MAX_DEPTH} levels")
        elif first in "]}":
            depth -= 1
        elif token in ("NaN", "Infinity", "-Infinity"):
            raise JsonInputError(_place(text, match.start()), f"{token} is not a JSON number")
        else:
            digits = len(token.lstrip("-").split(".")[0].split("e")[0].split("E")[0])
            if digits > MAX_DIGITS:
                raise JsonInputError(_place(text, match.start()), f"a number of {digits} digits (at most "
                                                                  f"{MAX_DIGITS})")
            if not math.isfinite(float(token)):
                raise JsonInputError(_place(text, match.start()), f"{token} is too large for a number")


def _check_text(value: Any) -> None:
    """Every string and key can be written as UTF-8 (no lone surrogate from a ``\\ud800`` escape)."""
    stack: list[tuple[Any, str]] = [(value, "$")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise JsonInputError(path, "holds a lone surrogate (\\ud800-\\udfff), which is not text")
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                child_path = f"{path}.{key}" if path != "$" else key
                if _SURROGATE.search(key):
                    raise JsonInputError(path, "a key holds a lone surrogate (\\ud800-\\udfff), which is not text")
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(item))))
