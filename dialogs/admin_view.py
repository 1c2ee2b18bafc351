"""Shared by the admin workflows: render a category list or the overview, and turn a refusal into
"here is the current state, and why nothing changed".

Seed rules about *who* may act (admin, Global admin) are not softened into a notice: they propagate
to the bot's handler, which answers with the localized refusal naming the admins, and the clicked
card stays as it was. Every other refusal (seat taken meanwhile, already assigned, 90-day lock,
bad alternate email) answers with the refreshed list and the reason on top, because the card the
admin clicked was stale or incomplete.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from cards.base import Card, notice
from cards.benefit_list import MAX_ASSIGNEE_LINES, MAX_CHOICES, PAGE_SIZE, ListView, clamp_page, list_card
from cards.overview import overview_card
from cards.text import compose
from dialogs.actions import ActionResult
from dialogs.turn import Turn
from domain.errors import RuleViolation, RuleViolations
from domain.models import Category


def new_nonce() -> str:
    """A fresh id per rendered card; a button's repeated click reuses it (see ``bot.handler._op_key``)."""
    return uuid.uuid4().hex[:16]


def list_view(turn: Turn, category: Category, page: int = 0) -> ListView:
    """What the list's page shows; of the directory only whom it names (the assignees in view) and the
    picker's first choices, so the card costs the same with 1,000 or 150,000 people."""
    service = turn.service
    total = service.count_benefits(turn.person, category)  # admins only
    page = clamp_page(page, total)
    rows = service.list_benefits(turn.person, category, page * PAGE_SIZE, PAGE_SIZE)
    org = service.repo.organization()
    named = [a.person_id for _, assignments in rows for a in assignments[:MAX_ASSIGNEE_LINES]]
    people = {p.id: p for p in service.repo.picker_people(named, MAX_CHOICES * 2, turn.locale)}
    return ListView(
        category=category, rows=rows, total=total, actor=turn.person, today=service.today(),
        people=people,
        packages={p.id: p for p in service.repo.packages()},
        account_email=org.account_email if org else "", page=page, nonce=new_nonce(),
        allowed=turn.workflows.allowed_verbs(turn.person),
    )


def render_list(turn: Turn, category: Category, page: int = 0, outcome: dict[str, Any] | None = None) -> Card:
    return list_card(list_view(turn, category, page), turn.t, outcome)


def render_overview(turn: Turn, outcome: dict[str, Any] | None = None) -> Card:
    summaries = turn.service.overview(turn.person)
    packages = turn.service.repo.packages()
    verbs = turn.workflows.allowed_verbs(turn.person)
    if outcome is None:  # the same data in the same language gives the same card: the turn's memo may keep it
        return turn.memo(turn.t, (tuple(summaries), tuple(packages), verbs),
                            lambda: overview_card(summaries, packages, turn.t, set(verbs)))
    return overview_card(summaries, packages, turn.t, set(verbs), outcome)


def reason(turn: Turn, violation: RuleViolation) -> str:
    parts = violation.violations if isinstance(violation, RuleViolations) else [violation]
    said = {f"part{i}": turn.t(v.code, **v.params) for i, v in enumerate(parts)}
    return compose(" ".join(f"{{{name}}}" for name in said), **said)  # each keeps its catalog markup


def refusal(turn: Turn, violation: RuleViolation) -> dict[str, Any]:
    return notice(turn.t, "benefits.refused", "attention", reason=reason(turn, violation))


async def change_then_show(turn: Turn, category: Category | None, page: int,
                           change: Callable[[], Awaitable[dict[str, Any]]],
                           reraise: Callable[[RuleViolation], bool] = lambda _: False) -> ActionResult:
    """Run ``change`` (it returns the success notice); show the refreshed list either way, unless
    ``reraise`` wants the refusal back (to show the refused form again)."""
    try:
        outcome = await change()
    except RuleViolation as violation:
        if turn.workflows.is_role_refusal(violation.code) or reraise(violation):
            raise
        outcome = refusal(turn, violation)
    if category is None:
        return ActionResult(render_overview(turn, outcome))
    return ActionResult(render_list(turn, category, page, outcome))
