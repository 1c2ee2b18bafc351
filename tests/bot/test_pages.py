"""``/privacy`` and ``/terms``: the app package's default links are answered, in the reader's language."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from bot import keys
from bot.app import create_app
from bot.pages import add_routes
from bot.settings import Settings
from manifest.settings import ManifestSettings


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Any) -> Any:
    app = web.Application()
    app[keys.SETTINGS] = Settings.from_mapping({"BOT_NAME": "Contoso <b>Benefits</b>", "DATA_DIR": str(tmp_path)})
    add_routes(app)
    return await aiohttp_client(app)


async def test_the_package_default_links_are_routes_of_the_bot() -> None:
    package = ManifestSettings.from_mapping({"MicrosoftAppId": "11111111-2222-3333-4444-555555555555",
                                             "BOT_DOMAIN": "bot.contoso.example"})
    paths = {r.resource.canonical for r in create_app(Settings.from_mapping({})).router.routes()
             if r.method == "GET" and r.resource is not None}
    assert package.privacy_url == "https://bot.contoso.example/privacy" and "/privacy" in paths
    assert package.terms_url == "https://bot.contoso.example/terms" and "/terms" in paths


async def test_privacy_says_what_is_kept_how_long_and_who_sees_keys(client: Any) -> None:
    resp = await client.get("/privacy")
    assert resp.status == 200 and resp.headers["Content-Language"] == "en-US"
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    page = await resp.text()
    for words in ("What the bot keeps", "For how long", "Who can see product keys", "Global admin, User admin",
                  "1:1 chat", "audit trail"):
        assert words in page
    assert "<b>Benefits</b>" not in page and "Contoso &lt;b&gt;Benefits&lt;/b&gt;" in page
    assert "<script" not in page


@pytest.mark.parametrize(("headers", "query", "locale", "words"), [
    ({"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"}, "", "zh-TW", "誰能看到產品金鑰"),
    ({"Accept-Language": "fr-FR, zh-Hans;q=0.8"}, "", "zh-CN", "谁能看到产品密钥"),
    ({"Accept-Language": "zh-TW"}, "?lang=zh-CN", "zh-CN", "全局管理员"),
    ({"Accept-Language": "de-DE"}, "", "en-US", "Who can see product keys"),
])
async def test_the_page_speaks_the_readers_language(client: Any, headers: dict[str, str], query: str, locale: str,
                                                    words: str) -> None:
    resp = await client.get(f"/privacy{query}", headers=headers)
    page = await resp.text()
    assert resp.headers["Content-Language"] == locale and f'<html lang="{locale}">' in page and words in page


async def test_terms_name_todays_program(client: Any) -> None:
    page = await (await client.get("/terms?lang=en-US")).text()
    assert "Microsoft AI Cloud Partner Program" in page and "does not file them for you" in page
