"""Export the Visual Studio subscription assignments as a CSV file (Global admins, 1:1 chat only).

The file names people and their email addresses, so it is offered only in the person's own chat
with the bot, through Teams' file consent (``bot.files``): nothing is uploaded until they accept,
and what is uploaded is made afresh then. A spreadsheet runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return) as a formula, and names and inventory text are chosen
by others, so such a cell is written with a leading apostrophe (the OWASP advice): it reads the
same and runs nothing.
"""

from __future__ import annotations

import csv
import io

from dialogs.actions import GLOBAL_ADMINS, ActionResult, FileResult, Menu, Phrases, action
from dialogs.payloads import NoData
from dialogs.turn import Turn
from domain.models import Category

#: first characters a spreadsheet reads as the start of a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: a UTF-8 byte order mark: spreadsheet programs then read the Chinese names as UTF-8
BOM = "\ufeff"


def safe_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it but never runs it."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([[safe_cell(cell) for cell in row] for row in rows])
    return (BOM + out.getvalue()).encode("utf-8")


def assignment_rows(turn: Turn) -> list[list[str]]:
    """One row per current Visual Studio assignment: subscription, person, email, status, dates."""
    t = turn.t
    rows = turn.service.list_benefits(turn.person, Category.VISUAL_STUDIO)
    people = {p.id: p for p in turn.service.repo.people_by_ids(a.person_id for _, held in rows for a in held)}
    out: list[list[str]] = [[t("export.column.subscription"), t("export.column.name"), t("export.column.email"),
            t("export.column.status"), t("export.column.assigned_on"), t("export.column.expires_on")]]
    for benefit, held in rows:
        for a in held:
            person = people.get(a.person_id)
            out.append([t.label(benefit), person.name if person else a.person_id, person.email if person else "",
                        t(f"status.{a.status.value}"), a.assigned_at.date().isoformat(),
                        a.expires_on.isoformat() if a.expires_on else ""])
    return out


@action("export_visual_studio", payload=NoData, roles=GLOBAL_ADMINS, personal_only=True, menu=Menu("export.menu", 65),
        phrases=Phrases(en_US=("export visual studio", "export vs", "export visual studio assignments"),
                        zh_CN=("导出 visual studio 订阅", "导出订阅分配"),
                        zh_TW=("匯出 visual studio 訂閱", "匯出訂閱指派"), hint="export.command"))
async def export_visual_studio(turn: Turn, _: NoData) -> ActionResult:
    rows = assignment_rows(turn)
    if len(rows) == 1:
        return ActionResult(None, (turn.t("export.nothing"),))
    name = f"visual-studio-assignments-{turn.service.today().isoformat()}.csv"
    description = turn.t("export.description", count=len(rows) - 1)
    return ActionResult(file=FileResult(name, csv_bytes(rows), str(description)))
