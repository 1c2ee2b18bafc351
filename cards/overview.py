"""The admin's Benefits overview: the five categories with their allocations, and the packages.

Seed: "Benefit packages include allocations of licensed software, cloud services, Visual Studio
subscriptions, and support". One row per category says how many benefits it holds, how many seats
are allocated, assigned and available, and how many wait for activation; its button opens the list.
"""

from __future__ import annotations

from typing import Any

from cards.base import Card, about, card, execute, heading, nav, subheading, text
from cards.benefit_list import LIST_VERBS
from domain.models import BenefitPackage, Status
from services.benefits import CategorySummary
from services.i18n import Translator


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
            right = [{"type": "ActionSet", "actions": [about(t, execute(t("overview.open"), verb),
                                                               t(f"categories.{row.category.value}"))]}]
        body.append({
            "type": "ColumnSet", "id": f"category-{row.category.value}", "separator": True,
            "columns": [
                {"type": "Column", "width": "stretch", "items": [
                    text(t(f"categories.{row.category.value}"), weight="Bolder"),
                    text(t("overview.row", benefits=row.benefits, allocated=row.allocated, assigned=row.assigned,
                           available=row.available, pending=row.pending), isSubtle=True, spacing="None",
                         size="Small"),
                ]},
                {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": right},
            ],
        })
    body.append(subheading(t("overview.packages")))
    if not packages:
        body.append(text(t("overview.no_packages"), isSubtle=True))
    for package in packages:
        name = package.name
        if package.status is Status.CANCELLED:
            name = t("overview.cancelled_package", package=package.name)
        if package.expires_on is not None:
            line = t("overview.package_line", purchased=package.purchased_on, program=package.source_program,
                     expires=package.expires_on)
        else:
            line = t("overview.package_line_no_expiry", purchased=package.purchased_on,
                     program=package.source_program)
        body.append({"type": "Container", "id": f"package-{package.id}", "items": [
            text(name, weight="Bolder"), text(line, isSubtle=True, spacing="None", size="Small")]})
    return card(body, nav(t))
