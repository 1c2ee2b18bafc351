"""PostgreSQL behind the store contract, for several bot instances sharing one database.

Why: the journaled engine is one process's files. A deployment that runs two or more instances (App
Service scale-out, a slot swap under load) needs one shared, durable store where the seeds' rules
still hold when two instances act at the same moment. The services check those rules against the
store's in-memory view (reads stay synchronous and fast), so the design keeps every instance's view
coherent and makes a decision taken on a stale view impossible to commit:

* **One change sequence.** ``store_documents`` holds the latest version of every document (``doc``
  NULL for a deleted one, a tombstone) with ``seq``, the number of the batch that wrote it. The single
  row of ``store_head`` holds the newest number. A commit locks that row (``SELECT ... FOR UPDATE``),
  so commits are serialized and numbered in commit order: a reader that has seen everything up to
  ``n`` catches up completely by reading the documents with ``seq > n`` (no gap can fill in later).
* **A commit catches up first.** In one transaction a commit locks the head, reads what other
  instances wrote since this one last looked, writes its batches (each batch gets the next number; all
  its documents carry it) and moves the head. Back on the event loop, the others' changes and then its
  own batches are applied to memory without an ``await`` in between, so a reader never sees half of a
  batch, and never a state older than one it saw.
* **Catch-up before a turn.** :meth:`refresh` reads the head and every document changed since
  (one statement, one snapshot); the bot calls it before it answers a turn, and a background task
  calls it every ``poll_seconds`` (which also notices a lost database for ``/readyz``). Concurrent
  callers share reads, but a caller is served only by a read that began after it asked.
* **Mutations are serialized across instances.** :meth:`mutation_lock` (what ``BenefitsService``
  takes around read-check-write) holds a PostgreSQL advisory lock on a dedicated connection and
  catches up while holding it, so the rules are checked on the newest state. A batch applied inside
  it is *guarded*: its commit moves ``store_head.guarded`` and succeeds only if ``guarded`` is still
  what the lock holder saw. Should the lock be lost (its connection cut), a decision taken on a stale
  view fails with :class:`StoreConflictError` instead of landing: two instances racing for the last
  seat give exactly one assignment. Writes outside the lock (conversation references, bot state,
  the outbox's bookkeeping) are plain upserts that never conflict.
* **Claims beside the sequence.** Work exactly one instance may do (a notification's send) is claimed
  with :meth:`claim_each`: the document's row is locked ``FOR UPDATE SKIP LOCKED`` and the claimed
  version (owner, lease) goes into ``store_claims``, not into the change sequence, so claims neither
  take the head's lock nor wait for each other. A claim holds until its document is next written
  (the outcome), or until its lease, which the claimed version carries, runs out.
* **Group commit.** Batches submitted while a commit is in flight go together in the next
  transaction (one round trip and one WAL flush for many turns), as the journaled engine shares
  an fsync.
* **Tombstones expire.** Deleted documents stay as tombstones for ``tombstone_seconds`` so instances
  see the deletion; purging them raises ``store_head.floor``, and an instance whose view is older than
  the floor reloads everything instead of catching up.

Failures: a batch whose transaction fails is not applied (PostgreSQL rolls it back); if the
connection breaks during ``COMMIT`` its outcome is unknown, as with any failed fsync, and the next
catch-up shows whether it landed. :meth:`health` reports the database as not ready from the first
failed operation until one succeeds again; the pool reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import re
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from services.storage._common import ID_FIELD, check_doc_id, check_table, clone, normalize_ops
from services.storage.base import Document, Op, Put, StoreHealth
from services.storage.errors import StoreUnavailableError
from services.storage.memory import MemoryTables
from services.storage.postgres_config import PostgresConfig as PostgresConfig  # where callers found it
from services.storage.postgres_schema import MIGRATIONS, MIGRATIONS_TABLE

log = logging.getLogger(__name__)
#: what a retried database operation returns
T = TypeVar("T")

#: first key of the advisory locks this engine takes (the second is derived from the namespace)
LOCK_CLASS = 0x5042  # "PB"
MIGRATION_LOCK = 1
#: an instance silent for this many polls no longer counts (killed, or cut off from the database)
HEARTBEAT_POLLS = 5
#: seconds before the second retry of an operation on a dropped connection (doubling, up to the connect timeout)
RETRY_PAUSE = 0.2
NAMESPACE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

ERR_CLOSED = "the store is closed"
ERR_DATABASE = "the database cannot be reached or refused the operation"
ERR_CONFLICT = ("another instance changed the data while this one held a stale view (its lock on the database "
                "was lost); nothing was written: try again")
ERR_NEWER_SCHEMA = "the database's schema (version {found}) is newer than this bot knows (version {known})"
ERR_NOT_TEXT = "a document holds a lone surrogate (\\ud800-\\udfff), which cannot be stored as UTF-8"
ERR_NAMESPACE = "a namespace is a lower-case SQL identifier"
DETAIL_OK = "PostgreSQL: connected"
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class StoreConflictError(StoreUnavailableError):
    """A guarded batch was refused: the data changed since the rules were checked. Nothing was written."""


@dataclass
class _Guard:
    """What a holder of the mutation lock saw: the ``guarded`` number its batches must still find."""

    store: PostgresStore
    expect: int


_GUARD: contextvars.ContextVar[_Guard | None] = contextvars.ContextVar("postgres_store_guard", default=None)


@dataclass
class _Pending:
    """A batch waiting for its transaction (``conditional``: computed in it, see ``update_each``)."""

    ops: list[list[Any]]
    rows: dict[tuple[str, str], str | None]
    done: asyncio.Future[None]
    guard: _Guard | None
    conditional: tuple[str, list[str], Callable[[str, Document | None], Mapping[str, Any] | None]] | None = None
    written: list[Document] = field(default_factory=list)
    error: BaseException | None = None


def _encode_rows(normalized: list[list[Any]]) -> dict[tuple[str, str], str | None]:
    """A batch's last word on each document, as the JSON text the database keeps (None: deleted).

    Raises:
        ValueError: a document holds a lone surrogate (no UTF-8 text can hold it).
    """
    rows: dict[tuple[str, str], str | None] = {}
    try:
        for op in normalized:
            text = _ENCODE(op[3]) if op[0] == "put" else None
            if text is not None:
                text.encode()
            rows[(op[1], op[2])] = text
    except UnicodeEncodeError:
        raise ValueError(ERR_NOT_TEXT) from None
    return rows


@dataclass
class _Changes:
    """What a catch-up read: the head's numbers and the documents changed (or all, when ``full``)."""

    seq: int
    guarded: int
    floor: int
    rows: list[tuple[str, str, Any]]
    full: bool


class PostgresStore(MemoryTables):
    """The store contract on PostgreSQL, coherent across instances (see the module docstring).

    Open with ``await PostgresStore.open(config, indexes)``; close with ``await store.close()``.
    """

    shared = True

    def __init__(self, config: PostgresConfig, indexes: Mapping[str, Sequence[str]] | None = None, *,
                 namespace: str = "benefits") -> None:
        super().__init__(indexes)
        if not NAMESPACE.match(namespace):
            raise ValueError(ERR_NAMESPACE)
        self.config = config
        self.namespace = namespace
        self.created = False
        """Whether this open created the schema (a database that never held this store: demo data may go
        there). Of several instances starting together, exactly one sees True."""
        self._lock_key = zlib.crc32(namespace.encode()) & 0x7FFFFFFF
        self._pool = AsyncConnectionPool(
            config.conninfo, min_size=config.pool_min, max_size=config.pool_max, open=False,
            timeout=config.connect_timeout, configure=self._configure,
            kwargs={"connect_timeout": max(1, int(config.connect_timeout))}, name=f"store-{namespace}",
        )
        schema = sql.Identifier(namespace)
        self._sql = {name: sql.SQL(text).format(schema=schema) for name, text in _STATEMENTS.items()}
        self._seen = 0
        self._guarded = 0
        self._failure = ""
        self._closed = False
        self._queue: list[_Pending] = []
        self._committer: asyncio.Task[None] | None = None
        self._sync = asyncio.Lock()
        self._mutations = asyncio.Lock()
        self._poller: asyncio.Task[None] | None = None
        self._instance_id = uuid.uuid4().hex
        self._instances = 1
        self._asked = 0
        self._served = 0
        self._reading: asyncio.Future[None] | None = None

    # ------------------------------------------------------------------------------ lifecycle

    @classmethod
    async def open(cls, config: PostgresConfig, indexes: Mapping[str, Sequence[str]] | None = None, *,
                   namespace: str = "benefits", poll: bool = True) -> PostgresStore:
        """Connect, apply missing migrations, load every document and (``poll``) start catching up.

        Raises:
            StoreUnavailableError: the database cannot be reached, or its schema is newer than this code.
        """
        store = cls(config, indexes, namespace=namespace)
        try:
            await store._pool.open(wait=True, timeout=config.connect_timeout)
            await store._migrate()
            await store.purge_tombstones()
            await store.refresh()
            if poll:
                await store.heartbeat()
        except BaseException as exc:
            await store._pool.close()
            if isinstance(exc, psycopg.Error):
                raise StoreUnavailableError(f"cannot open {config.safe_target}: {_reason(exc)}") from exc
            raise
        if poll:
            store._poller = asyncio.create_task(store._poll(), name=f"store-{namespace} catch-up")
        return store

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        await conn.set_autocommit(True)
        # jit off: the catch-up join is estimated before the one-row head table has statistics, and
        # compiling it (tens of milliseconds) would cost more than running it ever does
        await conn.execute(sql.SQL("SET statement_timeout = {}; SET lock_timeout = {}; SET jit = off").format(
            sql.Literal(int(self.config.statement_timeout * 1000)),
            sql.Literal(int(self.config.statement_timeout * 1000))))

    async def _migrate(self) -> None:
        """Apply the migrations this database lacks, one instance at a time (advisory transaction lock)."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, MIGRATION_LOCK))
            await conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.namespace)))
            await conn.execute(sql.SQL(MIGRATIONS_TABLE).format(schema=sql.Identifier(self.namespace)))
            cur = await conn.execute(self._sql["applied"])
            applied = {row[0] for row in await cur.fetchall()}
            known = MIGRATIONS[-1].version
            if applied and max(applied) > known:
                raise StoreUnavailableError(ERR_NEWER_SCHEMA.format(found=max(applied), known=known))
            self.created = not applied
            for migration in MIGRATIONS:
                if migration.version in applied:
                    continue
                await conn.execute(sql.SQL(migration.sql).format(schema=sql.Identifier(self.namespace)))
                await conn.execute(self._sql["record"], (migration.version, migration.name))
                log.warning("applied a storage migration", extra={
                    "event": "storage.migrated", "namespace": self.namespace, "version": migration.version})

    async def purge_tombstones(self) -> None:
        """Forget deletions older than ``tombstone_seconds``, raising the floor below which instances reload."""
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(self._sql["head_for_update"])
            await conn.execute(self._sql["purge"], (self.config.tombstone_seconds,))
        async with self._pool.connection() as conn:  # claims whose document was written since: settled
            await conn.execute(self._sql["resolved_claims"])

    async def heartbeat(self) -> int:
        """Say this instance is alive; count the instances that said so within ``HEARTBEAT_POLLS`` polls."""
        async with self._pool.connection() as conn:
            await conn.execute(self._sql["beat"], (self._instance_id,))
            cur = await conn.execute(self._sql["alive"], (self.config.poll_seconds * HEARTBEAT_POLLS,))
            row = await cur.fetchone()
        self._instances = max(1, int(row[0]) if row else 1)
        return self._instances

    def instances(self) -> int:
        """Instances whose heartbeat is recent (as of the last poll)."""
        return self._instances

    async def data_version(self) -> int | None:
        """The version of the data recorded in the database (``schema_versions``); None when none is."""
        async with self._pool.connection() as conn:
            row = await (await conn.execute(self._sql["data_version"])).fetchone()
        return int(row[0]) if row else None

    async def record_data_version(self, version: int) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(self._sql["record_data_version"], (version,))

    async def repair(self) -> list[str]:
        """Check the store's bookkeeping and tidy what needs no decision; one line per finding.

        PostgreSQL keeps the documents themselves consistent (a failed transaction leaves nothing), so what
        is checked is this engine's own bookkeeping: the schema version, that the head of the change
        sequence covers every document (instances catching up rely on it), and what is tidied is what
        only costs space: settled claims, expired tombstones and heartbeats of instances long gone.

        Raises:
            StoreUnavailableError: the database failed.
        """
        await self._run(self.purge_tombstones())
        async with self._pool.connection() as conn:
            cur = await conn.execute(self._sql["report"], (self.config.poll_seconds * HEARTBEAT_POLLS,))
            row = await cur.fetchone()
            gone = await conn.execute(self._sql["forget_silent"], (max(3600.0, self.config.poll_seconds * 100),))
        assert row is not None
        version, seq, max_seq, documents, tombstones, claims, alive = row
        lines = [f"schema version {version} (this bot knows {MIGRATIONS[-1].version})",
                 f"{documents} documents, {tombstones} deletions kept for other instances, {claims} claims held, "
                 f"{alive} instances alive; removed {gone.rowcount} heartbeats of instances gone"]
        if max_seq is not None and max_seq > seq:
            lines.append(f"damaged: a document carries change number {max_seq}, past the head ({seq})")
        return lines

    async def _poll(self) -> None:
        """Catch up every ``poll_seconds``; a failure is reported by :meth:`health`, and retried."""
        purge_every = max(60.0, self.config.tombstone_seconds / 4)
        waited = 0.0
        while not self._closed:
            await asyncio.sleep(self.config.poll_seconds)
            waited += self.config.poll_seconds
            with contextlib.suppress(StoreUnavailableError):
                await self.refresh()
                await self._run(self.heartbeat())
                if waited >= purge_every:
                    waited = 0.0
                    await self._run(self.purge_tombstones())

    async def close(self) -> None:
        """Wait for queued batches, stop catching up and close the connections."""
        if self._closed:
            return
        while self._committer is not None and not self._committer.done():
            await asyncio.gather(asyncio.shield(self._committer), return_exceptions=True)
        self._closed = True
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        with contextlib.suppress(psycopg.Error):  # the others stop counting this instance at once
            async with self._pool.connection(timeout=1) as conn:
                await conn.execute(self._sql["leave"], (self._instance_id,))
        await self._pool.close()

    def health(self) -> StoreHealth:
        """Ready while the last operation on the database succeeded."""
        if self._closed:
            detail = ERR_CLOSED
        elif self._failure:
            detail = f"{ERR_DATABASE} ({self._failure})"
        else:
            detail = DETAIL_OK
        return StoreHealth(ready=not self._closed and not self._failure,
                           path=f"{self.config.safe_target}#{self.namespace}", detail=detail)

    async def _run(self, operation: Any) -> Any:
        """Await a database operation; note success or failure for :meth:`health`.

        Raises:
            StoreUnavailableError: the database failed (the cause is chained).
        """
        try:
            result = await operation
        except psycopg.Error as exc:
            if not self._failure:
                log.error("the database failed; the store refuses work until it answers again",
                          extra={"event": "storage.database_failed", "reason": _reason(exc)})
            self._failure = _reason(exc)
            raise StoreUnavailableError(f"{ERR_DATABASE}: {_reason(exc)}") from exc
        if self._failure:
            log.warning("the database answers again", extra={"event": "storage.database_back"})
            self._failure = ""
        return result

    # ------------------------------------------------------------------------------- catch-up

    async def refresh(self) -> None:
        """Bring the in-memory view up to everything committed so far, by any instance.

        Raises:
            StoreUnavailableError: the database cannot be reached (the view stays as it was).
        """
        if self._closed:
            raise StoreUnavailableError(ERR_CLOSED)
        # Single flight: a caller needs a catch-up that began after it asked. Callers that ask while one is
        # running wait for the next, which serves all of them (50 turns at once cost two reads, not 50).
        self._asked += 1
        ticket = self._asked
        while self._served < ticket:
            if self._reading is None or self._reading.done():
                self._reading = asyncio.ensure_future(self._catch_up())
            await asyncio.shield(self._reading)

    async def _catch_up(self) -> None:
        """One catch-up read serving every request made before it began."""
        async with self._sync:
            covered = self._asked
            changes = await self._run(self._read_changes_once())
            self._publish(changes, [])
        self._served = max(self._served, covered)

    async def _read_changes_once(self) -> _Changes:
        async def attempt() -> _Changes:
            async with self._pool.connection() as conn:
                return await self._read_changes(conn)

        return await self._retrying(attempt)

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """``attempt()``, again on a fresh connection (up to ``retries`` times) while it failed on one the
        server dropped (a restart, a failover: the other idle connections died with it). The caller
        wraps the whole in :meth:`_run`, so a retry that succeeds is not a failure of the database."""
        for number in range(1, self.config.retries + 2):
            try:
                return await attempt()
            except psycopg.OperationalError as exc:
                if number > self.config.retries or not _stale(exc):
                    raise
                await self._retry_pause(number)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read_changes(self, conn: psycopg.AsyncConnection[Any]) -> _Changes:
        """The documents changed since this instance last looked (all of them if it fell below the floor),
        with the head they lead up to: one statement, so one snapshot."""
        cur = await conn.execute(self._sql["head_and_changes"], (self._seen, self._seen))
        records = await cur.fetchall()
        seq, guarded, floor = records[0][:3]
        full = (self._seen == 0 or floor > self._seen) and seq != self._seen
        if full:
            cur = await conn.execute(self._sql["head_and_all"])
            records = await cur.fetchall()
            seq, guarded, floor = records[0][:3]
        rows = [(r[3], r[4], r[5]) for r in records if r[3] is not None]
        return _Changes(seq, guarded, floor, rows, full)

    def _publish(self, changes: _Changes, committed: list[tuple[_Pending, int | None]]) -> None:
        """Apply others' changes, then this instance's committed batches, to memory in one go; settle futures."""
        if changes.seq > self._seen or changes.full:
            if changes.full:
                self._reset_tables()
                tables: dict[str, dict[str, Any]] = {}
                for table, doc_id, doc in changes.rows:
                    if doc is not None:
                        doc[ID_FIELD] = doc_id
                        tables.setdefault(table, {})[doc_id] = doc
                self._load_tables(tables)
            else:
                for table, doc_id, doc in changes.rows:
                    if doc is None:
                        self._delete(table, doc_id)
                    else:
                        doc[ID_FIELD] = doc_id
                        self._put(table, doc_id, doc)
            self._seen, self._guarded = changes.seq, changes.guarded
        for pending, seq in committed:
            if not seq:
                continue
            self._apply_in_memory(pending.ops)
            self.stats.batches += 1
            self._seen = max(self._seen, seq)
            if pending.guard is not None:
                pending.guard.expect = self._guarded = seq
        for pending, seq in committed:
            if pending.done.done():
                continue
            if seq is None:
                pending.done.set_exception(pending.error or StoreConflictError(ERR_CONFLICT))
            else:
                pending.done.set_result(None)

    def _reset_tables(self) -> None:
        """Empty memory before a full reload (every table's version moves on, never back)."""
        for name in list(self._tables):
            self._versions[name] = next(self._version_counter)
        self._tables.clear()
        for fields in self._index.values():
            for entries in fields.values():
                entries.clear()
        self._decoded.clear()

    # ----------------------------------------------------------------------------- mutations

    @contextlib.asynccontextmanager
    async def _mutation(self) -> AsyncIterator[None]:
        async with self._mutations:
            if self._closed:
                raise StoreUnavailableError(ERR_CLOSED)
            async with contextlib.AsyncExitStack() as stack:
                conn = await self._run(self._locked_connection(stack))
                try:
                    await self.refresh()
                    token = _GUARD.set(_Guard(self, self._guarded))
                    try:
                        yield
                    finally:
                        _GUARD.reset(token)
                finally:
                    try:
                        await conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, self._lock_key))
                    except psycopg.Error:  # closing the session is what surely releases its lock
                        await conn.close()

    async def _locked_connection(self, stack: contextlib.AsyncExitStack) -> psycopg.AsyncConnection[Any]:
        """A pooled connection holding the mutation lock (a connection the server dropped is replaced once)."""
        for attempt in range(1, self.config.retries + 2):
            inner = contextlib.AsyncExitStack()
            conn = await inner.enter_async_context(self._pool.connection())
            try:
                await conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_CLASS, self._lock_key))
            except psycopg.OperationalError as exc:
                await inner.aclose()
                if attempt > self.config.retries or not _stale(exc):
                    raise
                await self._retry_pause(attempt)
                continue
            stack.push_async_exit(inner)
            return conn
        raise AssertionError("unreachable")  # pragma: no cover

    def mutation_lock(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Serialize read-check-write across every instance on the database (see the module docstring)."""
        return _Reentry(self._mutation)

    # --------------------------------------------------------------------------------- writes

    async def apply(self, ops: Sequence[Op]) -> None:
        """Apply a batch atomically; committed (and visible here) before this returns.

        Raises:
            ValueError: the batch is malformed (nothing is written).
            StoreConflictError: a batch applied under :meth:`mutation_lock` whose view was stale.
            StoreUnavailableError: the database failed or the store is closed.
        """
        await self.submit(ops)

    def submit(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        """Queue a batch for the next transaction; the future resolves once it is committed and visible."""
        normalized = normalize_ops(ops)
        rows = _encode_rows(normalized)
        if self._closed:
            raise StoreUnavailableError(ERR_CLOSED)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not normalized:
            done.set_result(None)
            return done
        guard = _GUARD.get()
        self._enqueue(_Pending(normalized, rows, done, guard if guard is not None and guard.store is self else None))
        return done

    def _enqueue(self, pending: _Pending) -> None:
        self._queue.append(pending)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_queued())

    async def update_each(self, table: str, ids: Sequence[str],
                          change: Callable[[str, Document | None], Mapping[str, Any] | None]) -> list[Document]:
        """Read-modify-write on the newest versions, decided inside the commit's transaction (the head row
        is locked there, so no other instance's write lands in between); see ``DocumentStore.update_each``."""
        wanted = self._checked_ids(table, ids)
        if not wanted:
            return []
        pending = _Pending([], {}, asyncio.get_running_loop().create_future(), None, (table, wanted, change))
        self._enqueue(pending)
        await pending.done
        return pending.written

    def _checked_ids(self, table: str, ids: Sequence[str]) -> list[str]:
        """The ids of a read-modify-write or a claim, checked, while the store is open.

        Raises:
            StoreUnavailableError: the store is closed.
        """
        check_table(table)
        wanted = [check_doc_id(i) for i in ids]
        if self._closed:
            raise StoreUnavailableError(ERR_CLOSED)
        return wanted

    async def claim_each(self, table: str, ids: Sequence[str],
                         change: Callable[[str, Document | None], Mapping[str, Any] | None], *,
                         owner: str = "") -> list[Document]:
        """Claim documents beside them, outside the change sequence (see ``DocumentStore.claim_each``).

        One short transaction of its own (one round trip, then the claims' insert): lock the documents'
        rows ``FOR UPDATE SKIP LOCKED`` (a row another instance is claiming right now is skipped, not
        waited for), decide each claim with
        ``change`` on what claimers see (the held claim's version while its document has not been written
        since, else the document) and record the claims in ``store_claims``. The head of the change
        sequence is never locked, so instances claiming at once neither wait for each other nor for the
        group commit; the claim is resolved by the next write of its document (the outcome), which any
        later claimer sees first.

        Raises:
            StoreUnavailableError: the database failed (nothing was claimed) or the store is closed.
        """
        wanted = self._checked_ids(table, ids)
        if not wanted:
            return []
        claimed: list[Document] = await self._run(self._retrying(lambda: self._claim(table, wanted, change, owner)))
        return claimed

    async def _claim(self, table: str, ids: list[str],
                     change: Callable[[str, Document | None], Mapping[str, Any] | None], owner: str) -> list[Document]:
        claimed: list[Document] = []
        async with self._pool.connection() as conn, conn.transaction():
            # Lock first, then read in a statement of its own: its snapshot begins after the lock is held,
            # so it sees a claim another instance committed while holding that row (a read in the locking
            # statement would see the claims of the snapshot before the wait, and claim again).
            async with conn.pipeline():
                locking = await conn.execute(self._sql["lock_docs"], (table, ids))
                reading = await conn.execute(self._sql["claimable"], (table, ids))
                locked = {row[0] for row in await locking.fetchall()}
                rows = [row for row in await reading.fetchall() if row[0] in locked]
            claim_ids: list[str] = []
            seqs: list[int] = []
            texts: list[str] = []
            for doc_id, doc, seq, held, base_seq in rows:
                current = held if held is not None and base_seq >= seq else doc
                current[ID_FIELD] = doc_id
                new = change(doc_id, current)
                if new is None:
                    continue
                put = normalize_ops([Put(table, doc_id, new)])[0]
                text = _encode_rows([put])[(table, doc_id)]
                assert text is not None
                claim_ids.append(doc_id)
                seqs.append(seq)
                texts.append(text)
                claimed.append(clone(put[3]))
            if claim_ids:
                await conn.execute(self._sql["claim"], (table, owner, claim_ids, seqs, texts))
        return claimed

    async def _commit_queued(self) -> None:
        """Commit whatever is queued, group by group, until the queue is empty."""
        while self._queue:
            group, self._queue = self._queue, []
            async with self._sync:
                try:
                    changes, outcomes = await self._run(self._write_retrying(group))
                except Exception as exc:  # noqa: BLE001 - every waiter must hear why its batch failed
                    error = exc if isinstance(exc, StoreUnavailableError) else StoreUnavailableError(str(exc))
                    for pending in group:
                        if not pending.done.done():
                            pending.done.set_exception(error)
                    continue
                self._publish(changes, list(zip(group, outcomes, strict=True)))

    async def _write_retrying(self, group: list[_Pending]) -> tuple[_Changes, list[int | None]]:
        """:meth:`_write`, again on another connection (up to ``retries`` times) while it failed before
        sending any write (a connection the server dropped, e.g. after a restart: the pool does not test
        them on checkout)."""
        for attempt in range(1, self.config.retries + 2):
            progress: list[str] = []
            try:
                return await self._write(group, progress)
            except psycopg.OperationalError as exc:
                # writes that may have left: the next catch-up tells their outcome
                if progress or not _stale(exc) or attempt > self.config.retries:
                    raise
                await self._retry_pause(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _retry_pause(self, attempt: int) -> None:
        """Before retry ``attempt``: replace the pool's dead connections, after a pause from the second on
        (the server may be starting again)."""
        if attempt > 1:
            await asyncio.sleep(min(self.config.connect_timeout, RETRY_PAUSE * 2 ** (attempt - 2)))
        await self._pool.check()

    async def _write(self, group: list[_Pending], progress: list[str]) -> tuple[_Changes, list[int | None]]:
        """One transaction in two round trips (pipelined): lock the head and read others' changes and what
        conditional batches depend on; then write the batches, move the head and commit."""
        conditionals = [p for p in group if p.conditional is not None]
        async with self._pool.connection() as conn, conn.pipeline(), conn.transaction():
            head_cur = await conn.execute(self._sql["head_for_update"])
            changes_cur = await conn.execute(self._sql["docs_after"], (self._seen,))
            depends = [await conn.execute(self._sql["docs_of"], p.conditional[:2])  # type: ignore[index]  # set: see above
                       for p in conditionals]
            head = await head_cur.fetchone()
            assert head is not None
            seq, guarded, floor = head
            rows = await changes_cur.fetchall()
            stored = {id(p): {doc_id: doc for doc_id, doc in await cur.fetchall()}
                      for p, cur in zip(conditionals, depends, strict=True)}
            full = seq != self._seen and (self._seen == 0 or floor > self._seen)
            if full:
                rows = await (await conn.execute(self._sql["all_docs"])).fetchall()
            changes = _Changes(seq, guarded, floor, rows if seq != self._seen else [], full)
            overlay: dict[tuple[str, str], Document | None] = {}  # what earlier batches of the group write
            outcomes: list[int | None] = []
            tables: list[str] = []
            ids: list[str] = []
            docs: list[str | None] = []
            seqs: list[int] = []
            for pending in group:
                if pending.guard is not None and pending.guard.expect != guarded:
                    outcomes.append(None)
                    continue
                if pending.conditional is not None:
                    self._decide(pending, stored[id(pending)], overlay)
                    if pending.error is not None or not pending.ops:
                        outcomes.append(None if pending.error is not None else 0)
                        continue
                seq += 1
                if pending.guard is not None:
                    guarded = seq
                for op in pending.ops:
                    overlay[(op[1], op[2])] = op[3] if op[0] == "put" else None
                for (table, doc_id), text in pending.rows.items():
                    tables.append(table)
                    ids.append(doc_id)
                    docs.append(text)
                    seqs.append(seq)
                outcomes.append(seq)
            progress.append("writes sent")  # from here on (COMMIT included) a failure leaves the outcome unknown
            if seqs:
                await conn.execute(self._sql["upsert"], (tables, ids, docs, seqs))
                await conn.execute(self._sql["move_head"], (seq, guarded))
        return changes, outcomes

    @staticmethod
    def _decide(pending: _Pending, stored: dict[str, Any], overlay: dict[tuple[str, str], Document | None]) -> None:
        """Compute a conditional batch from the newest documents: those stored (the head is locked, so
        no other instance changes them) as changed by the batches before it in this transaction."""
        assert pending.conditional is not None
        table, ids, change = pending.conditional
        puts: list[Op] = []
        try:
            for doc_id in ids:
                if (table, doc_id) in overlay:
                    current = clone(overlay[(table, doc_id)])
                else:
                    current = stored.get(doc_id)
                    if current is not None:
                        current[ID_FIELD] = doc_id
                new = change(doc_id, current)
                if new is not None:
                    puts.append(Put(table, doc_id, new))
            pending.ops = normalize_ops(puts)
            pending.rows = _encode_rows(pending.ops)
        except Exception as exc:  # noqa: BLE001 - the caller's change failed: only its batch fails
            pending.error, pending.ops = exc, []
            return
        pending.written = [clone(op[3]) for op in pending.ops]


class _Reentry:
    """An async context manager that can be entered again and again (as ``asyncio.Lock`` can)."""

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._active: list[contextlib.AbstractAsyncContextManager[None]] = []

    async def __aenter__(self) -> None:
        manager = self._factory()
        await manager.__aenter__()
        self._active.append(manager)

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self._active.pop().__aexit__(*exc)


def _stale(exc: psycopg.OperationalError) -> bool:
    """Whether a pooled connection failed (the server dropped it), not the wait for one: worth one retry."""
    return not isinstance(exc, PoolTimeout)


def _reason(exc: BaseException) -> str:
    """One line about a database error, without the connection string."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_STATEMENTS = {
    "applied": "SELECT version FROM {schema}.store_migrations",
    "record": "INSERT INTO {schema}.store_migrations (version, name) VALUES (%s, %s)",
    "head_for_update": "SELECT seq, guarded, floor FROM {schema}.store_head FOR UPDATE",
    "docs_after": "SELECT tbl, id, doc FROM {schema}.store_documents WHERE seq > %s ORDER BY seq",
    "docs_of": "SELECT id, doc FROM {schema}.store_documents WHERE tbl = %s AND id = ANY(%s)",
    "all_docs": "SELECT tbl, id, doc FROM {schema}.store_documents WHERE doc IS NOT NULL",
    "head_and_changes": """
        SELECT h.seq, h.guarded, h.floor, d.tbl, d.id, d.doc
        FROM {schema}.store_head h
        LEFT JOIN {schema}.store_documents d ON d.seq > %s AND d.seq <= h.seq AND h.seq <> %s
        ORDER BY d.seq""",
    "head_and_all": """
        SELECT h.seq, h.guarded, h.floor, d.tbl, d.id, d.doc
        FROM {schema}.store_head h
        LEFT JOIN {schema}.store_documents d ON d.doc IS NOT NULL""",
    "lock_docs": """
        SELECT id FROM {schema}.store_documents WHERE tbl = %s AND id = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED""",
    "claimable": """
        SELECT d.id, d.doc, d.seq, c.doc, c.base_seq
        FROM {schema}.store_documents d
        LEFT JOIN {schema}.store_claims c ON c.tbl = d.tbl AND c.id = d.id
        WHERE d.tbl = %s AND d.id = ANY(%s) AND d.doc IS NOT NULL""",
    "claim": """
        INSERT INTO {schema}.store_claims (tbl, id, owner, base_seq, doc)
        SELECT %s, c.id, %s, c.seq, c.doc FROM unnest(%s::text[], %s::bigint[], %s::json[]) AS c(id, seq, doc)
        ON CONFLICT (tbl, id) DO UPDATE
        SET owner = EXCLUDED.owner, base_seq = EXCLUDED.base_seq, doc = EXCLUDED.doc, claimed_at = now()""",
    "resolved_claims": """
        DELETE FROM {schema}.store_claims c USING {schema}.store_documents d
        WHERE c.tbl = d.tbl AND c.id = d.id AND (d.seq > c.base_seq OR d.doc IS NULL)""",
    "upsert": """
        INSERT INTO {schema}.store_documents (tbl, id, doc, seq)
        SELECT * FROM unnest(%s::text[], %s::text[], %s::json[], %s::bigint[])
        ON CONFLICT (tbl, id) DO UPDATE SET doc = EXCLUDED.doc, seq = EXCLUDED.seq, changed_at = now()""",
    "beat": """
        INSERT INTO {schema}.store_instances (id) VALUES (%s)
        ON CONFLICT (id) DO UPDATE SET seen_at = now()""",
    "alive": "SELECT count(*) FROM {schema}.store_instances WHERE seen_at > now() - make_interval(secs => %s)",
    "leave": "DELETE FROM {schema}.store_instances WHERE id = %s",
    "data_version": "SELECT version FROM {schema}.store_data_version",
    "record_data_version": """
        INSERT INTO {schema}.store_data_version (version) VALUES (%s)
        ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version""",
    "forget_silent": "DELETE FROM {schema}.store_instances WHERE seen_at < now() - make_interval(secs => %s)",
    "report": """
        SELECT (SELECT max(version) FROM {schema}.store_migrations), h.seq,
               (SELECT max(seq) FROM {schema}.store_documents),
               (SELECT count(*) FROM {schema}.store_documents WHERE doc IS NOT NULL),
               (SELECT count(*) FROM {schema}.store_documents WHERE doc IS NULL),
               (SELECT count(*) FROM {schema}.store_claims),
               (SELECT count(*) FROM {schema}.store_instances
                WHERE seen_at > now() - make_interval(secs => %s))
        FROM {schema}.store_head h""",
    "move_head": "UPDATE {schema}.store_head SET seq = %s, guarded = %s",
    "purge": """
        WITH gone AS (
            DELETE FROM {schema}.store_documents
            WHERE doc IS NULL AND changed_at < now() - make_interval(secs => %s)
            RETURNING seq)
        UPDATE {schema}.store_head SET floor = GREATEST(floor, (SELECT max(seq) FROM gone))
        WHERE EXISTS (SELECT 1 FROM gone)""",
}
