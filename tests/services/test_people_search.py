"""The directory's search: by the start of any word of a name (each Chinese character starts one) or
of an email, case and width folded; the look-alikes of a name found by its skeleton."""

from __future__ import annotations

from pathlib import Path

from domain.models import Person
from services.repository import INDEXES, PEOPLE, Repository, search_keys
from services.storage import Put, open_store


async def test_search_by_word_start_email_and_chinese_characters(tmp_path: Path) -> None:
    store = open_store(tmp_path / "benefits.json", INDEXES)
    try:
        repo = Repository(store)
        await store.apply([Repository.put_person(p) for p in (
            Person("a", "Lee Gu", "LeeG@contoso.com"), Person("b", "王小明", "wang@contoso.com"),
            Person("c", "Ann-Marie Lee", "ann@contoso.com"), Person("d", "Leopold", "leo@contoso.com"))])
        stored = store.get(PEOPLE, "b")
        assert stored is not None and search_keys(stored) == ["王小明", "小明", "明", "wang@contoso.com"]

        def found(query: str) -> list[str]:
            return sorted(p.id for p in repo.people_page(query, 0, 20)[0])

        assert found("lee") == ["a", "c"] and found("LEE G") == ["a"] and found("ＬＥＥ") == ["a", "c"]
        assert found("marie") == ["c"] and found("leeg@") == ["a"] and found("小明") == ["b"]
        assert found("明") == ["b"] and found("ee") == [] and found("") == ["a", "b", "c", "d"]
        # a document written by a restore, not by put_person, is found all the same
        await store.apply([Put(PEOPLE, "e", {"name": "Leena Old", "email": "old@contoso.com"})])
        assert found("old") == ["e"] and repo.people_like("Leena 0ld") == [repo.person("e")]
    finally:
        await store.close()
