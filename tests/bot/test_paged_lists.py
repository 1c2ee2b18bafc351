"""Long lists over HTTP: every card that lists people, seats, changes, requests, undelivered
notifications or holdings stays far below what Teams accepts with 1,000 or 10,000 people, shows a
page at a time, and the directory is searched by name or email, in English and in Chinese.

Real activities to the app on loopback; the crowd (``tests/_common/crowd.py``) is written to the
store the bot serves from, beside the demo organization.
"""

from __future__ import annotations

from typing import Any

import pytest

from cards.paging import PAGE_SIZE
from cards.text import json_size
from dialogs.registry import Workflows
from domain.models import Person
from services.collation import sort_key
from services.repository import fold
from tests._common.card_rules import associated_inputs, same_named_actions, verb_and_data
from tests._common.card_validation import MAX_CARD_BYTES, assert_valid_cards
from tests._common.crowd import benefit_id, crowd_ops, crowd_person, person_id
from tests._common.harness import ALEX, LEE, BotClient, all_text

#: Far under Teams' limit: a page must not creep up to it as rows get longer.
BUDGET = MAX_CARD_BYTES * 3 // 4


async def add_crowd(bot: BotClient, n: int) -> None:
    service = bot.service
    for batch in crowd_ops(n, service.today(), ALEX["aadObjectId"]):
        await service.store.apply(batch)


def card_of(result: tuple[int, Any, list[dict[str, Any]]]) -> dict[str, Any]:
    status, body, _ = result
    assert status == 200
    return body["value"]


WORKFLOWS = Workflows.load()


def buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every button of the card (ShowCards' included) by its title."""
    return {a["title"]: a for a, _ in associated_inputs(card) if a.get("title")}


async def click(bot: BotClient, user: dict[str, Any], card: dict[str, Any], title: str,
                typed: dict[str, str] | None = None) -> dict[str, Any]:
    """Press the button titled ``title`` as the renderer would: its data, and what was typed into the
    inputs it sends."""
    verb, data = verb_and_data(buttons(card)[title])
    sent = {k: v for k, v in (typed or {}).items() if k in WORKFLOWS.inputs_read(verb, data)}
    return card_of(await bot.execute(user, verb, {**{k: v for k, v in data.items() if k != "action"}, **sent}))


def shown_people(card: dict[str, Any], n: int) -> list[str]:
    """The crowd names a users card shows, in its order."""
    names = {crowd_person(i).name: i for i in range(n)}
    found = []
    for element in card["body"]:
        if element.get("type") == "ColumnSet":
            first = element["columns"][0]["items"][0]["text"]
            if first.replace("\\", "") in names:
                found.append(first.replace("\\", ""))
    return found


@pytest.mark.parametrize("n", [1_000, 10_000])
async def test_every_list_card_stays_small_with_a_big_directory(bot: BotClient, n: int) -> None:
    await add_crowd(bot, n)
    crowded = person_id(10)  # holds a seat of the first crowd benefit, has changes
    checks = {
        "users": (ALEX, "users", {}, "Users and permissions"),
        "visual studio": (ALEX, "list_visual_studio", {}, "Visual Studio subscriptions"),
        "changes of a person": (ALEX, "recent_changes", {"subject_id": crowded}, "Recent changes"),
        "changes of a benefit": (ALEX, "recent_changes", {"subject_id": benefit_id(0)}, "Recent changes"),
        "requests": (ALEX, "requests", {}, "Pending benefit requests"),
        "notifications": (ALEX, "notifications", {}, "Notifications"),
        "marketing contact": (ALEX, "marketing_contact", {"mode": "add"}, "marketing contact"),
        "my benefits": (LEE, "my_benefits", {}, "My benefits"),
        "assignees of a benefit": (ALEX, "assignees", {"benefit_id": benefit_id(0)}, "Assigned users"),
        "pending activations": (ALEX, "activate", {}, "activat"),
    }
    cards = []
    for what, (user, verb, data, heading) in checks.items():
        card = card_of(await bot.execute(user, verb, data))
        size = json_size(card)
        assert size < BUDGET, f"{what}: {size} bytes of UTF-16 with {n} people"
        assert heading.lower() in all_text(card).lower(), what
        cards.append(card)
    assert_valid_cards(cards)


def in_order(bot: BotClient, locale: str) -> list[Person]:
    """The directory in ``locale``'s collation (people of the same name by id)."""
    return sorted(bot.service.repo.people(), key=lambda p: (sort_key(locale, p.name), p.id))


async def test_the_directory_pages_forward_and_back_in_name_order(bot: BotClient) -> None:
    n = 100
    await add_crowd(bot, n)
    first = card_of(await bot.execute(ALEX, "users"))
    directory = [p.name for p in in_order(bot, "en-US")]
    page1 = shown_people(first, n)
    assert page1 == [name for name in directory[:PAGE_SIZE] if name in page1] and len(page1) > PAGE_SIZE // 2
    assert "Page 1 of" in all_text(first)
    second = await click(bot, ALEX, first, "Next page of users")
    page2 = shown_people(second, n)
    assert page2 == [name for name in directory[PAGE_SIZE:2 * PAGE_SIZE] if name in page2] and page2
    assert "Page 2 of" in all_text(second)
    back = await click(bot, ALEX, second, "Previous page of users")
    assert shown_people(back, n) == page1
    assert "Previous page of users" not in buttons(first)
    last = card_of(await bot.execute(ALEX, "users", {"page": 10_000}))  # a stale Next: the last page
    assert "Next page of users" not in buttons(last) and shown_people(last, n)


@pytest.mark.parametrize(("typed", "expected"), [
    ("avery", lambda p: any(w.startswith("avery") for w in fold(p.name).split())),
    ("ＡＶＥＲＹ", lambda p: any(w.startswith("avery") for w in fold(p.name).split())),  # full width, upper case
    ("chen 1", lambda p: "chen 1" in fold(p.name)),
    ("wang.5", lambda p: p.email.startswith("wang.5")),
    ("秀英", lambda p: "秀英" in p.name),
])
async def test_the_directory_is_searched_by_name_or_email(bot: BotClient, typed: str, expected: Any) -> None:
    n = 300
    await add_crowd(bot, n)
    users = card_of(await bot.execute(ALEX, "users"))
    found = await click(bot, ALEX, users, "Find users", {"query": typed})
    wanted = sorted(crowd_person(i).name for i in range(n) if expected(crowd_person(i)))
    assert wanted, "the crowd has someone to find"
    shown: list[str] = []
    page = found
    while True:  # every page of the search, then nothing else
        shown += shown_people(page, n)
        if "Next page of users" not in buttons(page):
            break
        page = await click(bot, ALEX, page, "Next page of users")
    assert sorted(set(shown)) == wanted
    assert "Found for" in all_text(found) and typed in all_text(found)
    everyone = await click(bot, ALEX, found, "All users")
    assert "Found for" not in all_text(everyone)
    first = in_order(bot, "en-US")[:PAGE_SIZE]
    assert shown_people(everyone, n) == [p.name for p in first if p.id.startswith("crowd-")]


async def test_a_search_that_finds_no_one_says_so(bot: BotClient) -> None:
    users = card_of(await bot.execute(ALEX, "users"))
    found = await click(bot, ALEX, users, "Find users", {"query": "Zebediah"})
    assert "Nothing found for “Zebediah”" in all_text(found)
    assert "All users" in buttons(found)


async def test_saving_roles_from_a_search_shows_that_search_again(bot: BotClient) -> None:
    await add_crowd(bot, 300)
    users = card_of(await bot.execute(ALEX, "users"))
    found = await click(bot, ALEX, users, "Find users", {"query": "wang.5"})
    target = next(crowd_person(i) for i in range(300) if crowd_person(i).email.startswith("wang.5@"))
    field = buttons(found)[f"Save roles of {target.name}"]["data"]["input"]
    saved = await click(bot, ALEX, found, f"Save roles of {target.name}", {field: "user_admin"})
    assert "Roles of" in all_text(saved) and "Found for “wang.5”" in all_text(saved)
    person = bot.service.repo.person(target.id)
    assert person is not None and {r.value for r in person.roles} == {"user_admin"}


async def test_only_global_admins_page_and_search_the_directory(bot: BotClient) -> None:
    await add_crowd(bot, 100)
    status, body, sent = await bot.execute(LEE, "users", {"page": 2, "query": "avery"})
    text = all_text(body.get("value")) + " ".join(str(a.get("text")) for a in sent)
    assert "global admin" in text.lower() and "Avery" not in text


@pytest.mark.parametrize("locale", ["en-US", "zh-CN", "zh-TW"])
async def test_page_and_search_buttons_have_their_own_names_in_every_language(bot: BotClient, locale: str) -> None:
    await add_crowd(bot, 100)
    bot.locale = locale
    middle = card_of(await bot.execute(ALEX, "users", {"page": 1}))
    pagers = [a for a, _ in associated_inputs(middle) if a.get("verb") == "users"]
    titles = [a["title"] for a in pagers]
    assert len(titles) >= 3 and len(set(titles)) == len(titles)  # previous, next, search (find)
    assert not same_named_actions(middle)
    assert all(a.get("associatedInputs") == "none" for a in pagers if "page" in a["data"] and "find" not in a["data"])


async def test_changes_page_through_a_long_history(bot: BotClient) -> None:
    await add_crowd(bot, 1_000)
    subject = benefit_id(0)
    first = card_of(await bot.execute(ALEX, "recent_changes", {"subject_id": subject, "back": "users"}))
    assert "Page 1 of" in all_text(first)
    second = await click(bot, ALEX, first, "Next page of changes")
    assert "Page 2 of" in all_text(second)
    assert buttons(second)["Back"]["data"]["action"] == "users"  # the way back survives paging


async def test_requests_and_undelivered_notifications_are_paged(bot: BotClient) -> None:
    await add_crowd(bot, 3_000)
    requests = card_of(await bot.execute(ALEX, "requests"))
    assert "Page 1 of 3" in all_text(requests)
    later = await click(bot, ALEX, requests, "Next page of requests")
    assert "Page 2 of 3" in all_text(later)
    problems = card_of(await bot.execute(ALEX, "notifications"))
    assert "Page 1 of 2" in all_text(problems)
    assert "Page 2 of 2" in all_text(await click(bot, ALEX, problems, "Next page of undelivered notifications"))


async def test_a_benefits_assignees_are_paged_and_searched(bot: BotClient) -> None:
    await add_crowd(bot, 1_000)
    vs = card_of(await bot.execute(ALEX, "list_visual_studio"))
    label = "All 50 assigned users"
    opened = [a for a, _ in associated_inputs(vs) if a.get("verb") == "assignees"]
    assert opened and all(a["title"].startswith(label) for a in opened)
    first = card_of(await bot.execute(ALEX, "assignees", {"benefit_id": benefit_id(0)}))
    assert "Page 1 of 5" in all_text(first) and "50 assigned users" in all_text(first)
    second = await click(bot, ALEX, first, "Next page of assigned users")
    assert "Page 2 of 5" in all_text(second)
    holder = crowd_person(120)  # the 13th seat of the first crowd benefit
    found = await click(bot, ALEX, second, "Find assigned users", {"query": holder.email})
    assert holder.name in all_text(found).replace("\\", "") and "Page 1 of" not in all_text(found)
    assert crowd_person(130).name not in all_text(found).replace("\\", "")
    back = buttons(found)["Back to the list"]
    assert back["data"]["action"] == "list_visual_studio"


#: The crowd's Chinese family names in each Chinese order: by pinyin (chen, huang, li, liu, wang, wu, yang,
#: zhang, zhao, zhou) and by strokes (4, 6, 7, 7, 7, 7, 8, 8, 9, 11)
FAMILIES_IN_ORDER = {"zh-CN": "陈黄李刘王吴杨张赵周", "zh-TW": "王刘吴张李杨周陈赵黄"}


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW"])
async def test_a_chinese_viewer_reads_the_directory_in_their_languages_order(bot: BotClient, locale: str) -> None:
    n = 300  # 100 Chinese names, ten of each family: a page of each family, Chinese before Latin (as CLDR has it)
    await add_crowd(bot, n)
    bot.locale = locale
    families = ""
    for number in range(10):
        page = shown_people(card_of(await bot.execute(ALEX, "users", {"page": number})), n)
        assert len(page) == PAGE_SIZE and len({name[0] for name in page}) == 1
        assert page == [p.name for p in in_order(bot, locale)[number * PAGE_SIZE:(number + 1) * PAGE_SIZE]]
        families += page[0][0]
    assert families == FAMILIES_IN_ORDER[locale]
