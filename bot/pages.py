"""``/privacy`` and ``/terms``: the pages the Teams app package links to, served by the bot itself.

Teams shows the package's privacy and terms links in the app's details; by default they point at the
bot's own host, so the bot answers them, in the reader's language (``?lang=`` or ``Accept-Language``),
as plain HTML with no script and nothing loaded from elsewhere.
"""

from __future__ import annotations

import html

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.keys import SETTINGS
from domain.models import Role
from services.i18n import DEFAULT_LOCALE, LOCALES, Translator, normalize_locale

ADMIN_ROLES_SHOWN = (Role.GLOBAL_ADMIN, Role.USER_ADMIN, Role.ADMIN_AGENT, Role.MPN_PARTNER_ADMIN)
LANGUAGE_NAMES = {"en-US": "English", "zh-CN": "简体中文", "zh-TW": "繁體中文"}
_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"}


def reader_locale(request: web.Request) -> str:
    """``?lang=`` first, then the first supported language of ``Accept-Language``, then en-US."""
    chosen = normalize_locale(request.query.get("lang", "")[:20])
    if chosen:
        return chosen
    for part in request.headers.get("Accept-Language", "")[:500].split(","):
        found = normalize_locale(part.split(";")[0].strip())
        if found:
            return found
    return DEFAULT_LOCALE


def render(page: str, locale: str, bot_name: str) -> str:
    """The page's HTML; every text is escaped."""
    t = Translator(locale)
    e = html.escape
    roles = ("、" if locale != "en-US" else ", ").join(t(f"roles.{r.value}") for r in ADMIN_ROLES_SHOWN)
    if page == "privacy":
        title = t("legal.privacy_title")
        sections = [(None, t("legal.privacy_intro"))] + [
            (t(f"legal.privacy_{name}_heading"), t(f"legal.privacy_{name}", roles=roles) if name == "keys"
             else t(f"legal.privacy_{name}"))
            for name in ("kept", "how_long", "keys", "microsoft")
        ] + [(None, t("legal.privacy_contact"))]
    else:
        title = t("legal.terms_title")
        sections = [(None, t("legal.terms_body"))]
    body = "".join((f"<h2>{e(h)}</h2>" if h else "") + f"<p>{e(text)}</p>" for h, text in sections)
    others = " · ".join(f'<a href="?lang={code}" hreflang="{code}">{e(LANGUAGE_NAMES[code])}</a>'
                        for code in LOCALES if code != locale)
    return (f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(bot_name)}: {e(title)}</title>"
            f"<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;"
            f"line-height:1.5}}</style></head><body><h1>{e(bot_name)}: {e(title)}</h1>{body}"
            f"<p>{e(t('legal.other_languages'))}: {others}</p></body></html>")


def _page(name: str) -> Handler:
    async def serve(request: web.Request) -> web.Response:
        settings = request.app[SETTINGS] if SETTINGS in request.app else None
        bot_name = (settings.extra.get("BOT_NAME", "") if settings else "").strip()[:30] or "Partner Benefits"
        locale = reader_locale(request)
        return web.Response(text=render(name, locale, bot_name), content_type="text/html", charset="utf-8",
                            headers={**_HEADERS, "Content-Language": locale})

    return serve


def add_routes(app: web.Application) -> None:
    app.router.add_get("/privacy", _page("privacy"))
    app.router.add_get("/terms", _page("terms"))

