"""Untrusted text in Teams markdown: the one door through which names, notes and inventory text
reach what Teams renders as markdown (``TextBlock`` and ``FactSet`` text, plain text messages).

Why: Teams renders a TextBlock's text and a bot's text message as markdown, so a person named
``[Reset your password](https://evil.example/login)`` would become a link in other admins' cards.
Catalog text is trusted markup (``**help**``); the parameters filled into it, and any plain string,
are escaped with CommonMark backslash escapes, which Teams shows as the characters themselves.
Input values, choice titles, labels and button titles are plain text and are not escaped.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

from services.i18n import Message

#: Characters that start markdown inline syntax: emphasis, code, links, HTML, autolinks, entities,
#: strikethrough, tables, and the backslash itself.
_INLINE = re.compile(r"([\\`*_\[\]<>~|&])")
#: ``https://`` and ``www.`` are linkified by Teams even without brackets.
_SCHEME = re.compile(r"(?<=[A-Za-z0-9]):(?=//)")
_WWW = re.compile(r"(?i)\b(www)\.")
#: Block syntax at the start of a line: headings, quotes, lists, setext underlines, numbered lists.
_LINE_START = re.compile(r"(?m)^([ \t]*)(?:([#>+=-])|(\d{1,9})([.)]))")
#: Control characters (but line feed and tab) and the bidirectional overrides and isolates, which
#: can make text read in a different order than it is written.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(value: str) -> str:
    """``value`` as markdown that shows exactly its characters (no link, no HTML, no formatting)."""
    value = _INVISIBLE.sub("", value.replace("\r\n", "\n").replace("\r", "\n")
                           .replace("\u2028", "\n").replace("\u2029", "\n"))
    value = _INLINE.sub(r"\\\1", value)
    value = _SCHEME.sub(r"\\:", value)
    value = _WWW.sub(r"\1\\.", value)
    return _LINE_START.sub(_escape_line_start, value)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker, digits, delimiter = match.groups()
    if marker is not None:
        return f"{indent}\\{marker}"
    return f"{indent}{digits}\\{delimiter}"


def markdown(value: Any) -> str:
    """What ``value`` shows as markdown: a catalog :class:`Message` keeps its own markup and gets its
    parameters escaped; anything else is untrusted text and escaped whole."""
    if isinstance(value, Message):
        if not value.params:
            return str.__str__(value.template)
        return value.template.format(**{name: _parameter(item) for name, item in value.params.items()})
    return escape(value if isinstance(value, str) else str(value))


def compose(template: str, **params: Any) -> Message:
    """Markup written in code (``"**{label}:** {value}"``) with parameters that are escaped like a
    catalog message's: for lines that combine catalog text, markup and data."""
    return Message(template.format(**params), template, params)


def link(title: Any, url: str) -> Message:
    """A markdown link to an ``http(s)`` address with an escaped title; any other address is no link."""
    target = address(url)
    return Message(f"[{markdown(title)}]({target})") if target else Message(markdown(title))


def address(url: str) -> Message:
    """``url`` for a catalog link's ``({url})``: an ``http(s)`` address percent-encoded so that it
    cannot end the link early; anything else is empty."""
    parts = urlsplit(url.strip()) if isinstance(url, str) else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return Message("")
    return Message(quote(url.strip(), safe="/:?#&=+%@!$*,;~.-_[]"))


def _parameter(value: Any) -> Any:
    if isinstance(value, (Message, str)):
        return markdown(value)
    return value


def plain(value: Any) -> Any:
    """``value`` with every :class:`Message` inside turned into a plain ``str`` (cards leave the
    presentation layer as plain JSON: the connector's fast serializer and copies expect exact types)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(item) in _CONTAINERS:
                value[key] = plain(item)
        return value
    if kind is list:
        for index, item in enumerate(value):
            if type(item) in _CONTAINERS:
                value[index] = plain(item)
        return value
    return str.__str__(value) if kind is Message else value


_CONTAINERS = frozenset({dict, list, Message})


def utf16_size(text: str) -> int:
    """Bytes of ``text`` in UTF-16, the measure of Teams' message size limit."""
    return len(text.encode("utf-16-le", "surrogatepass"))


def json_size(value: Any) -> int:
    """UTF-16 bytes of ``value``'s JSON text (a shared frozen card carries its text already)."""
    text = getattr(value, "text", None) if isinstance(value, dict) else None
    if not isinstance(text, str):
        text = json.dumps(value, ensure_ascii=False, default=str)
    return utf16_size(text)
