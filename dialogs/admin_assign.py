"""Assign and remove seats: Visual Studio, technical benefits and Azure usage-based subscriptions.

``assign_user`` is generic (``benefit_id``, ``person_id``, ``alternate_email``); the service checks
the seeds' rules: Global admin only, never more assignments than seats, usage-based subscriptions
to yourself only, technical benefits with an alternate email that differs from the company
account email. ``remove_assignment`` frees a seat (reassign = remove, then assign), unless the
90-day lock of a fully assigned Visual Studio benefit applies. ``add_person`` is the seeds' "add
new users in Account settings" for someone who is not in the list (Global admin only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.base import confirm, execute, notice
from cards.benefit_list import LIST_VERBS, assign_form_card
from dialogs import payloads
from dialogs.actions import GLOBAL_ADMINS, ActionResult, action
from dialogs.admin_view import change_then_show, list_view, reason
from dialogs.people import known_person, resolve_person
from dialogs.turn import Turn
from domain import errors
from domain.errors import RuleViolation
from domain.models import Assignment, BenefitKind, Category, Person, Status


async def _resolve_person(turn: Turn, value: str) -> Person:
    """Our directory id, or what the Teams people picker returns (an Entra object id), or an email."""
    person = await resolve_person(turn, value)
    if person is None:
        raise RuleViolation(errors.UNKNOWN_PERSON, id=value)
    return person


def _category_named(turn: Turn, benefit_id: str, category: str) -> Category | None:
    """The list a click came from: its benefit's, else the category its button names."""
    benefit = turn.service.repo.benefit(benefit_id)
    if benefit is not None:
        return benefit.category
    try:
        return Category(category)
    except ValueError:
        return None


@dataclass(frozen=True)
class AssignForm:
    """The list's row of a benefit holds its own assign form, whose inputs are named after it."""

    benefit_id: str = payloads.text("benefit", 200)
    person_id: str = payloads.text("person_id", 254, key=("person_id", "person-{benefit_id}"))
    alternate_email: str = payloads.text("alternate_email", 254, key=("alternate_email", "alternate-{benefit_id}"))
    category: str = payloads.carried("category")
    page: int = payloads.page()


@action("assign_user", roles=GLOBAL_ADMINS,
        inputs=("person-{benefit_id}", "alternate-{benefit_id}", "person_id", "alternate_email"), payload=AssignForm)
async def assign_user(turn: Turn, form: AssignForm) -> ActionResult:
    benefit_id = form.benefit_id
    category = _category_named(turn, benefit_id, form.category)

    async def change() -> dict[str, Any]:
        chosen = form.person_id.strip()
        if not chosen:
            raise RuleViolation(errors.MISSING_FIELD, field="person_id")
        person = await _resolve_person(turn, chosen)
        alternate = form.alternate_email.strip()
        assignment = await turn.service.assign(turn.person, benefit_id, person.id, alternate, op_key=turn.op_key)
        # A replayed click answers with the assignment the first click made, not with this click's choice.
        assignee = turn.service.repo.person(assignment.person_id) or person
        benefit = turn.service.repo.benefit(assignment.benefit_id)
        name = turn.t.label(benefit) if benefit else assignment.benefit_id
        if benefit is not None and benefit.kind is BenefitKind.CLOUD_USAGE_BASED:
            return notice(turn.t, "cloud.activated_notice", benefit=name)
        if assignment.status is Status.PENDING_ACTIVATION:
            return notice(turn.t, "technical.pending_notice", benefit=name, person=assignee.name)
        return notice(turn.t, "benefits.assigned_notice", benefit=name, person=assignee.name)

    try:
        return await change_then_show(turn, category, form.page, change, reraise=_refused_input)
    except RuleViolation as violation:
        again = _form_again(turn, form, violation)
        if again is None:
            raise
        return ActionResult(again)


#: Refusals about what was typed in the assign form: the input each is about.
_ALTERNATE_CODES = frozenset({errors.INVALID_EMAIL, errors.ALTERNATE_EMAIL_SAME_AS_ACCOUNT})
_PERSON_CODES = frozenset({errors.UNKNOWN_PERSON})


def _refused_field(violation: RuleViolation) -> str | None:
    """``person`` or ``alternate`` when the refusal is about one field of the form; else None."""
    if violation.code in _ALTERNATE_CODES or (violation.code == errors.MISSING_FIELD
                                              and violation.params.get("field") == "alternate_email"):
        return "alternate"
    if violation.code in _PERSON_CODES or violation.code == errors.MISSING_FIELD:
        return "person"
    return None


def _refused_input(violation: RuleViolation) -> bool:
    return _refused_field(violation) is not None


def _form_again(turn: Turn, form: AssignForm, violation: RuleViolation) -> dict[str, Any] | None:
    """The assign form again with what was typed and the reason under its field (a free seat is left)."""
    field = _refused_field(violation)
    benefit_id = form.benefit_id
    benefit = turn.service.repo.benefit(benefit_id)
    if field is None or benefit is None:
        return None
    view = list_view(turn, benefit.category, form.page)
    row = next((assignments for b, assignments in view.rows if b.id == benefit_id), None)
    if row is None or len(row) >= benefit.quantity:
        return None
    typed = form.person_id.strip()
    chosen = known_person(turn, typed)  # the picker's value as the form's choices name it
    values = {f"person-{benefit_id}": chosen.id if chosen is not None else typed,
              f"alternate-{benefit_id}": form.alternate_email.strip()}
    errors_ = {f"{field}-{benefit_id}": reason(turn, violation)}
    return assign_form_card(view, benefit, row, turn.t, values, errors_)


@dataclass(frozen=True)
class RemovalClick:
    assignment_id: str = payloads.text("assignment", 200)
    benefit_id: str = payloads.text("benefit", 200)
    category: str = payloads.carried("category")
    confirm: str = payloads.carried("confirm")
    nonce: str = payloads.carried("nonce")
    page: int = payloads.page()


@action("remove_assignment", roles=GLOBAL_ADMINS, payload=RemovalClick)
async def remove_assignment(turn: Turn, click: RemovalClick) -> ActionResult:
    assignment_id = click.assignment_id
    benefit_id = click.benefit_id
    existing = turn.service.repo.assignment(assignment_id)
    if existing is not None:
        benefit_id = existing.benefit_id
    category = _category_named(turn, benefit_id, click.category)
    if existing is not None and existing.is_current and click.confirm != "yes":
        return ActionResult(_confirm_removal(turn, existing, category, click))

    async def change() -> dict[str, Any]:
        removed = await turn.service.remove_assignment(turn.person, assignment_id, op_key=turn.op_key)
        person = turn.service.repo.person(removed.person_id)
        benefit = turn.service.repo.benefit(removed.benefit_id)
        return notice(turn.t, "benefits.removed_notice", person=person.name if person else removed.person_id,
                      benefit=turn.t.label(benefit) if benefit else removed.benefit_id)

    return await change_then_show(turn, category, click.page, change)


def _confirm_removal(turn: Turn, assignment: Assignment, category: Category | None,
                     click: RemovalClick) -> dict[str, Any]:
    """Removing a seat asks first: who loses what, the button that removes, and the way back."""
    t = turn.t
    person = turn.service.repo.person(assignment.person_id)
    benefit = turn.service.repo.benefit(assignment.benefit_id)
    names = {"person": person.name if person else assignment.person_id,
             "benefit": t.label(benefit) if benefit else assignment.benefit_id}
    nonce = click.nonce
    yes = execute(t("benefits.confirm_remove_button", **names), "remove_assignment", {
        "assignment_id": assignment.id, "benefit_id": assignment.benefit_id, "page": click.page, "confirm": "yes",
        **({"nonce": f"{nonce}:confirm"} if nonce else {})})
    back = LIST_VERBS.get(category, "overview") if category is not None else "overview"
    return confirm(t, t("benefits.confirm_remove_title", **names), [t("benefits.confirm_remove_text", **names)],
                   yes, execute(t("benefits.keep_button", **names), back, {"page": click.page}))


@dataclass(frozen=True)
class NewPersonForm:
    new_person_name: str = payloads.text("name", 120)
    new_person_email: str = payloads.text("email", 254)
    category: str = payloads.carried("category")
    page: int = payloads.page()


@action("add_person", roles=GLOBAL_ADMINS, inputs=("new_person_name", "new_person_email"), payload=NewPersonForm)
async def add_person(turn: Turn, form: NewPersonForm) -> ActionResult:
    category = _category_named(turn, "", form.category)

    async def change() -> dict[str, Any]:
        person = await turn.service.add_person(turn.person, form.new_person_name, form.new_person_email)
        return notice(turn.t, "benefits.person_added", person=person.name)

    return await change_then_show(turn, category, form.page, change)
