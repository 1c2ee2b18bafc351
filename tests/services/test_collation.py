"""People listed in each language's order: English alphabetically (accents and case only break ties),
zh-CN by pinyin, zh-TW by stroke count; kept in that order as people are added, renamed and removed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.models import Person, Role
from services import collation
from services.repository import INDEXES, PEOPLE, Repository
from services.storage import Delete, open_store

#: 阿 ā, 白 bái, 丁 dīng, 王 wáng, 张 zhāng: in pinyin order; by strokes 丁 2, 王 4, 白 5, 张 7, 阿 8 (阝 is
#: written in three strokes in Taiwan), 張 11
CHINESE = {"zhang": "张伟", "bai": "白云", "a": "阿明", "wang": "王小明", "ding": "丁一", "zhang_t": "張三"}
ENGLISH = {"emile": "Emile Zola", "emile_acute": "Émile Durand", "adam": "adam Smith", "zoe": "Zoë Ball",
           "eve": "Eve Lee", "bob": "Bob Ng"}


def test_each_language_collates_names_as_its_readers_expect() -> None:
    def order(locale: str, names: list[str]) -> list[str]:
        return sorted(names, key=lambda name: collation.sort_key(locale, name))

    assert order("zh-CN", ["张", "白", "阿"]) == ["阿", "白", "张"]  # a, bai, zhang
    assert order("zh-TW", ["張", "王", "丁"]) == ["丁", "王", "張"]  # 2, 4 and 11 strokes
    assert order("zh-TW", ["阿", "白", "王", "丁"]) == ["丁", "王", "白", "阿"]  # 2, 4, 5, 8 strokes
    assert order("en-US", ["Zoe", "émile", "Emily", "Emile", "adam"]) == ["adam", "Emile", "émile", "Emily", "Zoe"]
    # a language not listed reads as the default (English); a name in another script keeps its place
    assert order("fr-FR", ["b", "A"]) == order("en-US", ["b", "A"]) == ["A", "b"]


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[Repository]:
    store = open_store(tmp_path / "benefits.json", INDEXES)
    try:
        yield Repository(store)
    finally:
        await store.close()


def names(people: list[Person]) -> list[str]:
    return [p.name for p in people]


async def test_the_directory_is_paged_in_the_viewers_language(repo: Repository) -> None:
    people = {**CHINESE, **ENGLISH}
    await repo.store.apply([Repository.put_person(Person(i, name, f"{i}@contoso.com")) for i, name in people.items()])

    def page(locale: str, offset: int = 0, limit: int = 20) -> list[str]:
        found, total = repo.people_page("", offset, limit, locale)
        assert total == len(people)
        return names(found)

    assert page("zh-CN") == ["阿明", "白云", "丁一", "王小明", "张伟", "張三",
                             "adam Smith", "Bob Ng", "Émile Durand", "Emile Zola", "Eve Lee", "Zoë Ball"]
    assert page("zh-TW")[:6] == ["丁一", "王小明", "白云", "张伟", "阿明", "張三"]  # 2, 4, 5, 7, 8, 11 strokes
    assert page("en-US") == ["adam Smith", "Bob Ng", "Émile Durand", "Emile Zola", "Eve Lee", "Zoë Ball",
                             "丁一", "张伟", "張三", "王小明", "白云", "阿明"]
    assert page("zh-CN", 2, 3) == ["丁一", "王小明", "张伟"]  # a page is a slice of that order
    assert page("xx-YY") == page("en-US")

    # the orders hold as people come, change their names and go
    await repo.store.apply([Repository.put_person(Person("lin", "林一", "lin@contoso.com")),  # lín, 8 strokes
                            Repository.put_person(Person("bob", "Aaron Ng", "bob@contoso.com")),
                            Delete(PEOPLE, "wang")])
    del people["wang"]
    people["lin"] = "林一"
    assert page("zh-CN")[:5] == ["阿明", "白云", "丁一", "林一", "张伟"]
    # 林 and 阿 have 8 strokes each: then by radical, 木 before 阜
    assert page("zh-TW")[:6] == ["丁一", "白云", "张伟", "林一", "阿明", "張三"]
    assert page("en-US")[:3] == ["Aaron Ng", "adam Smith", "Émile Durand"]


async def test_pickers_and_admins_are_in_the_viewers_order(repo: Repository) -> None:
    admin = frozenset({Role.GLOBAL_ADMIN})
    await repo.store.apply([Repository.put_person(Person(i, name, f"{i}@contoso.com", roles=admin))
                            for i, name in CHINESE.items()])
    assert names(repo.picker_people([], 2, "zh-CN")) == ["阿明", "白云"]
    assert names(repo.picker_people(["zhang_t"], 2, "zh-TW")) == ["丁一", "王小明", "張三"]
    assert names(repo.global_admins("zh-TW"))[:2] == ["丁一", "王小明"]
    assert names(repo.global_admins("zh-CN"))[:2] == ["阿明", "白云"]
    assert sorted(names(repo.global_admins())) == sorted(CHINESE.values())
