"""The store contract, run against every engine (stock TinyDB, the journaled engine, PostgreSQL).

Each test gets an ``engine`` that opens a store at one place (a path in ``tmp_path``, or a namespace
of the session's PostgreSQL server), so a test can close and reopen it. Every engine must give the
same answers: the journaled engine is TinyDB made fast and safe, and PostgreSQL is the same contract
shared by several instances, not a different database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from services.storage import Delete, DocumentStore, Put
from services.storage.postgres import PostgresConfig, PostgresStore
from tests._common.postgres import PgCluster, unique_namespace
from tests._common.storage import ENGINES, by_id, contents

INDEXES = {"assignments": ["person_id", "benefit_id"], "people": ["email"]}


class Engine:
    """Opens stores of one kind at one place; closes what it opened."""

    def __init__(self, kind: str, path: Path, cluster: PgCluster | None = None) -> None:
        self.kind = kind
        self.path = path
        self.namespace = unique_namespace()
        self.location = str(path)
        if cluster is not None:
            self.config = PostgresConfig(cluster.dsn(), pool_min=1, pool_max=3, poll_seconds=60)
            self.location = f"{self.config.safe_target}#{self.namespace}"
        self._open: list[DocumentStore] = []

    async def open(self) -> DocumentStore:
        if self.kind == "postgres":
            store: DocumentStore = await PostgresStore.open(self.config, INDEXES, namespace=self.namespace)
        else:
            store = ENGINES[self.kind](self.path, INDEXES)
        self._open.append(store)
        return store

    async def reopen(self, store: DocumentStore) -> DocumentStore:
        await store.close()
        return await self.open()

    async def close_all(self) -> None:
        for store in self._open:
            await store.close()


@pytest.fixture(params=[*sorted(ENGINES), "postgres"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Engine]:
    cluster = request.getfixturevalue("pg_cluster") if request.param == "postgres" else None
    eng = Engine(request.param, tmp_path / "data" / "benefits.json", cluster)
    yield eng
    await eng.close_all()


@pytest.fixture
async def store(engine: Engine) -> DocumentStore:
    return await engine.open()


def assignment(person: str, benefit: str, **extra: Any) -> dict[str, Any]:
    return {"person_id": person, "benefit_id": benefit, **extra}


class TestConformance:
    async def test_empty_store(self, store: DocumentStore) -> None:
        assert store.get("people", "p1") is None
        assert store.all("people") == []
        assert store.find("assignments", "person_id", "p1") == []
        assert store.find("people", "name", "x") == []
        assert store.table_names() == []
        assert store.health().ready

    async def test_put_get_all(self, store: DocumentStore) -> None:
        await store.apply([Put("people", "p1", {"name": "Ada"}), Put("people", "p2", {"name": "Bo"})])
        assert store.get("people", "p1") == {"id": "p1", "name": "Ada"}
        assert by_id(store.all("people")) == [{"id": "p1", "name": "Ada"}, {"id": "p2", "name": "Bo"}]
        assert store.table_names() == ["people"]

    async def test_put_replaces(self, store: DocumentStore) -> None:
        await store.apply([Put("people", "p1", {"name": "Ada", "tags": ["a"]})])
        await store.apply([Put("people", "p1", {"name": "Ada L."})])
        assert store.get("people", "p1") == {"id": "p1", "name": "Ada L."}

    async def test_delete(self, store: DocumentStore) -> None:
        await store.apply([Put("people", "p1", {"n": 1}), Put("people", "p2", {"n": 2})])
        await store.apply([Delete("people", "p1"), Delete("people", "absent"), Delete("nowhere", "x")])
        assert store.get("people", "p1") is None
        assert [d["id"] for d in store.all("people")] == ["p2"]
        await store.apply([Delete("people", "p2")])
        assert store.table_names() == []

    async def test_find_indexed_and_not(self, store: DocumentStore) -> None:
        await store.apply(
            [
                Put("assignments", "a1", assignment("p1", "b1", seats=3)),
                Put("assignments", "a2", assignment("p1", "b2", seats=3)),
                Put("assignments", "a3", assignment("p2", "b1", seats=5)),
                Put("assignments", "a4", {"benefit_id": "b9"}),
            ]
        )
        assert [d["id"] for d in by_id(store.find("assignments", "person_id", "p1"))] == ["a1", "a2"]
        assert [d["id"] for d in by_id(store.find("assignments", "benefit_id", "b1"))] == ["a1", "a3"]
        assert [d["id"] for d in by_id(store.find("assignments", "seats", 3))] == ["a1", "a2"]
        assert store.find("assignments", "person_id", None) == []
        assert [d["id"] for d in store.find("assignments", "id", "a3")] == ["a3"]
        counts = [store.count("assignments", f, v) for f, v in
                  [("person_id", "p1"), ("benefit_id", "b9"), ("seats", 3), ("person_id", None), ("person_id", "p7")]]
        assert counts == [2, 1, 2, 0, 0]
        await store.apply([Delete("assignments", "a1"), Put("assignments", "a2", assignment("p2", "b2"))])
        assert [store.count("assignments", "person_id", p) for p in ("p1", "p2")] == [0, 2]

    async def test_find_values_of_every_json_kind(self, store: DocumentStore) -> None:
        values: list[Any] = [0, 1.5, True, None, "", "s", [1, "x"], {"k": [1]}]
        await store.apply([Put("people", f"p{i}", {"email": v, "other": v}) for i, v in enumerate(values)])
        for i, value in enumerate(values):
            for field_name in ("email", "other"):  # indexed and not indexed
                found = {d["id"] for d in store.find("people", field_name, value)}
                assert f"p{i}" in found, (field_name, value)
                assert found == {f"p{j}" for j, v in enumerate(values) if v == value}, (field_name, value)

    async def test_batch_atomic_when_invalid(self, store: DocumentStore) -> None:
        await store.apply([Put("people", "p1", {"n": 1})])
        with pytest.raises(ValueError):
            await store.apply([Put("people", "p2", {"n": 2}), Put("people", "p3", {"bad": object()})])
        with pytest.raises(ValueError):
            await store.apply([Delete("people", "p1"), Put("", "p3", {})])
        assert contents(store) == {"people": {"p1": {"id": "p1", "n": 1}}}

    async def test_batch_applies_in_order(self, store: DocumentStore) -> None:
        await store.apply(
            [
                Put("people", "p1", {"v": 1}),
                Put("people", "p1", {"v": 2}),
                Put("people", "p2", {"v": 1}),
                Delete("people", "p2"),
                Put("assignments", "a1", assignment("p1", "b1")),
            ]
        )
        assert contents(store) == {
            "people": {"p1": {"id": "p1", "v": 2}},
            "assignments": {"a1": {"id": "a1", "person_id": "p1", "benefit_id": "b1"}},
        }

    async def test_empty_batch_is_a_no_op(self, store: DocumentStore) -> None:
        await store.apply([])
        assert store.table_names() == []

    async def test_returns_copies_not_aliases(self, store: DocumentStore) -> None:
        doc = {"name": "Ada", "tags": ["a"], "nested": {"k": [1]}}
        await store.apply([Put("people", "p1", doc), Put("assignments", "a1", assignment("p1", "b1", x=[1]))])
        doc["tags"].append("mutated-after-put")
        doc["nested"]["k"].append(2)
        for got in (
            store.get("people", "p1"),
            store.all("people")[0],
            store.find("people", "name", "Ada")[0],
        ):
            assert got is not None
            got["tags"].append("mutated")
            got["nested"]["k"].append(3)
            got["name"] = "Eve"
        for got in (store.find("assignments", "person_id", "p1")[0], store.dump()["assignments"]["a1"]):
            got["x"].append(2)
            got["person_id"] = "p9"
        assert store.get("people", "p1") == {"id": "p1", "name": "Ada", "tags": ["a"], "nested": {"k": [1]}}
        assert store.get("assignments", "a1") == {"id": "a1", "person_id": "p1", "benefit_id": "b1", "x": [1]}
        assert store.find("assignments", "person_id", "p9") == []

    async def test_reopen_keeps_data(self, engine: Engine, store: DocumentStore) -> None:
        await store.apply(
            [Put("people", "p1", {"name": "Ada"}), Put("assignments", "a1", assignment("p1", "b1"))]
        )
        await store.apply([Put("people", "p2", {"name": "Bo"}), Delete("people", "p1")])
        before = contents(store)
        store = await engine.reopen(store)
        assert contents(store) == before
        assert [d["id"] for d in store.find("assignments", "person_id", "p1")] == ["a1"]
        assert store.health().ready and store.health().quarantined == ()

    async def test_indexes_follow_updates_and_deletes(self, engine: Engine, store: DocumentStore) -> None:
        await store.apply(
            [Put("assignments", f"a{i}", assignment(f"p{i % 3}", f"b{i % 2}")) for i in range(9)]
        )
        await store.apply(
            [
                Put("assignments", "a0", assignment("p1", "b0")),  # p0 -> p1
                Put("assignments", "a3", {"benefit_id": "b1"}),  # loses person_id, b0 -> b1
                Delete("assignments", "a6"),  # was p0
                Put("assignments", "a1", assignment("p1", "b1", note="same keys")),  # unchanged keys
            ]
        )
        for reopen in (False, True):
            current = await engine.reopen(store) if reopen else store
            assert current.find("assignments", "person_id", "p0") == []
            assert [d["id"] for d in by_id(current.find("assignments", "person_id", "p1"))] == [
                "a0",
                "a1",
                "a4",
                "a7",
            ]
            assert [d["id"] for d in by_id(current.find("assignments", "benefit_id", "b1"))] == [
                "a1",
                "a3",
                "a5",
                "a7",
            ]
            assert current.get("assignments", "a1") == {
                "id": "a1",
                "person_id": "p1",
                "benefit_id": "b1",
                "note": "same keys",
            }

    @pytest.mark.parametrize("bad", ["", None, 3])
    async def test_empty_names_rejected(self, store: DocumentStore, bad: Any) -> None:
        with pytest.raises(ValueError):
            await store.apply([Put(bad, "p1", {})])
        with pytest.raises(ValueError):
            await store.apply([Put("people", bad, {})])
        with pytest.raises(ValueError):
            await store.apply([Delete(bad, "p1")])
        with pytest.raises(ValueError):
            await store.apply([Delete("people", bad)])
        with pytest.raises(ValueError):
            store.get(bad, "p1")
        with pytest.raises(ValueError):
            store.get("people", bad)
        with pytest.raises(ValueError):
            store.all(bad)
        with pytest.raises(ValueError):
            store.find(bad, "name", "x")
        with pytest.raises(ValueError):
            store.find("people", bad, "x")
        assert store.table_names() == []

    async def test_bad_documents_rejected(self, store: DocumentStore) -> None:
        bad_batches: list[Callable[[], Any]] = [
            lambda: [Put("people", "p1", ["not", "a", "mapping"])],
            lambda: [Put("people", "p1", {"x": float("nan")})],
            lambda: [Put("people", "p1", {"id": "p2"})],
            lambda: ["not an op"],
            lambda: Put("people", "p1", {}),  # a single op, not a batch
        ]
        for make in bad_batches:
            with pytest.raises(ValueError):
                await store.apply(make())
        assert store.table_names() == []

    async def test_id_inside_doc_matches(self, store: DocumentStore) -> None:
        await store.apply([Put("people", "p1", {"id": "p1", "name": "Ada"})])
        assert store.get("people", "p1") == {"id": "p1", "name": "Ada"}

    async def test_json_normalized(self, engine: Engine, store: DocumentStore) -> None:
        await store.apply([Put("people", "p1", {"t": (1, 2), "u": "日本語 ✓"})])
        assert store.get("people", "p1") == {"id": "p1", "t": [1, 2], "u": "日本語 ✓"}
        store = await engine.reopen(store)
        assert store.get("people", "p1") == {"id": "p1", "t": [1, 2], "u": "日本語 ✓"}

    async def test_dump(self, store: DocumentStore) -> None:
        await store.apply([Put("people", "p1", {"n": 1}), Put("assignments", "a1", assignment("p1", "b1"))])
        assert store.dump() == {
            "people": {"p1": {"id": "p1", "n": 1}},
            "assignments": {"a1": {"id": "a1", "person_id": "p1", "benefit_id": "b1"}},
        }

    async def test_health_reports_path(self, engine: Engine, store: DocumentStore) -> None:
        health = store.health()
        assert health.ready and health.quarantined == () and health.path == engine.location

    async def test_update_each_reads_the_newest_and_writes_what_change_returns(self, store: DocumentStore) -> None:
        await store.apply([Put("outbox", "n1", {"state": "pending", "tries": 1})])
        seen: dict[str, Any] = {}

        def claim(doc_id: str, current: dict[str, Any] | None) -> dict[str, Any] | None:
            seen[doc_id] = current
            if current is None or current["state"] != "pending":
                return None
            return {**current, "state": "sending", "tries": current["tries"] + 1}

        written = await store.update_each("outbox", ["n1", "absent"], claim)
        assert seen == {"n1": {"id": "n1", "state": "pending", "tries": 1}, "absent": None}
        assert written == [{"id": "n1", "state": "sending", "tries": 2}]
        assert await store.update_each("outbox", ["n1"], claim) == []  # no longer pending
        assert store.get("outbox", "n1") == {"id": "n1", "state": "sending", "tries": 2}
        inserted = await store.update_each("outbox", ["n2"], lambda i, cur: {"state": "new"} if cur is None else None)
        assert inserted == [{"id": "n2", "state": "new"}] and store.get("outbox", "n2") == {"id": "n2", "state": "new"}


def _words(doc: dict[str, Any]) -> list[str]:
    """Listed under each word of its name (a search by the start of any word)."""
    return str(doc.get("name") or "").lower().split()


def _shown(doc: dict[str, Any]) -> list[str]:
    """Listed by name when shown; a hidden document is not listed."""
    return [] if doc.get("hidden") else [str(doc.get("name") or "")]


class TestOrderings:
    """Pages of a sorted table: the same answers from every engine, kept as documents change."""

    async def test_pages_in_order_with_a_count(self, store: DocumentStore) -> None:
        names = ["Kai", "ada", "Bo", "Cy", "Dee", "Eli", "Fay"]
        await store.apply([Put("people", f"p{i}", {"name": n}) for i, n in enumerate(names)])
        store.order_by("people", "name", _shown)
        assert store.ordered("people", "name", "", 0, 3) == (["p2", "p3", "p4"], 7)  # Bo, Cy, Dee: by code point
        assert store.ordered("people", "name", "", 6, 3) == (["p1"], 7)
        assert store.ordered("people", "name", "", 9, 3) == ([], 7)
        assert store.ordered("people", "name", "", 0, 2, reverse=True) == (["p1", "p0"], 7)
        assert store.ordered("people", "name", "", 6, 2, reverse=True) == (["p2"], 7)

    async def test_an_ordering_prepared_ahead_pages_as_one_sorted_when_asked(self, store: DocumentStore) -> None:
        names = ["Kai", "ada", "Bo", "Cy", "Dee", "Eli", "Fay"]
        await store.apply([Put("people", f"p{i}", {"name": n}) for i, n in enumerate(names)])
        store.order_by("people", "name", _shown)
        with pytest.raises(KeyError):
            await store.prepare_ordering("people", "undeclared")
        await store.prepare_ordering("people", "name")
        await store.prepare_ordering("people", "name")  # ready: nothing to do
        assert store.ordered("people", "name", "", 0, 3) == (["p2", "p3", "p4"], 7)
        await store.apply([Put("people", "p0", {"name": "Al"}), Delete("people", "p2")])
        assert store.ordered("people", "name", "", 0, 3) == (["p0", "p3", "p4"], 6)

    async def test_a_prefix_finds_any_key_and_each_document_once_per_page(self, store: DocumentStore) -> None:
        await store.apply([Put("people", "p1", {"name": "Lee Lin"}), Put("people", "p2", {"name": "Ann Lee"}),
                           Put("people", "p3", {"name": "Bo"})])
        store.order_by("people", "words", _words)
        ids, count = store.ordered("people", "words", "l", 0, 10)
        assert sorted(ids) == ["p1", "p2"] and count == 3 and len(ids) == len(set(ids))
        assert store.ordered("people", "words", "lee", 0, 10) == (["p1", "p2"], 2)
        assert store.ordered("people", "words", "zed", 0, 10) == ([], 0)

    async def test_writes_move_documents_within_an_ordering(self, engine: Engine, store: DocumentStore) -> None:
        await store.apply([Put("people", f"p{i}", {"name": n}) for i, n in enumerate(["Ann", "Bob", "Cid"])])
        store.order_by("people", "name", _shown)
        await store.apply([Put("people", "p0", {"name": "Zoe"}), Put("people", "p1", {"name": "Bob", "hidden": 1}),
                           Delete("people", "p2"), Put("people", "p3", {"name": "Al"})])
        assert store.ordered("people", "name", "", 0, 10) == (["p3", "p0"], 2)
        store = await engine.reopen(store)
        store.order_by("people", "name", _shown)
        assert store.ordered("people", "name", "", 0, 10) == (["p3", "p0"], 2)
