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
#: How long opening the Playground may take (a cold UI on a busy machine); each later step has ``timeout``.
OPEN_TIMEOUT_MS = 90_000
#: how long a page waits for its greeting once an earlier page was greeted, before it reloads
WARM_GREETING_MS = 20_000
#: Runs before the Playground's scripts: remember every WebSocket the page opens.
_TRACK_SOCKETS = """(() => {
    const Native = window.WebSocket;
    window.__sockets = [];
    window.WebSocket = class extends Native {
        constructor(...args) { super(...args); window.__sockets.push(this); }
    };
})()"""
#: Close them all and resolve once each has closed (the server answered the close), at most 3 s.
_CLOSE_SOCKETS = """() => Promise.race([
    Promise.all((window.__sockets || []).filter(s => s.readyState !== 3).map(s => new Promise(done => {
        s.addEventListener("close", done);
        s.close();
    }))),
    new Promise(done => setTimeout(done, 3000)),
])"""


class Tab:
    """One browser tab the journeys of a session take turns in: each journey loads it again (a fresh
    chat), as a person reloads the Playground; a new page would load and compile the Playground's
    scripts again, a few seconds each time."""

    def __init__(self) -> None:
        self.page: Page | None = None
        self.url = ""

    async def close(self) -> None:
        """Leave cleanly (see :meth:`Journey.close`)."""
        if self.page is not None:
            page, self.page = self.page, None
            await page.evaluate(_CLOSE_SOCKETS)
            await page.context.close()


class Journey:
    """One person's visit to the bot in the Playground (a fresh page)."""

    #: a page of this session has been greeted: the Playground's UI and the bot are warm
    warm = False

    def __init__(self, browser: Browser, url: str, name: str, timeout: float = 15.0,
                 tab: Tab | None = None) -> None:
        self.browser = browser
        self.tab = tab
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
        """Open the Playground: it installs the app in the personal chat and the bot greets. The first
        page of a session waits longer: the Playground's UI and the bot's first turn start cold."""
        if self.tab is not None and self.tab.page is not None and self.tab.url == self.url:
            # the tab of the journey before: loaded again, it shows a fresh chat, as a new page would
            self.page = self.tab.page
            self.page.set_default_timeout(self.timeout_ms)
            await self.page.reload(timeout=OPEN_TIMEOUT_MS)
            self._cards_before, self._paragraphs_before = [], []  # what the page shows now is all new
        else:
            context = await self.browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-US")
            self.page = await context.new_page()
            await self.page.add_init_script(_TRACK_SOCKETS)
            self.page.set_default_timeout(self.timeout_ms)
            await self._mark()
            await self.page.goto(self.url, timeout=OPEN_TIMEOUT_MS)
            if self.tab is not None:
                await self.tab.close()
                self.tab.page, self.tab.url = self.page, self.url
        await self.composer.wait_for(timeout=OPEN_TIMEOUT_MS)
        close_log = self.page.get_by_role("button", name="Toggle Log Panel")
        if await close_log.count():
            await close_log.first.click()
        try:
            # a later page's greeting comes in a second or two; waiting the cold start's time for one
            # that was lost only delays the reload a person would do
            await self.expect_card(welcome, step="open",
                                   timeout_ms=WARM_GREETING_MS if Journey.warm else OPEN_TIMEOUT_MS / 2)
        except AssertionError:
            # the greeting can be lost when it is sent while an earlier page's socket is still closing
            # (the Playground's connector then fails that send): a person reloads the page
            await self._mark()
            await self.page.reload(timeout=OPEN_TIMEOUT_MS)
            await self.composer.wait_for(timeout=OPEN_TIMEOUT_MS)
            await self.expect_card(welcome, step="open again", timeout_ms=OPEN_TIMEOUT_MS / 2)
        Journey.warm = True

    async def close(self) -> None:
        """Leave the page cleanly: the Playground pushes every bot message to each open UI socket, and a
        socket still closing when the context is torn down makes its connector fail the bot's next send
        (``WebSocket is not open: readyState 2``). So the page closes its sockets and waits for the
        server's side of the close handshake before the context goes."""
        if self.page is None or self.tab is not None:
            return  # the tab stays open for the next journey (see :class:`Tab`)
        await self.page.evaluate(_CLOSE_SOCKETS)
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

    def _scope(self, row: str | None):  # noqa: ANN202 - a playwright Locator
        """The latest card, or within it the smallest block that shows ``row`` (a list row, a form)."""
        if row is None:
            return self.p.locator(CARDS)
        return self.p.locator(CARDS).last.locator("div").filter(has_text=row)

    async def click(self, name: str | re.Pattern[str], row: str | None = None) -> None:
        """Click the card button named ``name`` (the latest card that has one; a pattern matches a row's
        button by the row it names), or the one in the row of the latest card that shows ``row``."""
        await self._mark()
        buttons = self._scope(row).get_by_role("button", name=name, exact=True)
        if row is not None:  # the innermost block showing the row text that has this button
            buttons = self._scope(row).filter(has=self.p.get_by_role("button", name=name, exact=True)).last \
                .get_by_role("button", name=name, exact=True)
        await buttons.last.click()

    async def fill(self, label: str, value: str, row: str | None = None) -> None:
        """Fill the card input labelled ``label`` (the latest one)."""
        await self._scope(row).get_by_label(_label(label)).last.fill(value)

    async def choose(self, label: str, option: str) -> None:
        """Pick ``option`` in the card choice set labelled ``label``."""
        await self.p.locator(CARDS).get_by_label(_label(label)).last.select_option(label=option)

    async def pick(self, person: str, typed: str | None = None) -> None:
        """Choose a person in the Teams people picker of the latest form: type, then click the suggestion."""
        box = self.p.locator(CARDS).get_by_role("combobox", name="People Picker").last
        await box.click()
        await box.press_sequentially(typed or person.split()[0])
        await self.p.get_by_role("option").filter(has_text=person).first.click()

    # --- checks ----------------------------------------------------------------------------------
    async def expect_card(self, text: str, step: str | None = None, timeout_ms: float | None = None) -> None:
        """A card that appeared or changed since the latest action contains ``text``."""
        await self._wait_changed(CARDS, text, self._cards_before, "card", timeout_ms)
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

    async def _wait_changed(self, selector: str, text: str, before: list[str], what: str,
                            timeout_ms: float | None = None) -> None:
        """Poll in the page until an element at an index that is new, or whose text changed, has ``text``."""
        script = """([selector, text, before]) => {
            const now = [...document.querySelectorAll(selector)].map(e => e.innerText);
            return now.some((t, i) => t.includes(text) && (i >= before.length || before[i] !== t));
        }"""
        try:
            await self.p.wait_for_function(script, arg=[selector, text, before],
                                           timeout=timeout_ms or self.timeout_ms)
        except PlaywrightTimeout:
            await self.screenshot(f"FAILED {what} {text}")
            shown = await self.p.locator(selector).all_inner_texts()
            raise AssertionError(f"no {what} with {text!r} appeared; the page shows: {shown[-5:]}") from None


def _label(text: str) -> re.Pattern[str]:
    """An input's label exactly, with or without the " *" a required input shows after it."""
    return re.compile(rf"^\s*{re.escape(text)}\s*\*?\s*$")
