"""Restoring a backup: only documents the bot can read go in, and replacing data is never implicit.

A restore replaces the whole domain store, so a dump must hold nothing the bot would choke on later:
every document is parsed into its domain model (``domain.models``) with each field checked against
the model's types, and the bot's own bookkeeping tables are checked for the fields it reads. The
first bad document is named by its place (``tables.people["p7"].roles[0]``) and nothing changes.
What the restore would replace is shown as document counts per table, before and after.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from domain.models import (
    CATEGORY_OF_KIND,
    Assignment,
    AuditEntry,
    Benefit,
    BenefitKind,
    BenefitPackage,
    KeyReveal,
    MarketingContact,
    Organization,
    Person,
    ServiceRequest,
)
from services.json_input import JsonInputError
from services.notifications.outbox import STATES
from services.repository import (
    ASSIGNMENTS,
    AUDIT,
    BENEFITS,
    CONVERSATIONS,
    KEY_REVEALS,
    MARKETING,
    ORG,
    OUTBOX,
    PACKAGES,
    PEOPLE,
    PREFERENCES,
    PROCESSED,
    REQUESTS,
    SINGLETON,
    TICKS,
)
from services.storage.backup import dump_tables

#: the domain model of each table's documents
MODELS: dict[str, type] = {
    ORG: Organization, PEOPLE: Person, PACKAGES: BenefitPackage, BENEFITS: Benefit, ASSIGNMENTS: Assignment,
    KEY_REVEALS: KeyReveal, MARKETING: MarketingContact, REQUESTS: ServiceRequest, AUDIT: AuditEntry,
}
#: the bot's bookkeeping tables: the fields it reads from their documents, with their JSON types
BOOKKEEPING: dict[str, dict[str, type | tuple[type, ...]]] = {
    CONVERSATIONS: {"reference": dict},
    PREFERENCES: {},
    PROCESSED: {"result": dict},
    OUTBOX: {"state": str, "recipient": str, "kind": str, "created_at": str, "attempts": int, "params": dict},
    TICKS: {"next_at": str},
}
SINGLETONS = frozenset({ORG, MARKETING})


class RestoreError(JsonInputError):
    """A dump the bot cannot restore; ``where`` is the place of the first bad document or field."""


@dataclass(frozen=True)
class RestorePlan:
    """Documents per table in the store now and after the restore."""

    before: dict[str, int]
    after: dict[str, int]

    @property
    def replaces_data(self) -> bool:
        """Whether the store holds anything the restore would overwrite or delete."""
        return any(self.before.values())

    def lines(self) -> list[str]:
        """``table: before -> after`` for every table either side has."""
        names = sorted(set(self.before) | set(self.after))
        return [f"{name}: {self.before.get(name, 0)} -> {self.after.get(name, 0)}" for name in names]


def plan_restore(before: Mapping[str, int], dump: Any) -> RestorePlan:
    """Check every document of ``dump`` and count what it would leave.

    Args:
        before: documents per table in the store now.
        dump: a storage dump (``services.storage.backup.export_data``).

    Raises:
        RestoreError: a document the bot could not read, named by its place.
        ValueError: not a storage dump of a supported version.
    """
    tables = dump_tables(dump)
    for table, docs in tables.items():
        for doc_id, doc in docs.items():
            check_document(table, doc_id, doc)
    return RestorePlan(dict(before), {name: len(docs) for name, docs in tables.items() if docs})


def check_document(table: str, doc_id: str, doc: Mapping[str, Any]) -> None:
    """Raise :class:`RestoreError` unless ``doc`` is a document of ``table`` the bot can read."""
    where = f"tables.{table}[{doc_id!r}]"
    if not isinstance(doc_id, str) or not doc_id:
        raise RestoreError(f"tables.{table}", "a document id must be a non-empty string")
    if "id" in doc and doc["id"] != doc_id:
        raise RestoreError(f"{where}.id", f"differs from the document's key {doc_id!r}")
    if table in SINGLETONS and doc_id != SINGLETON:
        raise RestoreError(where, f"this table holds one document, {SINGLETON!r}")
    model = MODELS.get(table)
    if model is not None:
        _check_model(model, {**doc, "id": doc_id}, where)
        if table == BENEFITS:
            kind = BenefitKind(doc["kind"])
            category = CATEGORY_OF_KIND[kind].value
            if doc.get("category") != category:
                raise RestoreError(f"{where}.category", f"must be {category!r} for kind {kind.value!r}")
        return
    fields = BOOKKEEPING.get(table)
    if fields is None:
        raise RestoreError(f"tables.{table}", "the bot has no such table")
    for name, expected in fields.items():
        value = doc.get(name)
        if not isinstance(value, expected) or isinstance(value, bool) and expected is int:
            raise RestoreError(f"{where}.{name}", f"must be {_kind_name(expected)}")
    if table == OUTBOX and doc["state"] not in STATES:
        raise RestoreError(f"{where}.state", f"unknown state {doc['state']!r}; one of {', '.join(STATES)}")


def _check_model(model: type, doc: Mapping[str, Any], where: str) -> None:
    """Every field of the dataclass ``model`` present with the type its hint names (required ones
    present), then the model built from the document as the bot builds it."""
    hints = typing.get_type_hints(model)
    for f in dataclasses.fields(model):
        if f.name not in doc:
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if required:
                raise RestoreError(f"{where}.{f.name}", "is required")
            continue
        _check_value(hints[f.name], doc[f.name], f"{where}.{f.name}")
    try:
        model.from_doc(dict(doc))  # type: ignore[attr-defined]  # every class of MODELS is a domain model (_Doc)
    except (TypeError, ValueError) as exc:  # what the checks above cannot see
        raise RestoreError(where, f"not a valid {model.__name__}: {exc}") from None


_SCALARS: dict[type, str] = {str: "a string", bool: "true or false", int: "a whole number", float: "a number"}


def _check_value(hint: Any, value: Any, where: str) -> None:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            _check_value(inner[0], value, where)
        return
    if value is None:
        raise RestoreError(where, "must not be null")
    if origin in (tuple, frozenset, list):
        if not isinstance(value, list):
            raise RestoreError(where, "must be a list")
        item = args[0] if args else Any
        for i, v in enumerate(value):
            _check_value(item, v, f"{where}[{i}]")
        return
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise RestoreError(where, "must be an object")
        return
    if not isinstance(hint, type):
        return  # Any
    checks: dict[type, Callable[[Any], Any]] = {datetime: datetime.fromisoformat, date: date.fromisoformat}
    if hint in checks:
        if not isinstance(value, str):
            raise RestoreError(where, "must be an ISO date string")
        try:
            checks[hint](value)
        except ValueError:
            raise RestoreError(where, f"not a date: {value!r}") from None
    elif issubclass(hint, StrEnum):
        if value not in {e.value for e in hint}:
            raise RestoreError(where, f"unknown value {value!r}; one of {', '.join(e.value for e in hint)}")
    elif dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise RestoreError(where, "must be an object")
        _check_model(hint, value, where)
    elif hint in _SCALARS:
        ok = isinstance(value, hint) and (hint is bool or not isinstance(value, bool))
        if hint is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            raise RestoreError(where, f"must be {_SCALARS[hint]}")


_KIND_NAMES: dict[type | tuple[type, ...], str] = {dict: "an object", str: "a string", int: "a whole number"}


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return _KIND_NAMES.get(kind, str(kind))
