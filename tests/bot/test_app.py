"""Protocol tests: real activities over HTTP to the aiohttp app, replies read at a fake connector."""

from __future__ import annotations

import json

from aiohttp import ClientSession

from tests._common.harness import ALEX, LEE, BotClient, all_text, bot_settings, cards_in, start_bot, texts_in


async def test_health_and_readiness(bot: BotClient) -> None:
    async with bot.session.get(f"{bot.base}/healthz") as resp:
        assert resp.status == 200 and (await resp.json())["status"] == "up"
    async with bot.session.get(f"{bot.base}/readyz") as resp:
        body = await resp.json()
        assert resp.status == 200 and body["status"] == "ready"


async def test_install_greets_with_a_welcome_card(bot: BotClient) -> None:
    activity = bot.activity(ALEX, type="installationUpdate", action="add")
    status, _ = await bot.post(activity)
    assert status in (200, 201)
    cards = cards_in(bot.connector.wait_for(1))
    assert "Welcome, Alex Wilber" in all_text(cards[0])
    assert "Single sign-on is not configured" in all_text(cards[0])


async def test_help_shows_only_what_the_role_may_do(bot: BotClient) -> None:
    admin_card = cards_in(await bot.say(ALEX, "help"))[0]
    employee_card = cards_in(await bot.say(LEE, "help"))[0]
    assert "Global admin" in all_text(admin_card)
    assert "Employee" in all_text(employee_card)
    admin_verbs = json.dumps(admin_card)
    employee_verbs = json.dumps(employee_card)
    assert '"verb": "language"' in employee_verbs
    assert len(admin_verbs) >= len(employee_verbs)


async def test_language_switches_and_is_remembered(bot: BotClient) -> None:
    replies = await bot.say(LEE, "language zh-CN")
    assert "简体中文" in " ".join(texts_in(replies))
    help_card = cards_in(await bot.say(LEE, "帮助"))[0]
    assert "我能为你做什么" in all_text(help_card)
    replies = await bot.say(LEE, "語言 zh-TW")
    assert "繁體中文" in " ".join(texts_in(replies))
    assert "我能為您做什麼" in all_text(cards_in(await bot.say(LEE, "help"))[0])
    await bot.say(LEE, "language en-US")
    assert "What I can do for you" in all_text(cards_in(await bot.say(LEE, "help"))[0])


async def test_activity_locale_is_used_without_a_preference(bot: BotClient) -> None:
    bot.locale = "zh-TW"
    assert "我能為您做什麼" in all_text(cards_in(await bot.say(LEE, "help"))[0])


async def test_unknown_text_gets_a_suggestion(bot: BotClient) -> None:
    replies = await bot.say(LEE, "hepl")
    assert "Did you mean **help**" in texts_in(replies)[0]
    replies = await bot.say(LEE, "xyzzy plugh")
    assert "Type **help**" in texts_in(replies)[0]


async def test_adaptive_card_invoke_answers_200_with_a_card(bot: BotClient) -> None:
    status, body, _ = await bot.execute(ALEX, "set_language", {"locale": "zh-TW"})
    assert status == 200
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "選擇語言" in all_text(body["value"])


async def test_bad_bodies_are_400_not_500(bot: BotClient) -> None:
    async with bot.session.post(f"{bot.base}/api/messages", data=b"{not json",
                                headers={"Content-Type": "application/json"}) as resp:
        assert resp.status == 400
    async with bot.session.post(f"{bot.base}/api/messages", json={"text": "no type"}) as resp:
        assert resp.status == 400


async def test_data_survives_a_restart(connector, data_dir) -> None:
    runner, base = await start_bot(bot_settings(data_dir))
    async with ClientSession() as session:
        client = BotClient(base, connector, session)
        await client.say(LEE, "language zh-TW")
    await runner.cleanup()
    runner, base = await start_bot(bot_settings(data_dir))
    async with ClientSession() as session:
        client = BotClient(base, connector, session)
        assert "我能為您做什麼" in all_text(cards_in(await client.say(LEE, "help"))[0])
    await runner.cleanup()


async def test_conversation_references_are_recorded_on_install_and_message(connector, data_dir) -> None:
    from services.conversations import ConversationBook
    from services.storage import open_store

    runner, base = await start_bot(bot_settings(data_dir))
    async with ClientSession() as session:
        client = BotClient(base, connector, session)
        await client.post(client.activity(ALEX, type="installationUpdate", action="add"))
        await client.say(LEE, "help")
    await runner.cleanup()
    book = ConversationBook(open_store(data_dir / "benefits.json", {}))
    refs = book.all_references()
    alex, lee = refs["00000000-0000-0000-0000-0000000000a1"], refs["00000000-0000-0000-0000-0000000000a3"]
    assert alex["conversation"]["id"] == "a:personal-29:1-alex-wilber"
    assert lee["serviceUrl"] == connector.url and lee["user"]["id"] == "29:1-lee-gu"
    assert lee["conversation"]["id"] == "a:personal-29:1-lee-gu"


async def test_mentions_are_ignored_in_commands(bot: BotClient) -> None:
    card = cards_in(await bot.say(LEE, "<at>Partner Benefits</at> help"))[0]
    assert "What I can do for you" in all_text(card)


async def test_a_corrupt_file_is_kept_aside_and_reported_in_readyz(connector, data_dir) -> None:
    runner, base = await start_bot(bot_settings(data_dir))
    async with ClientSession() as session:
        await BotClient(base, connector, session).say(LEE, "language zh-TW")
    await runner.cleanup()
    from services.storage import open_store

    store = open_store(data_dir / "benefits.json", {})
    await store.compact()  # a second generation: the first stays as the fallback
    await store.close()
    snapshots = sorted(data_dir.glob("benefits.g*.json"))
    assert len(snapshots) == 2
    snapshots[-1].write_text('{"people": {"x": ')  # a torn, unreadable snapshot
    runner, base = await start_bot(bot_settings(data_dir))
    async with ClientSession() as session:
        async with session.get(f"{base}/readyz") as resp:
            body = await resp.json()
        assert resp.status == 200 and body["status"] == "degraded"
        assert any(s["quarantined"] for s in body["stores"])
        client = BotClient(base, connector, session)
        assert cards_in(await client.say(LEE, "help"))  # still serving
    await runner.cleanup()
    assert list(data_dir.glob("*.corrupt-*"))


async def test_joining_a_team_reads_its_whole_roster_into_the_directory(bot: BotClient) -> None:
    newcomers = {f"29:new-{n}": {"id": f"29:new-{n}", "name": f"New Person {n}", "aadObjectId": f"aad-new-{n}",
                                 "email": f"new{n}@contoso.com", "userPrincipalName": f"new{n}@contoso.com"}
                 for n in range(5)}
    bot.connector.members.update(newcomers)
    activity = bot.activity(ALEX, type="conversationUpdate", membersAdded=[{"id": "28:bot"}],
                            conversation_id="19:team-general")
    activity["conversation"]["conversationType"] = "channel"
    activity["channelData"]["team"] = {"id": "19:team-general"}
    status, _ = await bot.post(activity)
    assert status in (200, 201)
    people = {p.id: p for p in bot.service.repo.people()}
    assert {f"aad-new-{n}" for n in range(5)} <= set(people)  # five people over three pages
    assert people["aad-new-3"].email == "new3@contoso.com"
