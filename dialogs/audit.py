"""Recent changes (admins): the audit trail of a benefit, package or person, by id or by name.

Reached from the *Recent changes* buttons in the list rows and from the text command ``changes``
(``changes Gold Core``, ``changes pkg-action-pack``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cards.audit import changes_card, choose_subject_card, names_in
from cards.paging import Page, clamp
from dialogs import payloads
from dialogs.actions import ADMINS, ActionResult, Phrases, action
from dialogs.turn import Turn
from domain import errors, rules
from domain.errors import RuleViolation
from services.repository import fold

#: Changes a page shows (each names who, what, when and up to six changed fields).
CHANGES_PAGE = 10

MARKETING_CONTACT = "marketing_contact"


def _subjects(turn: Turn) -> list[tuple[str, str]]:
    repo = turn.service.repo
    out = [(p.id, turn.t.label(p)) for p in repo.packages()]
    for b in repo.benefits():
        out.append((b.id, turn.t.label(b)))
    out.append((MARKETING_CONTACT, turn.t("audit.marketing_contact")))
    return out


def _person_named(turn: Turn, wanted: str) -> tuple[str, str] | None:
    """A person by id, email or whole name, looked up in the directory's indexes (never read whole)."""
    repo = turn.service.repo
    found = repo.person(wanted.strip()) or repo.person_by_email(wanted)
    if found is None:
        candidates, _ = repo.people_page(wanted, 0, 20)
        found = next((p for p in candidates if fold(p.name) == fold(wanted)), None)
    return (found.id, found.name) if found else None


def resolve_subject(turn: Turn, wanted: str) -> tuple[str, str] | None:
    """An id, or a name (exact first, then the only partial match), to (subject id, display name)."""
    subjects = _subjects(turn)
    lowered = wanted.strip().lower()
    for sid, title in subjects:
        if sid.lower() == lowered or title.lower() == lowered:
            return sid, title
    person = _person_named(turn, wanted)
    if person is not None:
        return person
    partial = [(sid, title) for sid, title in subjects if lowered in title.lower()]
    return partial[0] if len(partial) == 1 else None


@dataclass(frozen=True)
class ChangesClick:
    """Whose changes: chosen in the card, carried by a button or typed after the command; and the
    list the card came from, to go back to."""

    subject_id: str = payloads.text("subject", 200, key=("subject_id", "argument"))
    page: int = payloads.page()
    back: str = payloads.carried("back")
    back_data: dict[str, str] = payloads.carried_words("back_data")


@action("recent_changes", roles=ADMINS, inputs=("subject_id",), payload=ChangesClick, phrases=Phrases(
    en_US=("changes", "history", "audit", "recent changes"), zh_CN=("更改", "历史记录"), zh_TW=("變更", "歷程記錄")))
async def recent_changes(turn: Turn, click: ChangesClick) -> ActionResult:
    rules.require_admin(turn.person)
    wanted = click.subject_id.strip()
    if not wanted:
        return ActionResult(choose_subject_card(turn.t, _subjects(turn)))
    found = resolve_subject(turn, wanted)
    if found is None:
        raise RuleViolation(errors.UNKNOWN_BENEFIT, id=wanted)
    subject_id, title = found
    number = click.page
    entries, total = turn.service.recent_changes(turn.person, subject_id, CHANGES_PAGE, number * CHANGES_PAGE)
    if not entries and number:  # past the end: the last page
        number = clamp(number, total, CHANGES_PAGE)
        entries, total = turn.service.recent_changes(turn.person, subject_id, CHANGES_PAGE, number * CHANGES_PAGE)
    names = turn.service.repo.names_of(names_in(entries))
    back = click.back
    allowed = turn.may(back)
    return ActionResult(changes_card(turn.t, title, Page(entries, total, number, size=CHANGES_PAGE), names,
                                     back if allowed else None, click.back_data if allowed else None, subject_id))
