"""``make run AS=leeg@contoso.com``: the Agents Playground as another demo person.

The Playground has no user switcher: it chats as its config's ``currentUser``. So a copy of
``.m365agentsplayground.yml`` is written in which that person is ``currentUser`` and the other
five are ``users`` (its strict schema wants exactly five), and the Playground is pointed at the
copy with ``M365_AGENTS_PLAYGROUND_CONFIG_PATH``. The config is our own small YAML file, so a small
reader of that subset (mappings, lists of mappings, plain or quoted scalars) is enough here; the
copy is written with every scalar double-quoted (JSON strings are YAML strings).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

CONFIG = Path(".m365agentsplayground.yml")
#: The copies live with the Playground's own files (``devTools/`` is git-ignored).
COPIES = Path("devTools")
#: What identifies a person in ``AS=``: any of these fields, compared case-insensitively.
_IDENTIFIERS = ("email", "userPrincipleName", "name", "givenName", "id", "aadObjectId")
#: The Playground's schema 0.1.1 allows exactly these keys, and exactly five ``users``.
TOP_KEYS = ("version", "tenantId", "bot", "currentUser", "users", "personalChat", "groupChat", "team")
USER_KEYS = ("id", "name", "userPrincipleName", "aadObjectId", "givenName", "surname", "email")
USERS = 5


class UnknownPerson(ValueError):
    """``AS=`` names nobody in the Playground's config."""


def read_config(text: str) -> dict[str, Any]:
    """The subset of YAML our config uses: nested mappings, lists of mappings, scalars."""
    lines = [(len(raw) - len(raw.lstrip(" ")), raw.strip()) for raw in text.splitlines()
             if raw.strip() and not raw.strip().startswith("#")]
    value, rest = _block(lines, 0, 0)
    if rest != len(lines) or not isinstance(value, dict):
        raise ValueError("not a playground config")
    return value


def _scalar(text: str) -> str:
    text = text.strip()
    if text.startswith('"'):
        return str(json.loads(text))
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    return re.sub(r"\s+#.*$", "", text)


def _block(lines: list[tuple[int, str]], start: int, indent: int) -> tuple[Any, int]:
    if start < len(lines) and lines[start][1].startswith("- "):
        items: list[Any] = []
        i = start
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            # "- key: value" opens a mapping whose further keys sit two columns in
            first = (indent + 2, lines[i][1][2:])
            item, i = _mapping([first, *lines[i + 1:]], 0, indent + 2, offset=i + 1)
            items.append(item)
        return items, i
    return _mapping(lines, start, indent)


def _mapping(lines: list[tuple[int, str]], start: int, indent: int, offset: int | None = None) -> tuple[Any, int]:
    """A mapping at ``indent``; ``offset`` maps positions of a synthetic first line back to ``lines``."""
    out: dict[str, Any] = {}
    i = start
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("- "):
        key, _, value = lines[i][1].partition(":")
        i += 1
        if value.strip():
            out[key.strip()] = _scalar(value)
        elif i < len(lines) and lines[i][0] > indent:
            out[key.strip()], i = _block(lines, i, lines[i][0])
        else:
            out[key.strip()] = ""
    if offset is not None:
        return out, offset + i - 1
    return out, i


def dump_config(config: dict[str, Any]) -> str:
    """YAML text of the config, every scalar a double-quoted string."""
    out: list[str] = ["# Written by `make run AS=...` (bot/playground.py) from .m365agentsplayground.yml"]

    def emit(value: Any, indent: int) -> None:
        pad = " " * indent
        for key, item in value.items():
            if isinstance(item, dict):
                out.append(f"{pad}{key}:")
                emit(item, indent + 2)
            elif isinstance(item, list):
                out.append(f"{pad}{key}:")
                for entry in item:
                    for n, (k, v) in enumerate(entry.items()):
                        out.append(f"{pad}  {'- ' if n == 0 else '  '}{k}: {json.dumps(str(v), ensure_ascii=False)}")
            else:
                out.append(f"{pad}{key}: {json.dumps(str(item), ensure_ascii=False)}")

    emit(config, 0)
    return "\n".join(out) + "\n"


def people_of(config: dict[str, Any]) -> list[dict[str, Any]]:
    return [config["currentUser"], *config["users"]]


def as_person(config: dict[str, Any], who: str) -> dict[str, Any]:
    """The config with ``who`` (an email, a name, a first name or an id) as the current user."""
    wanted = who.strip().lower()
    people = people_of(config)
    found = [p for p in people if any(str(p.get(k, "")).lower() == wanted for k in _IDENTIFIERS)]
    if len(found) != 1:
        names = ", ".join(f"{p['name']} ({p['email']})" for p in people)
        raise UnknownPerson(f"AS={who!r} names nobody in {CONFIG}; one of: {names}")
    person = found[0]
    slug = re.sub(r"[^a-z0-9]+", "-", str(person["givenName"]).lower()).strip("-") or "user"
    return {**config, "currentUser": person, "users": [p for p in people if p is not person],
            "personalChat": {"id": f"personal-chat-{slug}"}}


def check_config(config: dict[str, Any]) -> None:
    """The strict schema's rules the Playground enforces (it exits on an invalid config)."""
    if tuple(config) != TOP_KEYS or config["version"] != "0.1.1":
        raise ValueError(f"top-level keys must be {TOP_KEYS} with version 0.1.1")
    if len(config["users"]) != USERS:
        raise ValueError(f"exactly {USERS} users")
    for person in people_of(config):
        if tuple(person) != USER_KEYS:
            raise ValueError(f"each user has exactly {USER_KEYS}")
    ids = [p["id"] for p in people_of(config)]
    if len(set(ids)) != len(ids):
        raise ValueError("user ids must differ")


def write_as(who: str, base: Path = CONFIG, folder: Path = COPIES) -> Path:
    """Write the config copy for ``who`` and return its path (for M365_AGENTS_PLAYGROUND_CONFIG_PATH)."""
    config = as_person(read_config(base.read_text(encoding="utf-8")), who)
    check_config(config)
    folder.mkdir(parents=True, exist_ok=True)
    slug = config["personalChat"]["id"].removeprefix("personal-chat-")
    path = folder / f"m365agentsplayground-as-{slug}.yml"
    path.write_text(dump_config(config), encoding="utf-8")
    return path.resolve()
