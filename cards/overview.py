"""The admin's Benefits overview: the five categories with their allocations, and the packages.

Seed: "Benefit packages include allocations of licensed software, cloud services, Visual Studio
subscriptions, and support". One row per category: how many of its benefits are in each status
(``rules.benefit_status``, the one status model), then its allocation per unit (licences,
subscriptions, incidents, hours, services, offers are never added together), with the seats held
by people where the quantity counts seats. Its button opens the list.
"""

from __future__ import annotations

from typing import Any

from cards.base import Card, card, execute, heading, named, nav, subheading, text
from cards.benefit_list import LIST_VERBS
from domain.models import BenefitPackage, Status, Unit
from services.benefits import CategorySummary
from services.i18n import Translator


def statuses_line(row: CategorySummary, t: Translator) -> str:
    """``2 benefits · Active: 1 · Not activated: 1``."""
    parts = [t.plural("overview.benefits", row.benefits)]
    parts += [t("overview.status_count", status=t(f"status.{s.value}"), count=n) for s, n in row.statuses]
    return " · ".join(parts)


def units_line(row: CategorySummary, t: Translator) -> str:
    """``20 incidents · 50 hours · 1 service · 1 person assigned``; seats say who holds them."""
    parts = []
    for unit, quantity in row.units:
        part = t.plural(f"units.{unit.value}", quantity)
        if unit is Unit.SUBSCRIPTION and row.seats:
            part = t("overview.seats", allocation=part, assigned=row.seats_assigned, available=row.seats_available)
        parts.append(part)
    if row.people_assigned:
        parts.append(t.plural("overview.people_assigned", row.people_assigned))
    return " · ".join(parts)


def overview_card(summaries: list[CategorySummary], packages: list[BenefitPackage], t: Translator,
                  available: set[str] | None = None, notice: dict[str, Any] | None = None) -> Card:
    """``available``: registered verbs; a category whose list verb is missing gets no button."""
    body: list[dict[str, Any]] = []
    if notice is not None:
        body.append(notice)
    body += [heading(t("overview.title")), text(t("overview.intro"), isSubtle=True)]
    for row in summaries:
        verb = LIST_VERBS[row.category]
        right: list[dict[str, Any]] = []
        if available is None or verb in available:
            right = [{"type": "ActionSet", "actions": [named(t, execute(t("overview.open"), verb),
                                                               t(f"categories.{row.category.value}"))]}]
        body.append({
            "type": "ColumnSet", "id": f"category-{row.category.value}", "separator": True,
            "columns": [
                {"type": "Column", "width": "stretch", "items": [
                    text(t(f"categories.{row.category.value}"), weight="Bolder"),
                    text(statuses_line(row, t), isSubtle=True, spacing="None", size="Small"),
                    *([text(units_line(row, t), isSubtle=True, spacing="None", size="Small")] if row.units else []),
                ]},
                {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": right},
            ],
        })
    body.append(subheading(t("overview.packages")))
    if not packages:
        body.append(text(t("overview.no_packages"), isSubtle=True))
    for package in packages:
        name = t.pick(package, "name")
        program = t.pick(package, "source_program")
        if package.status is Status.CANCELLED:
            name = t("overview.cancelled_package", package=name)
        if package.expires_on is not None:
            line = t("overview.package_line", purchased=package.purchased_on, program=program,
                     expires=package.expires_on)
        else:
            line = t("overview.package_line_no_expiry", purchased=package.purchased_on, program=program)
        body.append({"type": "Container", "id": f"package-{package.id}", "items": [
            text(name, weight="Bolder"), text(line, isSubtle=True, spacing="None", size="Small")]})
    return card(body, nav(t))
