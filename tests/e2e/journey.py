"""Journeys in a real browser: headless Debian Chromium on the Agents Playground's Teams UI.

A journey reads as what a person does; every check saves a numbered screenshot under
``tests/e2e/screenshots/<journey>/``::

    async def test_help(journey):
        await journey.open()                       # page loads, the app is installed: welcome card
        await journey.click("Show menu")
        await journey.expect_card("What I can do for you")

``expect_card``/``expect_text`` look only at what changed after the latest action (a new card, or a
card updated in place by ``Action.Execute``), so earlier messages never satisfy a check.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CARDS = ".ac-adaptiveCard"


class Journey:
    """One person's visit to the bot in the Playground (a fresh page)."""

    def __init__(self, browser: Browser, url: str, name: str, timeout: float = 15.0) -> None:
        self.browser = browser
        self.url = url
        self.name = re.sub(r"[^\w.-]+", "_", name)
        self.timeout_ms = timeout * 1000
        self.page: Page | None = None
        self.step = 0
        self._cards_before: list[str] = []
        self._paragraphs_before: list[str] = []
        self.folder = SCREENSHOTS / self.name
        if self.folder.exists():
            for old in self.folder.glob("*.png"):
                old.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)

    # --- actions ---------------------------------------------------------------------------------
    async def open(self, welcome: str = "Welcome, ") -> None:
        """Open the Playground: it installs the app in the personal chat and the bot greets."""
        context = await self.browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
        self.page = await context.new_page()
        self.page.set_default_timeout(self.timeout_ms)
        await self._mark()
        await self.page.goto(self.url)
        await self.composer.wait_for()
        close_log = self.page.get_by_role("button", name="Toggle Log Panel")
        if await close_log.count():
            await close_log.first.click()
        await self.expect_card(welcome, step="open")

    async def close(self) -> None:
        if self.page is not None:
            await self.page.context.close()

    @property
    def p(self) -> Page:
        assert self.page is not None, "call journey.open() first"
        return self.page

    @property
    def composer(self):  # noqa: ANN201 - a playwright Locator
        return self.p.get_by_role("textbox").last

    async def say(self, text: str) -> None:
        """Type a message and press Enter."""
        await self._mark()
        await self.composer.fill(text)
        await self.composer.press("Enter")

    async def click(self, name: str) -> None:
        """Click the card button named ``name`` (the latest card that has one)."""
        await self._mark()
        button = self.p.locator(CARDS).get_by_role("button", name=name, exact=True).last
        await button.click()

    async def fill(self, label: str, value: str) -> None:
        """Fill the card input labelled ``label`` (the latest one)."""
        await self.p.locator(CARDS).get_by_label(label).last.fill(value)

    async def choose(self, label: str, option: str) -> None:
        """Pick ``option`` in the card choice set labelled ``label``."""
        await self.p.locator(CARDS).get_by_label(label).last.select_option(label=option)

    # --- checks ----------------------------------------------------------------------------------
    async def expect_card(self, text: str, step: str | None = None) -> None:
        """A card that appeared or changed since the latest action contains ``text``."""
        await self._wait_changed(CARDS, text, self._cards_before, "card")
        await self.screenshot(step or f"card {text}")

    async def expect_text(self, text: str, step: str | None = None) -> None:
        """A bot text message (or card paragraph) that appeared since the latest action contains ``text``."""
        await self._wait_changed("p", text, self._paragraphs_before, "message")
        await self.screenshot(step or f"text {text}")

    async def screenshot(self, step: str) -> Path:
        self.step += 1
        safe = re.sub(r"[^\w.-]+", "_", step)[:40]
        path = self.folder / f"{self.step:02d}-{safe}.png"
        await self.p.screenshot(path=str(path))
        return path

    # --- internals -------------------------------------------------------------------------------
    async def _mark(self) -> None:
        if self.page is None:
            return
        self._cards_before = await self.p.locator(CARDS).all_inner_texts()
        self._paragraphs_before = await self.p.locator("p").all_inner_texts()

    async def _wait_changed(self, selector: str, text: str, before: list[str], what: str) -> None:
        """Poll in the page until an element at an index that is new, or whose text changed, has ``text``."""
        script = """([selector, text, before]) => {
            const now = [...document.querySelectorAll(selector)].map(e => e.innerText);
            return now.some((t, i) => t.includes(text) && (i >= before.length || before[i] !== t));
        }"""
        try:
            await self.p.wait_for_function(script, arg=[selector, text, before], timeout=self.timeout_ms)
        except PlaywrightTimeout:
            await self.screenshot(f"FAILED {what} {text}")
            shown = await self.p.locator(selector).all_inner_texts()
            raise AssertionError(f"no {what} with {text!r} appeared; the page shows: {shown[-5:]}") from None
