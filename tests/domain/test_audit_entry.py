"""The details of an audit entry are typed fields; entries stored with the older free-form ``extra`` still read."""

from __future__ import annotations

from datetime import UTC, datetime

from cards.audit import summary
from domain.models import AuditEntry
from services.i18n import Translator

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
STORED_BEFORE = {"id": "e1", "at": AT.isoformat(), "actor_id": "alex", "action": "keys.revealed",
                 "subject_id": "office", "before": None, "after": None,
                 "extra": {"language": "en-us", "os": "64-bit", "ignored": "x"}}


def test_an_entry_stored_with_extra_reads_its_details_into_the_fields() -> None:
    entry = AuditEntry.from_doc(STORED_BEFORE)
    assert (entry.language, entry.os, entry.source) == ("en-us", "64-bit", "")
    assert entry.action == "keys.revealed" and entry.at == AT


def test_an_entry_writes_its_details_as_fields_and_reads_them_back() -> None:
    entry = AuditEntry("e2", AT, "system", "person.roles", "lee", source="entra")
    doc = entry.to_doc()
    assert "extra" not in doc and doc["source"] == "entra"
    assert AuditEntry.from_doc(doc) == entry


def test_the_details_of_an_older_entry_show_on_recent_changes() -> None:
    t = Translator("en-US")
    lines = summary(t, AuditEntry.from_doc(STORED_BEFORE), {})
    assert any(line.startswith(f"{t('audit.field.language')}: ") for line in lines)
    assert any(line.startswith(f"{t('audit.field.os')}: ") for line in lines)
