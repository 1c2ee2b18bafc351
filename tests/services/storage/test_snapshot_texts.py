"""A large table held as ``SnapshotTexts`` after a start through an index file: it must answer and change
exactly as the dict of texts it stands for (order included), let the snapshot's bytes go once every text
is held, and leave a store that reads, writes, compacts and starts again as one that cut every text at open.
"""

from __future__ import annotations

import array
import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from services.storage import Delete, JournaledTinyStore, Put, StoreUnavailableError
from services.storage.recovery import JournalFiles
from services.storage.snapshot_index import STEP_ITEMS
from services.storage.snapshot_texts import SnapshotTexts
from tests._common.storage import contents

INDEXES = {"people": ["email"], "audit": ["subject_id"]}
NAMES = ["Ana", "張偉", "李娜", "Zoë \"Q\"", "back\\slash", "line\u2028break", "😀 emoji"]


def laid_out(count: int, offset: int) -> tuple[dict[str, str], SnapshotTexts]:
    """``count`` texts as a dict, and the same laid out in bytes as a snapshot holds them (after
    ``offset`` bytes of something else, with separators between texts)."""
    texts = {f"p{i:05d}": json.dumps({"name": NAMES[i % len(NAMES)], "n": i}, ensure_ascii=False)
             for i in range(count)}
    data, spans = bytearray(b"x" * offset), array.array("I")
    for text in texts.values():
        data += b", "
        start = len(data)
        data += text.encode()
        spans.extend((start, len(data)))
    return texts, SnapshotTexts(list(texts), spans, bytes(data))


@pytest.mark.parametrize("seed", range(12))
def test_snapshot_texts_answer_and_change_as_the_dict_they_stand_for(seed: int) -> None:
    rng = random.Random(seed)
    model, held = laid_out(60, offset=rng.choice([0, 1234]))
    assert held.uncut == 60
    for step in range(400):
        doc_id = rng.choice([*model, "new-1", "new-2", "missing"]) if model else "new-1"
        kind = rng.choice(["get", "item", "set", "del", "pop", "in", "cut"])
        if kind == "get":
            assert held.get(doc_id) == model.get(doc_id)
            assert held.get(doc_id, "d") == model.get(doc_id, "d")
        elif kind == "item":
            if doc_id in model:
                assert held[doc_id] == model[doc_id]
            else:
                with pytest.raises(KeyError):
                    held[doc_id]
        elif kind == "set":
            held[doc_id] = model[doc_id] = f'{{"step":{step}}}'
        elif kind == "del":
            if doc_id in model:
                del held[doc_id]
                del model[doc_id]
            else:
                with pytest.raises(KeyError):
                    del held[doc_id]
        elif kind == "pop":
            assert held.pop(doc_id, None) == model.pop(doc_id, None)
        elif kind == "in":
            assert (doc_id in held) == (doc_id in model)
        else:
            held.cut_some(rng.randint(1, 9))
        assert len(held) == len(model)
        assert list(held) == list(model)  # the order a dict keeps: a new id last, a changed one in place
    assert list(held.items()) == list(model.items())
    assert held.uncut == 0 and held._data == b""
    assert held.copy() == model and type(held.copy()) is dict


def test_the_bytes_are_let_go_once_every_text_is_held_whether_cut_or_replaced() -> None:
    model, held = laid_out(10, offset=50)
    assert held["p00003"] == model["p00003"]
    for doc_id in list(model)[:5]:
        held[doc_id] = "{}"
    del held["p00007"]
    assert held.uncut == 4 and held._data != b""  # p00005, p00006, p00008, p00009
    assert held.pop("p00008") == model["p00008"] and held.get("p00009") == model["p00009"]
    assert held.uncut == 2
    assert held.cut_some(5) is False and held.uncut == 2  # in order: the first five are held already
    assert held.cut_some(2) is True
    assert held.uncut == 0 and held._data == b"" and len(held._spans) == 0


def test_cut_some_goes_through_the_table_in_steps() -> None:
    model, held = laid_out(25, offset=0)
    steps = 0
    while not held.cut_some(10):
        steps += 1
    assert steps == 2 and held.as_dict() == model and type(held.as_dict()) is dict


def test_a_defect_that_leaves_a_text_uncut_is_refused_rather_than_stepped_over_forever() -> None:
    _, held = laid_out(5, offset=0)
    held._ids = held._ids[:-1]  # a place no id leads to (a defect: the store never builds one)
    with pytest.raises(StoreUnavailableError, match="left uncut"):
        while not held.cut_some(2):
            pass


async def large_store(path: Path, people: int) -> None:
    """A snapshot (with its index file) of ``people`` people, then a journal that changes some."""
    store = JournaledTinyStore(path, INDEXES)
    await store.apply([Put("people", f"p{i:05d}", {"name": NAMES[i % len(NAMES)], "email": f"p{i % 900}@contoso.com"})
                       for i in range(people)])
    await store.apply([Put("audit", f"a{i}", {"subject_id": f"p{i:05d}"}) for i in range(20)])
    await store.compact()
    await store.apply([Put("people", "p00002", {"name": "changed", "email": "changed@contoso.com"}),
                       Delete("people", "p00004"), Put("people", "late", {"name": "late", "email": "p1@contoso.com"})])
    await store.close()


def state(store: JournaledTinyStore) -> dict[str, Any]:
    return {"texts": list(store._tables["people"].items()), "dump": contents(store),
            "p1": store.find_ids("people", "email", "p1@contoso.com"),
            "index": {k: v if isinstance(v, str) else list(v) for k, v in store._index["people"]["email"].items()}}


WRITES = [[Put("people", "p00011", {"name": "written", "email": "w@contoso.com"}),
           Delete("people", "p00012"), Put("people", "new", {"name": "new", "email": "w@contoso.com"})],
          [Put("people", "p00013", {"name": "again", "email": "p1@contoso.com"}), Delete("people", "new"),
           Put("people", "p00012", {"name": "back", "email": "p12@contoso.com"})]]


async def test_a_large_table_is_cut_when_read_then_held_as_a_dict_and_reads_as_one_cut_at_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data" / "benefits.json"
    await large_store(path, STEP_ITEMS + 3)  # the default size from which a start holds a table so
    shutil.copytree(path.parent, tmp_path / "copy")
    with monkeypatch.context() as patched:
        patched.setattr(JournalFiles, "cut_when_read_from", STEP_ITEMS * 100)
        eager = JournaledTinyStore(tmp_path / "copy" / path.name, INDEXES)
    try:
        assert type(eager._tables["people"]) is dict
        for batch in WRITES:
            await eager.apply(batch)
        expected = state(eager)
    finally:
        await eager.close()

    store = JournaledTinyStore(path, INDEXES)
    try:
        texts = store._tables["people"]
        assert type(texts) is SnapshotTexts
        assert texts.uncut == STEP_ITEMS + 3 - 2  # the journal's writes replaced one text and deleted another
        assert store.get("people", "p00010") == {"id": "p00010", "name": NAMES[10 % len(NAMES)],
                                                 "email": "p10@contoso.com"}
        assert texts.uncut == STEP_ITEMS + 3 - 3  # that read cut one text
        await store.apply(WRITES[0])
        assert store.find_ids("people", "email", "w@contoso.com") == ["p00011", "new"]
        assert texts.uncut == STEP_ITEMS + 3 - 5
        await store.load_later()  # the rest cut between turns, then held as a plain dict
        assert type(store._tables["people"]) is dict and texts.uncut == 0
        await store.apply(WRITES[1])
        assert state(store) == expected
    finally:
        await store.close()


async def test_a_compaction_before_any_text_was_cut_writes_every_one(tmp_path: Path) -> None:
    path = tmp_path / "data" / "benefits.json"
    await large_store(path, STEP_ITEMS + 3)
    store = JournaledTinyStore(path, INDEXES)
    assert type(store._tables["people"]) is SnapshotTexts and store._tables["people"].uncut == STEP_ITEMS + 1
    await store.compact()
    await store.close()
    with pytest.MonkeyPatch.context() as patched:  # a start that cuts every text at open, for comparison
        patched.setattr(JournalFiles, "cut_when_read_from", STEP_ITEMS * 100)
        shutil.copytree(path.parent, tmp_path / "copy")
        eager = JournaledTinyStore(tmp_path / "copy" / path.name, INDEXES)
    expected = contents(eager)
    await eager.close()
    again = JournaledTinyStore(path, INDEXES)
    try:
        assert type(again._tables["people"]) is SnapshotTexts and again._tables["people"].uncut == STEP_ITEMS + 3
        assert contents(again) == expected and len(expected["people"]) == STEP_ITEMS + 3
        assert expected["people"]["late"]["name"] == "late" and "p00004" not in expected["people"]
    finally:
        await again.close()


def mapped_files() -> str:
    return Path("/proc/self/maps").read_text()


async def test_the_snapshot_stays_mapped_only_until_every_text_is_cut(tmp_path: Path) -> None:
    path = tmp_path / "data" / "benefits.json"
    await large_store(path, STEP_ITEMS + 3)
    store = JournaledTinyStore(path, INDEXES, later=["audit"])
    try:
        snapshot = str(sorted(path.parent.glob("benefits.g*.json"))[-1])
        assert snapshot in mapped_files()  # the people's texts are cut from it as they are read, the audit read
        assert store.get("people", "p00001") is not None and snapshot in mapped_files()
        await store.load_later()
        assert type(store._tables["people"]) is dict and store.loading() == ()
        assert store.find_ids("audit", "subject_id", "p00003") == ["a3"]
        assert snapshot not in mapped_files()
    finally:
        await store.close()
