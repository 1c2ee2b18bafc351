"""A model's document: each field encoded as ``dataclasses.asdict`` would give it, whatever the model (but a
person's ids not known yet, which are left out)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from domain import models
from domain.models import Person, Role
from services.inventory import demo_inventory, parse_inventory
from services.repository import Repository
from tests._common.crowd import crowd_ops

MODELS = {"packages": models.BenefitPackage, "benefits": models.Benefit, "assignments": models.Assignment,
          "requests": models.ServiceRequest, "audit": models.AuditEntry, "people": models.Person}


def _by_asdict(model: Any) -> dict[str, Any]:
    doc = {k: models._encode(v) for k, v in asdict(model).items()}
    if isinstance(model, Person):
        doc = {k: v for k, v in doc.items() if v != "" or k not in models.UNKNOWN_IDS_LEFT_OUT}
    return doc


def test_every_kind_of_document_is_the_one_asdict_gives() -> None:
    inventory = parse_inventory(demo_inventory(date(2026, 11, 30)))
    objects: list[Any] = [inventory.organization, *inventory.people, *inventory.packages, *inventory.benefits,
                          Person("p", "Lee", "lee@contoso.com", frozenset({Role.GLOBAL_ADMIN, Role.USER_ADMIN}),
                                 locale="zh-TW")]
    for batch in crowd_ops(60, date(2026, 11, 30), "alex", 2):
        for op in batch:
            if op.table in MODELS:
                objects.append(MODELS[op.table].from_doc(dict(op.doc)))
    assert {type(o) for o in objects} >= {*MODELS.values(), models.Organization}
    assert any(b.keys and b.downloads and b.i18n for b in inventory.benefits)  # nested models and maps
    for model in objects:
        assert model.to_doc() == _by_asdict(model)
    entry = models.AuditEntry(id="a", at=datetime(2026, 11, 30, tzinfo=UTC), actor_id="alex", action="x",
                              subject_id="s", before={"roles": ["global_admin"], "n": {"k": [1, 2]}})
    doc = entry.to_doc()
    assert doc == _by_asdict(entry) and doc["before"] is not entry.before  # a copy, as asdict made
    assert Repository.put_person(inventory.people[0]).doc == _by_asdict(inventory.people[0])


def test_a_person_s_ids_are_stored_once_known_and_read_back_empty_until_then() -> None:
    unknown = Person("p", "Lee", "lee@contoso.com", locale="zh-CN")
    assert "aad_object_id" not in unknown.to_doc() and "teams_id" not in unknown.to_doc()
    assert Person.from_doc(unknown.to_doc()) == unknown
    known = Person("q", "Ana", "ana@contoso.com", aad_object_id="00000000-aaaa", teams_id="29:1-ana")
    assert known.to_doc()["aad_object_id"] == "00000000-aaaa" and known.to_doc()["teams_id"] == "29:1-ana"
    assert Person.from_doc(known.to_doc()) == known
