"""Click like a person: each demo role walks every kind of card from the menu, in all three languages.

For each role the Playground is started *as* that person on a stack of its own (fresh data folder; the
Global admin's buttons are split between two walkers, each on a stack of its own), and the four roles
walk at once; the walk clicks every button of every kind of card reachable from the menu
in en-US, then switches language with the bot's own language card and reaches every kind again in zh-CN
and zh-TW (see ``tests/e2e/walk.py`` for what it checks, and how it puts back the data its own clicks
changed). A failure lists each finding with the role, language, card, button, what went wrong and the
screenshot; ``walk-<role>.json`` beside the screenshots keeps the findings and figures. Budgets: ``ROLES``
(en-US, per role), ``WALK_TWIN_SECONDS`` (each Chinese walk), ``WALK_CLICKS``, all scaled by
``WALK_SCALE``; what a budget leaves unclicked is listed as ``left_out``."""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.e2e.journey import _CLOSE_SOCKETS, _TRACK_SOCKETS, SCREENSHOTS
from tests.e2e.playground import Playground
from tests.e2e.stack import Stack
from tests.e2e.walk import _INIT, TOP_CARD, Finding, Team, Walk, WalkStats, switch_language

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

#: The demo roles, who plays them, the en-US walk's time budget (seconds; more cards, more time) and
#: how many walkers split the role's buttons between them, each on a stack of its own.
ROLES = [
    ("global-admin", "alexw@contoso.com", 240.0, 2),
    ("mpn-partner-admin", "meganb@contoso.com", 220.0, 1),
    ("user-admin", "isaiahl@contoso.com", 190.0, 1),
    ("employee", "leeg@contoso.com", 60.0, 1),
]
LANGUAGES = [("zh-CN", "简体中文"), ("zh-TW", "繁體中文")]
#: ``WALK_SCALE=2`` doubles every time budget (a slower machine, or a deeper look).
WALK_SCALE = float(os.environ.get("WALK_SCALE", "1"))
WALK_TWIN_SECONDS = float(os.environ.get("WALK_TWIN_SECONDS", "75"))
WALK_CLICKS = int(os.environ.get("WALK_CLICKS", "600"))
#: ``WALK_ROLES=employee,user-admin`` walks only those roles
WALK_ROLES = {r for r in os.environ.get("WALK_ROLES", "").split(",") if r}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


async def _only_loopback(route, request) -> None:  # noqa: ANN001 - playwright Route/Request
    """Nothing leaves the machine: the Playground's page asks a CDN for fonts."""
    if urlparse(request.url).hostname in LOOPBACK or request.url.startswith(("data:", "blob:")):
        await route.continue_()
    else:
        await route.abort()


@dataclass
class Seat:
    """One walker's stack (bot and Playground as the person), and its page in the browser."""

    stack: Stack
    pg: Playground | None = None
    context: Any = None
    page: Any = None

    async def open(self, browser) -> None:  # noqa: ANN001 - a playwright Browser
        self.pg = await Playground.connect(self.stack.playground_url)
        self.context = await browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
        await self.context.route("**/*", _only_loopback)
        self.page = page = await self.context.new_page()
        await page.add_init_script(_TRACK_SOCKETS)
        await page.add_init_script(_INIT)
        page.set_default_timeout(15000)
        # a busy machine takes long to start the Playground's UI; the walk's own steps are quick
        await page.goto(self.stack.browser_url, wait_until="commit", timeout=60000)
        await page.get_by_role("textbox").last.wait_for(timeout=90000)
        log_panel = page.get_by_role("button", name="Toggle Log Panel")
        if await log_panel.count():
            await log_panel.first.click()
        await page.locator(TOP_CARD).first.wait_for(timeout=60000)  # the welcome card

    async def close(self) -> None:
        try:
            if self.page is not None:
                await self.page.evaluate(_CLOSE_SOCKETS)
            if self.context is not None:
                await self.context.close()
            if self.pg is not None:
                await self.pg.close()
        finally:
            self.stack.stop()


def figures_of(walks: list[Walk], stats: list[WalkStats]) -> dict[str, object]:
    """A language's figures over the walkers that split it: sums, kinds seen by any, the longest time."""
    figures: dict[str, object] = {
        "seconds": round(max(s.seconds for s in stats), 1), "clicks": sum(s.clicks for s in stats),
        "kinds": len(set().union(*(w.kinds for w in walks))), "restores": sum(s.restores for s in stats),
        "same_as_clicked": sum(s.same_as_clicked for s in stats),
        "left_out": [item for s in stats for item in s.left_out]}
    if len(stats) > 1:
        figures["walkers"] = [{"folder": w.folder.name, "seconds": round(s.seconds, 1), "clicks": s.clicks,
                               "kinds": len(w.kinds),
                               "restores": s.restores, "taken_by_others": s.taken_by_others}
                              for w, s in zip(walks, stats, strict=True)]
    return figures


async def walk_role(browser, role: str, email: str, seconds: float, walkers: int,  # noqa: ANN001 - a Browser
                    workdir: Path) -> list[Finding]:
    """One role's walks (en-US, then zh-CN and zh-TW), its buttons split between ``walkers`` walkers, each
    on a stack of its own; writes ``walk-<role>.json``."""
    findings: list[Finding] = []
    figures: dict[str, object] = {}
    seats: list[Seat] = []
    folders = [f"walk-{role}" if n == 0 else f"walk-{role}-{n + 1}" for n in range(walkers)]
    try:
        for n in range(walkers):
            (workdir / str(n)).mkdir(parents=True, exist_ok=True)
            seats.append(Seat(Stack(workdir / str(n), person=email).start()))
        await asyncio.gather(*(seat.open(browser) for seat in seats))
        started = time.monotonic()
        teams = {locale: Team() for locale in ["en-US", *(locale for locale, _ in LANGUAGES)]}
        walks: dict[str, list[tuple[Walk, WalkStats]]] = {locale: [] for locale in teams}

        async def walker(n: int) -> None:
            """One walker's English walk, then at once its Chinese ones (the other walker may still be
            walking in English: its twins reach what this one's did not)."""
            seat, folder = seats[n], folders[n]
            english = Walk(seat.page, seat.pg, role, "en-US", SCREENSHOTS / f"{folder}-en-US", max_clicks=WALK_CLICKS,
                           max_seconds=seconds * WALK_SCALE, snapshots=seat.stack, team=teams["en-US"])
            walks["en-US"].append((english, await english.run()))
            for locale, choice in LANGUAGES:
                where = SCREENSHOTS / f"{folder}-{locale}"
                await switch_language(seat.page, seat.pg, choice, where)
                twin = Walk(seat.page, seat.pg, role, locale, where, twins=english.kinds,
                            english_clicked=teams["en-US"].clicked, max_clicks=WALK_CLICKS,
                            max_seconds=WALK_TWIN_SECONDS * WALK_SCALE, snapshots=seat.stack, team=teams[locale])
                walks[locale].append((twin, await twin.run()))

        try:
            await asyncio.gather(*(walker(n) for n in range(walkers)))
        finally:
            for locale, done in walks.items():
                findings += [f for w, _ in done for f in w.findings]
                if done:
                    figures[locale] = figures_of([w for w, _ in done], [st for _, st in done])
        figures["total_seconds"] = {"seconds": round(time.monotonic() - started, 1)}
    finally:
        try:
            await asyncio.gather(*(seat.close() for seat in seats))
        finally:
            report = SCREENSHOTS / f"walk-{role}.json"
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(json.dumps({"role": role, "person": email, "walkers": walkers, "figures": figures,
                                          "findings": [vars(f) for f in findings]}, ensure_ascii=False, indent=1))
    print(f"walk {role}: {json.dumps(figures, ensure_ascii=False)}")
    return findings


async def test_every_button_of_every_card(browser, tmp_path: Path) -> None:  # noqa: ANN001
    """The four roles walk at once, each on stacks of its own: a walk mostly waits for the page and
    the bot (it keeps well under one core busy), so they overlap; the Global admin, with twice the
    buttons of any other role, splits them between two walkers."""
    chosen = [r for r in ROLES if not WALK_ROLES or r[0] in WALK_ROLES]
    results = await asyncio.gather(*(walk_role(browser, *r, tmp_path / r[0]) for r in chosen),
                                   return_exceptions=True)
    problems = []
    for r, result in zip(chosen, results, strict=True):
        role, email = r[0], r[1]
        if isinstance(result, BaseException):
            problems.append(f"the walk as {role} ({email}) broke: {result!r}")
        elif result:
            problems.append(f"{len(result)} problems a person meets as {role} ({email}):\n" +
                            "\n".join(str(f) for f in result))
    assert not problems, "\n\n".join(problems)
