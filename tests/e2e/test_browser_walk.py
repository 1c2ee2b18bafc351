"""Click like a person: each demo role walks every kind of card from the menu, in all three languages.

For each role the Playground is started *as* that person on a stack of its own (fresh data folder), and
the four roles walk at once; the walk clicks every button of every kind of card reachable from the menu
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
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.e2e.journey import _CLOSE_SOCKETS, _TRACK_SOCKETS, SCREENSHOTS
from tests.e2e.playground import Playground
from tests.e2e.stack import Stack
from tests.e2e.walk import _INIT, TOP_CARD, Finding, Walk, switch_language

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

#: The demo roles and who plays them (``examples``' directory of Contoso).
#: The demo roles, who plays them, and the en-US walk's time budget (seconds; more cards, more time).
ROLES = [
    ("global-admin", "alexw@contoso.com", 240.0),
    ("mpn-partner-admin", "meganb@contoso.com", 200.0),
    ("user-admin", "isaiahl@contoso.com", 160.0),
    ("employee", "leeg@contoso.com", 60.0),
]
LANGUAGES = [("zh-CN", "简体中文"), ("zh-TW", "繁體中文")]
#: ``WALK_SCALE=2`` doubles every time budget (a slower machine, or a deeper look).
WALK_SCALE = float(os.environ.get("WALK_SCALE", "1"))
WALK_TWIN_SECONDS = float(os.environ.get("WALK_TWIN_SECONDS", "60"))
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


async def walk_role(browser, role: str, email: str, seconds: float,  # noqa: ANN001 - a playwright Browser
                    workdir: Path) -> list[Finding]:
    """One role's walks (en-US, then zh-CN and zh-TW) on a stack of its own; writes ``walk-<role>.json``."""
    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack(workdir, person=email).start()
    findings: list[Finding] = []
    figures: dict[str, dict[str, object]] = {}
    page = pg = context = None
    try:
        pg = await Playground.connect(stack.playground_url)
        context = await browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
        await context.route("**/*", _only_loopback)
        page = await context.new_page()
        await page.add_init_script(_TRACK_SOCKETS)
        await page.add_init_script(_INIT)
        page.set_default_timeout(15000)
        # a busy machine takes long to start the Playground's UI; the walk's own steps are quick
        await page.goto(stack.browser_url, wait_until="commit", timeout=60000)
        await page.get_by_role("textbox").last.wait_for(timeout=90000)
        log_panel = page.get_by_role("button", name="Toggle Log Panel")
        if await log_panel.count():
            await log_panel.first.click()
        await page.locator(TOP_CARD).first.wait_for(timeout=60000)  # the welcome card

        started = time.monotonic()
        english = Walk(page, pg, role, "en-US", SCREENSHOTS / f"walk-{role}-en-US",
                       max_clicks=WALK_CLICKS, max_seconds=seconds * WALK_SCALE, snapshots=stack)
        stats = await english.run()
        findings += english.findings
        figures["en-US"] = {"seconds": round(stats.seconds, 1), "clicks": stats.clicks, "kinds": stats.kinds,
                            "restores": stats.restores, "same_as_clicked": stats.same_as_clicked,
                            "left_out": stats.left_out}
        for locale, choice in LANGUAGES:
            folder = SCREENSHOTS / f"walk-{role}-{locale}"
            await switch_language(page, pg, choice, folder)
            twin = Walk(page, pg, role, locale, folder, twins=english.kinds, english_clicked=english.clicked,
                        max_clicks=WALK_CLICKS, max_seconds=WALK_TWIN_SECONDS * WALK_SCALE, snapshots=stack)
            stats = await twin.run()
            findings += twin.findings
            figures[locale] = {"seconds": round(stats.seconds, 1), "clicks": stats.clicks, "kinds": stats.kinds,
                               "restores": stats.restores, "same_as_clicked": stats.same_as_clicked,
                               "left_out": stats.left_out}
        figures["total_seconds"] = {"seconds": round(time.monotonic() - started, 1)}
    finally:
        try:
            if page is not None:
                await page.evaluate(_CLOSE_SOCKETS)
            if context is not None:
                await context.close()
            if pg is not None:
                await pg.close()
        finally:
            stack.stop()
        report = SCREENSHOTS / f"walk-{role}.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps({"role": role, "person": email, "figures": figures,
                                      "findings": [vars(f) for f in findings]}, ensure_ascii=False, indent=1))
    print(f"walk {role}: {json.dumps(figures, ensure_ascii=False)}")
    return findings


async def test_every_button_of_every_card(browser, tmp_path: Path) -> None:  # noqa: ANN001
    """The four roles walk at once, each on a stack of its own: a walk mostly waits for the page and
    the bot (it keeps well under one core busy), so the four overlap."""
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
