"""The admin's category lists (Software, Cloud, Visual Studio, Technical): one row per benefit.

The seeds say "select the down arrow at the far right of the row to expand the details"; here each
row ends with a ⌄ column whose ``Action.ToggleVisibility`` shows a hidden details container. What
the details offer depends on the benefit's kind: *Get keys* (software and license-based cloud),
*Assign myself* (Azure usage-based), *Assign user* / *Remove* (Visual Studio, technical benefits)
and *Request assistance* (advisory hours, presales). Forms live in ``Action.ShowCard`` sub-cards so
that each form validates only its own required inputs.

Pure functions: everything they show comes in through :class:`ListView`; the nonce that makes a
click idempotent is chosen by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from cards.base import Card, about, card, execute, facts, heading, leave, named, open_url, row_toggle, text
from cards.paging import Page, pager, search_action, search_lines
from cards.text import compose, json_size
from domain import rules
from domain.models import Assignment, Benefit, BenefitKind, BenefitPackage, Category, Person, Status
from services.i18n import Translator

#: Rows per page: keeps the card far below Teams' 80 KB with the largest details we render.
PAGE_SIZE = 4
#: The Visual Studio subscribers' portal (seed: "Users can manage their subscriptions in the Visual Studio portal").
VISUAL_STUDIO_PORTAL = "https://my.visualstudio.com"
#: Static picker choices and assignee lines per benefit: a big directory must not break 80 KB. The
#: Graph people search of Teams finds everyone else; every assignee is on the benefit's assignees card.
MAX_CHOICES = 10
MAX_ASSIGNEE_LINES = 3
#: Assignees a page of one benefit's assignee list shows (``assignees_card``).
ASSIGNEES_PAGE = 10
#: If a page is still too big, it is rebuilt with these smaller limits (lines, choices), in order.
_SMALLER = ((2, 5), (0, 0))
#: UTF-16 bytes of JSON a list card may take (Teams refuses a message much over 80 KB).
CARD_BUDGET = 55_000
#: Teams people picker dataset (works in Teams; the Playground has no Graph, so static choices come too).
PEOPLE_DATASET = "graph.microsoft.com/users"
#: Column widths shared by the header and every row, so each label sits above its values (``auto``
#: columns size to their own content and drift apart between rows); the toggle column fits its button.
COLUMN_WIDTHS = {"name": 4, "status": 2, "quantity": 3, "expires": 2}
TOGGLE_WIDTH = "48px"

LIST_VERBS: dict[Category, str] = {
    Category.SOFTWARE: "list_software",
    Category.CLOUD: "list_cloud",
    Category.VISUAL_STUDIO: "list_visual_studio",
    Category.TECHNICAL: "list_technical",
    Category.GO_TO_MARKET: "list_go_to_market",
}

_INTRO: dict[Category, tuple[str, ...]] = {
    Category.SOFTWARE: ("software.intro",),
    Category.CLOUD: ("cloud.intro",),
    Category.VISUAL_STUDIO: ("vs.intro",),
    Category.TECHNICAL: ("technical.intro",),
}


@dataclass(frozen=True)
class ListView:
    """Everything a category list shows, read by the caller from the service."""

    category: Category
    rows: list[tuple[Benefit, list[Assignment]]]
    actor: Person
    today: date
    people: dict[str, Person] = field(default_factory=dict)
    packages: dict[str, BenefitPackage] = field(default_factory=dict)
    account_email: str = ""
    page: int = 0
    nonce: str = ""
    max_lines: int = MAX_ASSIGNEE_LINES
    max_choices: int = MAX_CHOICES
    #: the verbs the viewer may run (``dialogs.actions.allowed_verbs``); ``None``: every verb
    allowed: frozenset[str] | None = None
    #: how many benefits the category has, when ``rows`` holds only the page's (``None``: ``rows`` is all)
    total: int | None = None

    def may(self, verb: str) -> bool:
        return self.allowed is None or verb in self.allowed


def status_of(view: ListView, benefit: Benefit, assignments: Iterable[Assignment]) -> Status:
    """The benefit's status from the one status model (consistent with its assignees')."""
    return rules.benefit_status(benefit, assignments, view.today, view.packages.get(benefit.package_id))


def status_text(t: Translator, status: Status) -> str:
    return t(f"status.{status.value}")


def pages(count: int) -> int:
    return max(1, math.ceil(count / PAGE_SIZE))


def clamp_page(page: Any, count: int) -> int:
    try:
        value = int(page)
    except (TypeError, ValueError):
        value = 0
    return min(max(0, value), pages(count) - 1)


def _nonce(view: ListView, *parts: str) -> str:
    """One nonce per button: a double click repeats it, a different button or a new card does not."""
    return ":".join((view.nonce, *parts)) if view.nonce else ""


def _mutating(title: str, verb: str, view: ListView, data: dict[str, Any], *parts: str) -> dict[str, Any]:
    payload = {**data, "page": view.page}
    nonce = _nonce(view, verb, *parts)
    if nonce:
        payload["nonce"] = nonce
    return execute(title, verb, payload)


def list_card(view: ListView, t: Translator, notice: dict[str, Any] | None = None) -> Card:
    """One category's benefits, a page at a time, with an outcome notice on top after a change.

    A page with many assignees or a big directory is rebuilt with fewer lines until it fits.
    """
    result = _list_card(view, t, notice)
    for lines, choices in _SMALLER:
        if json_size(result) <= CARD_BUDGET:
            break
        result = _list_card(replace(view, max_lines=lines, max_choices=choices), t, notice)
    return result


def _list_card(view: ListView, t: Translator, notice: dict[str, Any] | None) -> Card:
    body: list[dict[str, Any]] = []
    if notice is not None:
        body.append(notice)
    body.append(heading(t(f"categories.{view.category.value}")))
    for key in _INTRO.get(view.category, ()):
        body.append(text(t(key), isSubtle=True, spacing="Small"))
    count = len(view.rows) if view.total is None else view.total
    page = clamp_page(view.page, count)
    view = replace(view, page=page)
    shown = view.rows[page * PAGE_SIZE:(page + 1) * PAGE_SIZE] if view.total is None else view.rows
    if not shown:
        body.append(text(t("benefits.none")))
    else:
        body.append(_header(t))
        for benefit, assignments in shown:
            body.extend(_row(view, benefit, assignments, t))
        body.append(text(t("benefits.expand_hint"), isSubtle=True, size="Small"))
    actions: list[dict[str, Any]] = []
    verb = LIST_VERBS[view.category]
    line, buttons = pager(t, Page(shown, count, page, size=PAGE_SIZE), verb, t(f"categories.{view.category.value}"))
    body += line
    actions += buttons
    if (view.category is Category.VISUAL_STUDIO or view.category is Category.TECHNICAL) and view.may("add_person"):
        actions.append(_add_person_action(view, t))
    actions.append(execute(t("benefits.overview"), "overview"))
    return card(body, actions)


def _header(t: Translator) -> dict[str, Any]:
    def col(key: str, width: int) -> dict[str, Any]:
        return {"type": "Column", "width": width, "items": [text(t(key), weight="Bolder", size="Small")]}

    return {"type": "ColumnSet", "columns": [
        col("benefits.name", COLUMN_WIDTHS["name"]), col("benefits.status", COLUMN_WIDTHS["status"]),
        col("benefits.quantity", COLUMN_WIDTHS["quantity"]), col("benefits.expires", COLUMN_WIDTHS["expires"]),
        {"type": "Column", "width": TOGGLE_WIDTH, "items": []}]}


def _when(view: ListView, benefit: Benefit, status: Status, t: Translator) -> str:
    """The Expires column: the expiry date; before activation, the last day to activate instead."""
    if rules.activate_by_applies(status) and benefit.activate_by is not None:
        return t("benefits.activate_by_value", date=benefit.activate_by)
    expires = rules.expiry_of(benefit, view.packages.get(benefit.package_id))
    return t("benefits.expires_value", date=expires) if expires is not None else "—"


def quantity_text(benefit: Benefit, assignments: list[Assignment], t: Translator) -> str:
    """The Quantity column, in the benefit's own unit: seats say who holds them, hours stay hours."""
    allocation = t.plural(f"units.{benefit.unit.value}", benefit.quantity)
    if rules.quantity_is_seats(benefit):
        return t("benefits.seats", allocation=allocation, assigned=len(assignments),
                 available=max(0, benefit.quantity - len(assignments)))
    if rules.is_assignable(benefit):
        return t("benefits.allocation_people", allocation=allocation,
                 people=t.plural("overview.people_assigned", len(assignments)))
    return allocation


def _row(view: ListView, benefit: Benefit, assignments: list[Assignment], t: Translator) -> list[dict[str, Any]]:
    details_id = f"details-{benefit.id}"
    status = status_of(view, benefit, assignments)
    seats = quantity_text(benefit, assignments, t)
    name_items = [text(t.pick(benefit, "name"), weight="Bolder")]
    if benefit.kind in (BenefitKind.CLOUD_USAGE_BASED, BenefitKind.CLOUD_LICENSE_BASED):
        key = "cloud.usage_based" if benefit.kind is BenefitKind.CLOUD_USAGE_BASED else "cloud.license_based"
        name_items.append(text(t(key), isSubtle=True, size="Small", spacing="None"))
    row = {
        "type": "ColumnSet", "id": f"row-{benefit.id}", "separator": True,
        "columns": [
            {"type": "Column", "width": COLUMN_WIDTHS["name"], "items": name_items},
            {"type": "Column", "width": COLUMN_WIDTHS["status"],
             "items": [text(status_text(t, status), size="Small")]},
            {"type": "Column", "width": COLUMN_WIDTHS["quantity"], "items": [text(seats, size="Small")]},
            {"type": "Column", "width": COLUMN_WIDTHS["expires"],
             "items": [text(_when(view, benefit, status, t), size="Small")]},
            {"type": "Column", "width": TOGGLE_WIDTH, "verticalContentAlignment": "Center",
             "items": [row_toggle(t, details_id, t("benefits.details"), t.label(benefit))]},
        ],
    }
    details = {"type": "Container", "id": details_id, "isVisible": False, "style": "emphasis",
               "items": _details(view, benefit, assignments, t)}
    return [row, details]


def _details(view: ListView, benefit: Benefit, assignments: list[Assignment], t: Translator) -> list[dict[str, Any]]:
    package = view.packages.get(benefit.package_id)
    items: list[dict[str, Any]] = []
    status = status_of(view, benefit, assignments)
    description, instructions = t.pick(benefit, "description"), t.pick(benefit, "special_instructions")
    if description:
        items.append(text(description))
    items.append(facts([
        (t("benefits.package"), t.pick(package, "name") if package else ""),
        (t("benefits.source_program"), t.pick(package, "source_program") if package else ""),
        (t("benefits.quantity"), quantity_text(benefit, assignments, t)),
        (t("benefits.status"), status_text(t, status)),
        (t("benefits.activated_on"), t.date(benefit.activated_on)),
        (t("benefits.activate_by"), t.date(benefit.activate_by) if rules.activate_by_applies(status) else ""),
        (t("benefits.expires"), t.date(rules.expiry_of(benefit, package))),
    ]))
    if instructions:
        items.append(text(compose("**{label}:** {value}", label=t("benefits.special_instructions"),
                                  value=instructions)))
    if benefit.status is Status.CANCELLED:
        return items
    if rules.has_keys(benefit) and view.may("reveal_keys"):
        items.extend(_keys_section(view, benefit, t))
    if benefit.kind is BenefitKind.CLOUD_USAGE_BASED:
        items.extend(_usage_based_section(view, benefit, assignments, t))
    elif rules.is_assignable(benefit):
        items.extend(_assignments_section(view, benefit, assignments, t))
    if rules.accepts_assistance_requests(benefit) and view.may("request_assistance"):
        items.append(text(t("technical.assistance_hint"), isSubtle=True))
        items.append({"type": "ActionSet", "actions": [
            named(t, execute(t("technical.request_assistance"), "request_assistance",
                             {"benefit_id": benefit.id, "page": view.page}), t.label(benefit))]})
    return items


# --- keys (software, license-based cloud) -----------------------------------------------------------
#: Labels and messages of each key dimension (``rules.KEY_DIMENSIONS``).
_KEY_INPUTS = {"language": ("software.language", "software.language_required"),
               "os": ("software.os", "software.os_required")}


def _keys_section(view: ListView, benefit: Benefit, t: Translator) -> list[dict[str, Any]]:
    """The *Get keys* form asks only what the keys vary by (a SaaS licence has no OS type)."""
    hint = "cloud.license_hint" if benefit.kind is BenefitKind.CLOUD_LICENSE_BASED else "software.get_keys_hint"
    inputs = [
        {"type": "Input.ChoiceSet", "id": f"{name}-{benefit.id}", "label": t(_KEY_INPUTS[name][0]),
         "isRequired": True, "errorMessage": t(_KEY_INPUTS[name][1]), "style": "compact",
         "choices": [{"title": t.choice("choices", v), "value": v} for v in values]}
        for name, values in rules.asked_key_choices(benefit).items()
    ]
    form = card([
        text(t("software.reveal_warning"), isSubtle=True, size="Small"),
        *inputs,
    ], [_mutating(t("software.get_keys"), "reveal_keys", view, {"benefit_id": benefit.id}, benefit.id)])
    form.pop("msteams", None)
    form.pop("$schema", None)
    return [text(t(hint), isSubtle=True),
            {"type": "ActionSet", "actions": [named(t, {"type": "Action.ShowCard", "title": t("software.get_keys"),
                                                          "card": form}, t.label(benefit))]}]


# --- Azure usage-based ---------------------------------------------------------------------------
def _usage_based_section(view: ListView, benefit: Benefit, assignments: list[Assignment],
                         t: Translator) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [text(t("cloud.usage_hint"), isSubtle=True)]
    items.extend(_assignee_lines(view, benefit, assignments, t, removable=False))
    actions: list[dict[str, Any]] = []
    mine = any(a.person_id == view.actor.id for a in assignments)
    if not mine and len(assignments) < benefit.quantity and view.may("assign_user"):
        actions.append(_mutating(t("cloud.assign_myself"), "assign_user", view,
                                 {"benefit_id": benefit.id, "person_id": view.actor.id}, benefit.id))
    if benefit.portal_url:
        items.append(text(t("cloud.portal_hint"), isSubtle=True))
        actions.append(open_url(t("cloud.open_portal"), benefit.portal_url))
    if actions:
        items.append({"type": "ActionSet", "actions": actions})
    return items


# --- assignments (Visual Studio, technical) ------------------------------------------------------
def _assignee_lines(view: ListView, benefit: Benefit, assignments: list[Assignment], t: Translator,
                    removable: bool) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [text(t("benefits.assigned_users"), weight="Bolder")]
    if not assignments:
        items.append(text(t("benefits.no_assignees"), isSubtle=True))
    for a in assignments[:view.max_lines]:
        person = view.people.get(a.person_id)
        name = person.name if person else a.person_id
        line = t("benefits.assignee_line", person=name, email=person.email if person else "",
                 status=status_text(t, rules.assignment_status(a, benefit, view.today,
                                                               view.packages.get(benefit.package_id))),
                 date=a.assigned_at)
        column_items = [text(line, size="Small")]
        if a.alternate_email:
            column_items.append(text(t("benefits.alternate_line", email=a.alternate_email), isSubtle=True,
                                     size="Small", spacing="None"))
        if a.status is Status.PENDING_ACTIVATION:
            column_items.append(text(t("technical.several_days"), isSubtle=True, size="Small", spacing="None"))
        columns: list[dict[str, Any]] = [{"type": "Column", "width": "stretch", "items": column_items}]
        if removable:
            columns.append({"type": "Column", "width": "auto", "items": [{"type": "ActionSet", "actions": [
                about(t, _mutating(t("benefits.remove", person=name), "remove_assignment", view,
                                   {"benefit_id": benefit.id, "assignment_id": a.id}, a.id), t.label(benefit))]}]})
        items.append({"type": "ColumnSet", "columns": columns})
    if len(assignments) > view.max_lines:
        items.append(text(t("benefits.more", count=len(assignments) - view.max_lines), isSubtle=True))
        items.append({"type": "ActionSet", "actions": [named(t, execute(
            t("benefits.all_assignees", count=len(assignments)), "assignees",
            {"benefit_id": benefit.id, "list_page": view.page}), t.label(benefit))]})
    return items


def assignees_card(view: ListView, benefit: Benefit, assignees: Page[Assignment], t: Translator) -> Card:
    """A page of one benefit's current assignees (or of those a search finds), each removable where the
    list's rows are; the way back is the list's page it was opened from."""
    view = replace(view, max_lines=len(assignees.rows))
    unlocked = rules.reassign_unlocked_on(benefit)
    locked = unlocked is not None and view.today < unlocked
    body: list[dict[str, Any]] = [heading(t("benefits.assignees_title", benefit=t.label(benefit)))]
    body += search_lines(t, assignees) or [text(t("benefits.assignees_count", count=assignees.total), isSubtle=True)]
    body += _assignee_lines(view, benefit, list(assignees.rows), t,
                            removable=not locked and view.may("remove_assignment"))[1:]
    where = {"benefit_id": benefit.id, "list_page": view.page}
    line, buttons = pager(t, assignees, "assignees", t("paging.seats"), where)
    verb = LIST_VERBS[benefit.category]
    return card(body + line, [*buttons, *search_action(t, assignees, "assignees", t("paging.seats"), where),
                              leave(t("benefits.back_to_list"), verb, {"page": view.page}),
                              leave(t("nav.menu"), "help")])


def person_choices(directory: Iterable[Person], exclude: Iterable[str] = (),
                   limit: int = MAX_CHOICES) -> list[dict[str, str]]:
    skip = set(exclude)
    return [{"title": f"{p.name} ({p.email})" if p.email else p.name, "value": p.id}
            for p in directory if p.id not in skip][:limit]


def people_picker(input_id: str, t: Translator, directory: Iterable[Person],
                  exclude: Iterable[str] = (), limit: int = MAX_CHOICES) -> dict[str, Any]:
    """Static choices from our directory (they work offline) plus Teams' Graph people search."""
    return {"type": "Input.ChoiceSet", "id": input_id, "label": t("benefits.user"), "isRequired": True,
            "errorMessage": t("benefits.user_required"), "style": "compact", "placeholder": t("benefits.picker_hint"),
            "choices": person_choices(directory, exclude, limit),
            "choices.data": {"type": "Data.Query", "dataset": PEOPLE_DATASET}}


def _assignments_section(view: ListView, benefit: Benefit, assignments: list[Assignment],
                         t: Translator) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    technical = benefit.category is Category.TECHNICAL
    if technical:
        items.append(text(t("technical.assign_hint"), isSubtle=True))
    unlocked = rules.reassign_unlocked_on(benefit)
    locked = unlocked is not None and view.today < unlocked
    items.extend(_assignee_lines(view, benefit, assignments, t, removable=not locked and view.may("remove_assignment")))
    if locked:  # the rule said once, as it applies now
        items.append(text(t("vs.locked", date=unlocked, days=rules.VISUAL_STUDIO_REASSIGN_LOCK_DAYS),
                          weight="Bolder"))
    elif benefit.kind is BenefitKind.VISUAL_STUDIO:
        items.append(text(t("vs.reassign_hint", days=rules.VISUAL_STUDIO_REASSIGN_LOCK_DAYS), isSubtle=True))
    actions: list[dict[str, Any]] = []
    if len(assignments) < benefit.quantity and view.may("assign_user"):
        form = card(_assign_fields(view, benefit, assignments, t),
                    [_mutating(t("benefits.assign_user"), "assign_user", view, {"benefit_id": benefit.id}, benefit.id)])
        form.pop("msteams", None)
        form.pop("$schema", None)
        actions.append(named(t, {"type": "Action.ShowCard", "title": t("benefits.assign_user"), "card": form},
                             t.label(benefit)))
    elif not technical:
        items.append(text(t("benefits.all_assigned"), isSubtle=True))
    if benefit.kind is BenefitKind.VISUAL_STUDIO:
        items.append(text(t("vs.repeat"), isSubtle=True, size="Small"))
        actions.append(named(t, open_url(t("vs.open_portal"), benefit.portal_url or VISUAL_STUDIO_PORTAL),
                             t.label(benefit)))
    if actions:
        items.append({"type": "ActionSet", "actions": actions})
    return items


def _assign_fields(view: ListView, benefit: Benefit, assignments: list[Assignment], t: Translator,
                   values: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The assign form's inputs, with what was typed and, under a refused field, why."""
    values, errors = values or {}, errors or {}
    person_id, alternate_id = f"person-{benefit.id}", f"alternate-{benefit.id}"
    picker = people_picker(person_id, t, view.people.values(), (a.person_id for a in assignments), view.max_choices)
    fields: list[dict[str, Any]] = [text(t("benefits.select_user")), picker]
    if values.get(person_id):
        picker["value"] = values[person_id]
        if any(c["value"] == values[person_id] for c in picker["choices"]):
            # a known person is shown chosen by every client (a people search may start empty)
            picker.pop("choices.data")
    if errors.get(person_id):
        fields.append(text(errors[person_id], color="Attention", size="Small", spacing="None"))
    fields.append(text(t("benefits.not_in_list"), isSubtle=True, size="Small"))
    if rules.needs_alternate_email(benefit):
        alternate = {"type": "Input.Text", "id": alternate_id, "style": "Email",
                     "label": t("technical.alternate_email_label"), "isRequired": True, "regex": rules.EMAIL_PATTERN,
                     "errorMessage": t("technical.alternate_email_error", account=view.account_email),
                     "maxLength": 254}
        if values.get(alternate_id):
            alternate["value"] = values[alternate_id]
        fields += [text(t("technical.alternate_email")), alternate]
        if errors.get(alternate_id):
            fields.append(text(errors[alternate_id], color="Attention", size="Small", spacing="None"))
        fields += [text(t("technical.safeguard"), isSubtle=True, size="Small"),
                   text(t("technical.several_days"), isSubtle=True, size="Small")]
    return fields


def assign_form_card(view: ListView, benefit: Benefit, assignments: list[Assignment], t: Translator,
                     values: dict[str, str], errors: dict[str, str]) -> Card:
    """A refused assignment: the form again with everything typed, the reason under its field, the way back."""
    verb = LIST_VERBS[benefit.category]
    return card([heading(t("benefits.assign_title", benefit=t.label(benefit))),
                 *_assign_fields(view, benefit, assignments, t, values, errors)],
                [_mutating(t("benefits.assign_user"), "assign_user", view, {"benefit_id": benefit.id}, benefit.id),
                 leave(t("benefits.back_to_list"), verb, {"page": view.page})])


def _add_person_action(view: ListView, t: Translator) -> dict[str, Any]:
    """Seed: "If the user you want to assign is not in the list, you can add new users in Account settings"."""
    form = card([
        text(t("benefits.add_user_title"), weight="Bolder"),
        {"type": "Input.Text", "id": "new_person_name", "label": t("benefits.person_name"), "isRequired": True,
         "errorMessage": t("benefits.person_name_required"), "maxLength": 120},
        {"type": "Input.Text", "id": "new_person_email", "label": t("benefits.person_email"), "style": "Email",
         "isRequired": True, "regex": rules.EMAIL_PATTERN, "errorMessage": t("benefits.person_email_error"),
         "maxLength": 254},
    ], [_mutating(t("benefits.add_user_save"), "add_person", view, {"category": view.category.value}, "add")])
    form.pop("msteams", None)
    form.pop("$schema", None)
    return {"type": "Action.ShowCard", "title": t("benefits.add_user"), "card": form}
