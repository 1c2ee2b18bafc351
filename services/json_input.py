"""JSON files that people hand the bot (inventories, backups), read so that every way a file can be
bad is refused with its place, never a traceback.

``json.loads`` alone turns bad files into exceptions that carry no place, or into values the bot
cannot store: bytes that are not UTF-8 (``UnicodeDecodeError``), nesting deeper than the parser's
recursion limit (``RecursionError``), integers over 4,300 digits (``ValueError``), ``NaN`` and
``1e999`` (floats that are not JSON), and ``"\\ud800"`` (a lone surrogate, which no file can encode).
:func:`load_json` finds each before or after parsing and names the line and column, or the JSON
path of the value. :func:`stream_object` does the same for a file read a chunk and a record at a time.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

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


def _short_int(token: str) -> int:
    if len(token) > MAX_DIGITS + 1 and len(token.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"a number of more than {MAX_DIGITS} digits")
    return int(token)


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"{token} is too large for a number")
    return value


def _deeper_or_longer_than_allowed(text: str, depth: int = 0) -> bool:
    """Whether a parsed document nests deeper than ``MAX_DEPTH`` or has a number over ``MAX_DIGITS``
    digits: strings are cut out, then each round removes the innermost empty pairs, one level a round."""
    skeleton = _STRING.sub("", text)
    if _LONG_NUMBER.search(skeleton):
        return True
    brackets = _NOT_BRACKET.sub("", skeleton)
    for _ in range(MAX_DEPTH - depth):
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


def _scan(text: str, place: Callable[[int], str] | None = None, start: int = 0, end: int | None = None,
          depth: int = 0) -> None:
    """Depth and numbers, in one linear pass over the tokens outside strings (of ``text[start:end]``;
    ``place`` names an offset of ``text``)."""
    where = place or (lambda pos: _place(text, pos))
    for match in _TOKENS.finditer(text, start, len(text) if end is None else end):
        token = match.group()
        first = token[0]
        if first == '"':
            continue
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JsonInputError(where(match.start()), f"nested deeper than {MAX_DEPTH} levels")
        elif first in "]}":
            depth -= 1
        elif token in ("NaN", "Infinity", "-Infinity"):
            raise JsonInputError(where(match.start()), f"{token} is not a JSON number")
        else:
            digits = len(token.lstrip("-").split(".")[0].split("e")[0].split("E")[0])
            if digits > MAX_DIGITS:
                raise JsonInputError(where(match.start()), f"a number of {digits} digits (at most {MAX_DIGITS})")
            if not math.isfinite(float(token)):
                raise JsonInputError(where(match.start()), f"{token} is too large for a number")


def _check_text(value: Any, root: str = "$") -> None:
    """Every string and key can be written as UTF-8 (no lone surrogate from a ``\\ud800`` escape)."""
    stack: list[tuple[Any, str]] = [(value, root)]
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


#: bytes read from a file at a time by :func:`stream_object`
CHUNK = 1 << 20
#: characters of one value (a record of a streamed list, or a whole member) :func:`stream_object` holds at most
MAX_VALUE = 32 << 20
#: characters after the place of a parse error that show it is not merely where the text read so far ends
_LOOKAHEAD = 64
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER_TAIL = frozenset("0123456789.eE+-")
_SEPARATOR = re.compile(r"[ \t\n\r]*([,\]}])[ \t\n\r]*")
#: the escape of a surrogate, which may be a lone one (looked for once per chunk, not once per value)
_SUSPECT = re.compile(r"\\u[dD][89a-fA-F]")
#: how far before a value's start a suspect's match may begin
_SUSPECT_REACH = 8


class Readable(Protocol):
    """A file opened for reading bytes."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Member:
    """One member of the object :func:`stream_object` reads: ``value`` whole (``index`` None), or one
    element of a list read an element at a time (``index`` its position; the list itself comes first,
    as ``[]``). ``where`` is the line and column at which the value starts."""

    key: str
    value: Any
    index: int | None
    where: str

    @property
    def path(self) -> str:
        return self.key if self.index is None else f"{self.key}[{self.index}]"


def stream_object(file: Readable, lists: Collection[str] = (), *, chunk: int = CHUNK,
                  max_value: int = MAX_VALUE) -> Iterator[Member]:
    """The members of the JSON object in ``file`` (UTF-8), read ``chunk`` bytes at a time; a member named
    in ``lists`` whose value is a list comes an element at a time.

    Why: an inventory of a large organization is one object whose people list is most of the file; read
    this way, what is held is one element and a chunk of text, and a fault is reported (with its line and
    column, and the element it is in) before anything after it is read. Each value is checked as
    :func:`load_json` checks a whole file; a member given twice is refused (a later one would silently
    replace what was already handed on).

    Raises:
        JsonInputError: as :func:`load_json`, once the fault is reached; also a value longer than
            ``max_value`` characters.
    """
    text = _Text(file, chunk)
    pos = text.skip_whitespace(0)
    if text.char(pos) != "{":
        text.refuse(pos, "expecting an object ({)" if text.char(pos) else "Expecting value")
    pos = text.skip_whitespace(pos + 1)
    seen: set[str] = set()
    members = text.char(pos) != "}"
    pos += not members
    while members:
        if text.char(pos) != '"':
            text.refuse(pos, "Expecting property name enclosed in double quotes")
        key_at = pos
        key, pos = text.value(pos, "$", max_value, 1)
        if key in seen:
            raise JsonInputError(text.place(key_at), f"invalid JSON: {key!r} is given twice")
        seen.add(key)
        pos = text.skip_whitespace(pos)
        if text.char(pos) != ":":
            text.refuse(pos, "Expecting ':' delimiter")
        pos = text.skip_whitespace(pos + 1)
        if key in lists and text.char(pos) == "[":
            yield Member(key, [], None, text.place(pos))
            pos = text.skip_whitespace(pos + 1)
            items = text.char(pos) != "]"
            pos += not items
            index = 0
            while items:
                text.release(pos)
                start = pos
                value, pos = text.value(pos, f"{key}[{index}]", max_value, 2)
                yield Member(key, value, index, text.place(start))
                pos, items = text.after_item(pos, "]", f"{key}[{index}]")
                index += 1
        else:
            start = pos
            value, pos = text.value(pos, key, max_value, 1)
            yield Member(key, value, None, text.place(start))
        pos, members = text.after_item(pos, "}", key)
    pos = text.skip_whitespace(pos)
    if text.char(pos):
        text.refuse(pos, "Extra data")


class _Text:
    """The text of a file, decoded a chunk at a time; offsets are counted from the start of the file, and
    the text before the first still needed (``release``) is dropped when more is read."""

    def __init__(self, file: Readable, chunk: int) -> None:
        self._file = file
        self._chunk = chunk
        self._decoder = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite_float,
                                         parse_int=_short_int)
        self.buf = ""
        self.base = 0  # offset of buf[0]
        self._released = 0
        self._lines = 0  # line breaks before base
        self._line_start = 0  # offset of the first character of the line base is on
        self._at = 0  # an offset whose place is known (the last one asked for): places asked for in order
        self._at_lines = 0  # cost what lies between them
        self._at_line_start = 0
        self._pending = b""  # the start of a character cut by the end of a chunk
        self._suspects: list[int] = []  # offsets of what :data:`_SUSPECT` found (a value there is checked)
        self._first = True
        self.eof = False

    def place(self, pos: int) -> str:
        if pos >= self._at:
            self._advance(pos)
            return f"line {self._at_lines + 1}, column {pos - self._at_line_start + 1}"
        rel = pos - self.base
        newline = self.buf.rfind("\n", 0, rel)
        start = self.base + newline + 1 if newline >= 0 else self._line_start
        return f"line {self._lines + self.buf.count(chr(10), 0, rel) + 1}, column {pos - start + 1}"

    def _advance(self, pos: int) -> None:
        start, end = self._at - self.base, pos - self.base
        newlines = self.buf.count("\n", start, end)
        if newlines:
            self._at_lines += newlines
            self._at_line_start = self.base + self.buf.rfind("\n", start, end) + 1
        self._at = pos

    def refuse(self, pos: int, problem: str, after: str = "") -> NoReturn:
        raise JsonInputError(f"{self.place(pos)}, after {after}" if after else self.place(pos),
                             f"invalid JSON: {problem}")

    def release(self, pos: int) -> None:
        """Nothing before ``pos`` is asked for again."""
        self._released = pos

    def more(self, at_least: int = 0) -> bool:
        """Read a chunk (or ``at_least`` bytes) more; False at the end of the file."""
        if self.eof:
            return False
        drop = self._released - self.base
        if drop > 0:
            if self._at < self._released:
                self._advance(self._released)
            newline = self.buf.rfind("\n", 0, drop)
            if newline >= 0:
                self._lines += self.buf.count("\n", 0, drop)
                self._line_start = self.base + newline + 1
            self.buf, self.base = self.buf[drop:], self._released
            self._suspects = self._suspects[bisect.bisect_left(self._suspects, self.base - _SUSPECT_REACH):]
        data = self._file.read(max(self._chunk, at_least))
        if not data:
            self.eof = True
            if self._pending:
                self._refuse_bytes(self._pending, 0)
            return False
        data, cut = self._pending + data, _whole_characters(self._pending + data)
        data, self._pending = data[:cut], data[cut:]
        try:
            decoded = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._refuse_bytes(data, exc.start)
        if self._first and decoded:  # a byte order mark is tolerated, as in load_json
            decoded, self._first = decoded.removeprefix("\ufeff"), False
        scanned = max(len(self.buf) - _SUSPECT_REACH, 0)
        self.buf += decoded
        last = self._suspects[-1] if self._suspects else -1
        self._suspects += [at for m in _SUSPECT.finditer(self.buf, scanned) if (at := self.base + m.start()) > last]
        return True

    def _refuse_bytes(self, data: bytes, bad: int) -> NoReturn:
        self.buf += data[:bad].decode("utf-8", "replace").removeprefix("\ufeff" if self._first else "")
        raise JsonInputError(self.place(self.base + len(self.buf)),
                             f"not UTF-8 text (byte 0x{data[bad]:02x})")

    def char(self, pos: int) -> str:
        """The character at ``pos``; "" at the end of the file."""
        while pos - self.base >= len(self.buf):
            if not self.more():
                return ""
        return self.buf[pos - self.base]

    def skip_whitespace(self, pos: int) -> int:
        while True:
            end = _WHITESPACE.match(self.buf, pos - self.base).end()  # type: ignore[union-attr]
            if end < len(self.buf) or not self.more():
                return self.base + end

    def after_item(self, pos: int, closing: str, item: str) -> tuple[int, bool]:
        """Past the comma after ``item`` (True: another follows), or past the ``closing`` bracket."""
        separator = _SEPARATOR.match(self.buf, pos - self.base)
        if separator and separator.end() < len(self.buf):  # the usual case, in one match
            if separator.group(1) == ",":
                return self.base + separator.end(), True
            if separator.group(1) == closing:
                return self.base + separator.end(1), False
        pos = self.skip_whitespace(pos)
        found = self.char(pos)
        if found == ",":
            return self.skip_whitespace(pos + 1), True
        if found != closing:
            self.refuse(pos, "Expecting ',' delimiter", item)
        return pos + 1, False

    def value(self, pos: int, path: str, max_value: int, depth: int) -> tuple[Any, int]:
        """The value starting at ``pos``, inside ``depth`` brackets (refused as :func:`load_json` would
        refuse it there) and the offset after it."""
        while True:
            rel = pos - self.base
            try:
                value, end = self._decoder.raw_decode(self.buf, rel)
            except json.JSONDecodeError as exc:
                cut_short = exc.msg.startswith("Unterminated string") or len(self.buf) - exc.pos < _LOOKAHEAD
                if cut_short and not self.eof:
                    self._read_on(pos, path, max_value)
                    continue
                raise JsonInputError(f"{self.place(self.base + exc.pos)}, in {path}",
                                     f"invalid JSON: {exc.msg}") from None
            except (ValueError, RecursionError) as exc:  # too deep, too long a number, NaN, 1e999
                if not self.eof and self.buf[-1] in _NUMBER_TAIL:  # all of the number, to count its digits
                    self._read_on(pos, path, max_value)
                    continue
                _scan(self.buf, lambda at: f"{self.place(self.base + at)}, in {path}", rel, depth=depth)
                raise JsonInputError(path, f"invalid JSON: {exc}") from None
            if end == len(self.buf) and not self.eof:  # a number may go on in the next chunk
                self._read_on(pos, path, max_value)
                continue
            if self.buf.count("[", rel, end) + self.buf.count("{", rel, end) > MAX_DEPTH - depth \
                    and _deeper_or_longer_than_allowed(self.buf[rel:end], depth):  # (long numbers: _short_int)
                _scan(self.buf, lambda at: f"{self.place(self.base + at)}, in {path}", rel, end, depth)
            if self._suspected(pos, self.base + end):  # text decoded from UTF-8 holds no surrogate itself
                _check_text(value, path)
            return value, self.base + end

    def _suspected(self, start: int, end: int) -> bool:
        """Whether the escape of a surrogate is in ``start:end``."""
        suspects = self._suspects
        return bool(suspects) and bisect.bisect_left(suspects, start - _SUSPECT_REACH) < \
            bisect.bisect_left(suspects, end)

    def _read_on(self, pos: int, path: str, max_value: int) -> None:
        """More of the value starting at ``pos`` (as much again as is read of it, so a long value is parsed
        a few times, not once a chunk)."""
        self.release(pos)
        held = self.base + len(self.buf) - pos
        if held > max_value:
            raise JsonInputError(f"{self.place(pos)}, {path}", f"a value longer than {max_value} characters")
        self.more(held)


def _whole_characters(data: bytes) -> int:
    """How much of ``data`` does not end inside a UTF-8 sequence (the rest comes with the next chunk)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: a start of a sequence, or ASCII
            length = 1 if byte < 0xC0 else 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) - back if length > back else len(data)
    return len(data)
