"""A turn's writes are durable before its HTTP answer, and the reply does not wait for the disk.

The chat's conversation reference is written while the turn builds and sends its reply; the
channel's request is answered only once that write is on disk (``bot.handler._settle``). Held here
with the journal's ``before_fsync`` hook, which runs in the writer thread before each durable append.
"""

from __future__ import annotations

import asyncio
import threading

from bot import keys
from tests._common.harness import ALEX, BotClient, cards_in


async def test_the_reply_goes_out_while_the_write_waits_and_the_answer_waits_for_it(bot: BotClient) -> None:
    await bot.say(ALEX, "help")  # Alex, known, in his usual chat: nothing to record any more
    store = bot.app[keys.DOMAIN_STORE]
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        entered.set()
        assert release.wait(10), "the test never released the write"

    store._writer._before_fsync = hold  # the journal writer of the running store
    before = len(bot.connector.sent)
    turn = asyncio.create_task(bot.say(ALEX, "overview", conversation_id="a:alex-second-chat"))
    try:
        assert await asyncio.to_thread(entered.wait, 10)  # the new chat's reference is being written
        for _ in range(200):  # the reply reaches the channel meanwhile...
            if len(bot.connector.sent) > before:
                break
            await asyncio.sleep(0.01)
        assert cards_in(bot.connector.sent[before:])
        await asyncio.sleep(0.2)
        assert not turn.done()  # ...but the channel's request is not answered before the write is durable
    finally:
        store._writer._before_fsync = None
        release.set()
    await turn
    conversations = bot.app[keys.BOT].conversations
    assert conversations.reference(ALEX["aadObjectId"])["conversation"]["id"] == "a:alex-second-chat"
    assert store.get("conversations", ALEX["aadObjectId"])["reference"]["conversation"]["id"] == "a:alex-second-chat"
