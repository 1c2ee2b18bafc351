"""The overview card memo (``bot.sdk.card_memo``): the same card as a fresh build, a new card as soon as
the data changes, and copies that no caller can use to change what others get."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from bot.sdk.card_memo import CardMemo
from cards.overview import overview_card
from dialogs.registry import Workflows
from services.i18n import Translator, load_catalogs
from tests._common.harness import ALEX, LEE, App, all_text, cards_in

ALEX_ID = ALEX["aadObjectId"]
LEE_ID = LEE["aadObjectId"]


def _row(card: dict[str, Any], category: str) -> str:
    return next(all_text(c) for c in card["body"] if c.get("id") == f"category-{category}")


async def test_overview_card_follows_every_change(app: App) -> None:
    first = cards_in(await app.client.say(ALEX, "overview"))[0]
    again = cards_in(await app.client.say(ALEX, "overview"))[0]
    assert again == first
    assert "0 assigned" in _row(first, "visual_studio")
    await app.service.assign(app.service.repo.person(ALEX_ID), "vs-enterprise", LEE_ID)
    after = cards_in(await app.client.say(ALEX, "overview"))[0]
    assert "1 assigned" in _row(after, "visual_studio")
    chinese = cards_in(await app.client.say(ALEX, "overview", locale="zh-CN"))[0]
    traditional = cards_in(await app.client.say(ALEX, "overview", locale="zh-TW"))[0]
    assert "权益概览" in all_text(chinese) and "權益概覽" in all_text(traditional)
    assert "Benefits overview" in all_text(after) and "Benefits overview" not in all_text(chinese)


VERBS = frozenset(Workflows.load())

async def test_memoized_card_is_the_fresh_card(app: App) -> None:
    service = app.service
    admin = service.repo.person(ALEX_ID)
    assert admin is not None
    for locale in ("en-US", "zh-CN", "zh-TW"):
        t = Translator(locale)
        fresh = overview_card(service.overview(admin), service.repo.packages(), t, set(VERBS))
        memo = CardMemo()
        key = (tuple(service.overview(admin)), tuple(service.repo.packages()), frozenset(VERBS))

        def build(t: Translator = t) -> dict[str, Any]:
            return overview_card(service.overview(admin), service.repo.packages(), t, set(VERBS))

        assert memo.get(t, key, build) == fresh
        assert json.dumps(memo.get(t, key, build)) == json.dumps(fresh)
        assert (memo.hits, memo.misses) == (1, 1)


def test_no_caller_can_change_the_card_others_get() -> None:
    memo = CardMemo()
    t = Translator("en-US")
    payload = {"action": "x"}
    built = {"body": [{"type": "TextBlock", "text": "a"}],
             "actions": [{"data": payload, "fallback": {"data": payload}}]}
    first = memo.get(t, ("k",), lambda: built)
    first["body"][0]["text"] = "changed"  # the first caller's card is its own: the memo kept a frozen twin
    first["actions"][0]["data"]["action"] = "changed"
    second = memo.get(t, ("k",), lambda: pytest.fail("built twice"))
    assert second["body"][0]["text"] == "a" and second["actions"][0]["data"] == {"action": "x"}
    changes = [lambda: second["body"].append("more"), lambda: second.update(x=1),
               lambda: second["actions"][0]["data"].__setitem__("action", "y"),
               lambda: second["body"][0].pop("text"), lambda: second["body"].sort(), lambda: second.clear()]
    for change in changes:
        with pytest.raises(TypeError, match="shared"):
            change()
    mine = copy.deepcopy(second)
    mine["body"].append("more")
    mine["actions"][0]["data"]["action"] = "y"
    assert type(mine) is dict and type(mine["body"]) is list and type(mine["body"][0]) is dict
    assert memo.get(t, ("k",), lambda: pytest.fail("built twice")) == {
        "body": [{"type": "TextBlock", "text": "a"}], "actions": [{"data": {"action": "x"},
                                                                   "fallback": {"data": {"action": "x"}}}]}
    assert memo.get(t, ("k",), lambda: pytest.fail("built twice")) is second


def test_other_catalogs_get_their_own_cards_and_unhashable_keys_bypass_the_memo() -> None:
    """A translator over other catalogs (other wording) never gets a card made from the shipped ones."""
    memo = CardMemo()
    builds: list[int] = []

    def build() -> dict[str, Any]:
        builds.append(1)
        return {"n": len(builds)}

    shipped = Translator("en-US")
    custom = Translator("en-US", {k: dict(v) for k, v in load_catalogs().items()})
    assert memo.get(shipped, ("k",), build) == {"n": 1}
    assert memo.get(custom, ("k",), build) == {"n": 2}
    assert memo.get(custom, ("k",), build) == {"n": 2}
    assert memo.get(shipped, ("k",), build) == {"n": 1}
    assert memo.get(Translator("en-US"), ([1],), build) == {"n": 3}
    assert memo.get(Translator("en-US"), ([1],), build) == {"n": 4}


def test_memo_is_bounded() -> None:
    memo = CardMemo(size=2)
    t = Translator("en-US")
    for i in range(5):
        memo.get(t, (i,), lambda i=i: {"i": i})
    assert len(memo._cards) == 2
    assert CardMemo().size >= 2


def test_memo_gives_back_the_same_values_and_types() -> None:
    memo = CardMemo()
    t = Translator("zh-TW")
    value = {"a": [1, "權益 \u2028 x", None, 1.5, True, 10**20, {"b": []}], "c": {}}
    assert memo.get(t, ("v",), lambda: value) is value  # the first caller gets the card it built
    again = memo.get(t, ("v",), lambda: pytest.fail("built twice"))
    assert again == value and again is not value and again["a"] is not value["a"]
    assert json.loads(again.text) == value and json.dumps(again) == json.dumps(value)
    assert [type(x) for x in again["a"][:-1]] == [type(x) for x in value["a"][:-1]]
    assert isinstance(again["a"][-1], dict) and isinstance(again["a"], list)


def test_cards_that_json_would_change_are_not_memoized() -> None:
    memo = CardMemo()
    t = Translator("en-US")
    for odd in ({"t": (1, 2)}, {1: "x"}, {"n": float("nan")}):
        builds: list[int] = []
        for _ in range(2):
            memo.get(t, (repr(odd),), lambda odd=odd, builds=builds: builds.append(1) or odd)
        assert len(builds) == 2


async def test_memoized_cards_leave_the_bot_as_json_on_every_path(app: App) -> None:
    """Sent to the connector, answered to a click and buffered for ``expectReplies``: the shared card is
    the same JSON object each time (msrest, which the SDK uses for buffered replies, would write a
    dict subclass as its ``str()``)."""
    sent = [cards_in(await app.client.say(ALEX, "overview"))[0] for _ in range(2)]
    status, body, _ = await app.client.execute(ALEX, "overview")
    clicked = [body["value"]]
    status2, body2, _ = await app.client.execute(ALEX, "overview")
    clicked.append(body2["value"])
    buffered = []
    for _ in range(2):
        code, replies = await app.client.post(app.client.activity(ALEX, text="overview", deliveryMode="expectReplies"))
        assert code == 200
        buffered.append(cards_in(replies["activities"])[0])
    assert status == status2 == 200
    assert all(card == sent[0] and isinstance(card, dict) for card in sent + clicked + buffered)
    assert "Benefits overview" in all_text(buffered[1])


def test_a_key_of_the_very_same_objects_finds_the_last_card_without_hashing_them() -> None:
    class Counted:
        hashed = 0

        def __init__(self, value: int) -> None:
            self.value = value

        def __hash__(self) -> int:
            Counted.hashed += 1
            return hash(self.value)

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Counted) and other.value == self.value

    memo = CardMemo()
    t = Translator("en-US")
    rows = [Counted(1), Counted(2)]
    memo.get(t, (tuple(rows), "verbs"), lambda: {"n": 1})
    first = memo.get(t, (tuple(rows), "verbs"), lambda: pytest.fail("built twice"))
    hashed = Counted.hashed
    assert memo.get(t, (tuple(rows), "verbs"), lambda: pytest.fail("built twice")) is first
    assert Counted.hashed == hashed  # a new tuple of the same rows: no hash of the rows
    changed = [Counted(1), Counted(3)]  # the data changed: other objects, another card
    assert memo.get(t, (tuple(changed), "verbs"), lambda: {"n": 2}) == {"n": 2}
    assert memo.get(t, (tuple(rows), "other verbs"), lambda: {"n": 3}) == {"n": 3}
    assert memo.get(Translator("zh-TW"), (tuple(rows), "verbs"), lambda: {"n": 4}) == {"n": 4}
    equal = [Counted(1), Counted(2)]  # equal values in other objects: found by hashing, the same card
    assert memo.get(t, (tuple(equal), "verbs"), lambda: pytest.fail("built twice")) == first
    memo.clear()
    assert memo.get(t, (tuple(rows), "verbs"), lambda: {"n": 5}) == {"n": 5}
