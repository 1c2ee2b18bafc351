"""The lean HTTP/1.1 client of the Bot Connector (``bot.sdk.http1``) against scripted services on loopback:
each test's service reads the request as a server does and answers with the bytes the test gives."""

from __future__ import annotations

import asyncio
import gzip
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.sdk.http1 import MAX_HEAD, Disconnected, Http1Pool, ProtocolError
from tests._common.fake_identity import new_key, self_signed
from tests._common.stream_service import StreamService, answer_once_and_close

Answer = Callable[[bytes, int], Awaitable[bytes | None]]


def ok(body: bytes = b'{"id": "1"}', extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body), extra, body)


class Service(StreamService):
    """Reads each request (head and Content-Length body) and writes what ``answer(request, connection
    number)`` returns; None closes the connection without an answer."""

    def __init__(self, answer: Answer, tls: ssl.SSLContext | None = None) -> None:
        self.answer = answer
        self.tls = tls
        self.requests: list[tuple[int, bytes]] = []
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.closed_by_client: list[int] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number = self.connections
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                request = head + await reader.readexactly(length)
                self.requests.append((number, request))
                answer = await self.answer(request, number)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
        except asyncio.IncompleteReadError:
            self.closed_by_client.append(number)
        except ConnectionError:
            pass
        finally:
            self.open -= 1
            writer.close()


def always(data: bytes) -> Answer:
    async def answer(request: bytes, number: int) -> bytes:
        return data
    return answer


@pytest.fixture
async def http() -> AsyncIterator[Http1Pool]:
    pool = Http1Pool(user_agent="tests/1.0")
    yield pool
    await pool.close()


async def test_a_request_is_one_http11_message_with_its_host_length_and_headers(http: Http1Pool) -> None:
    async with Service(always(ok())) as service:
        answer = await http.request("POST", f"{service.url}/v3/conversations/a%3A1/activities?x=1#frag",
                                    {"Authorization": "Bearer t", "Content-Type": "application/json"}, b'{"a": 1}')
    assert (answer.status, answer.reason, answer.body) == (200, "OK", b'{"id": "1"}')
    assert answer.headers["content-type"] == "application/json"
    head, _, body = service.requests[0][1].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /v3/conversations/a%3A1/activities?x=1 HTTP/1.1"
    port = service.url.rsplit(":", 1)[1]
    assert set(lines[1:]) == {f"Host: 127.0.0.1:{port}", "User-Agent: tests/1.0", "Authorization: Bearer t",
                              "Content-Type: application/json", "Content-Length: 8"}
    assert body == b'{"a": 1}'


async def test_kept_alive_connections_are_reused(http: Http1Pool) -> None:
    async with Service(always(ok())) as service:
        for _ in range(5):
            await http.request("GET", f"{service.url}/x", {})
        await asyncio.gather(*(http.request("GET", f"{service.url}/y", {}) for _ in range(4)))
        await asyncio.gather(*(http.request("GET", f"{service.url}/y", {}) for _ in range(4)))
    assert len(service.requests) == 13
    assert service.connections == 4  # the sequential ones on one, the concurrent ones on four at most


async def test_connections_idle_longer_than_the_keepalive_are_not_reused() -> None:
    pool = Http1Pool(user_agent="t", keepalive_s=0.0)
    async with Service(always(ok())) as service:
        for _ in range(3):
            await pool.request("GET", f"{service.url}/x", {})
        await pool.close()
    assert service.connections == 3


@pytest.mark.parametrize("extra", [b"Connection: close\r\n", b"Keep-Alive: timeout=1\r\n"],
                         ids=["connection-close", "keepalive-1s"])
async def test_a_service_that_says_it_closes_gets_a_new_connection(http: Http1Pool, extra: bytes) -> None:
    async with Service(always(ok(extra=extra))) as service:
        for _ in range(3):
            assert (await http.request("GET", f"{service.url}/x", {})).status == 200
    assert service.connections == 3


async def test_an_http10_answer_without_keep_alive_is_not_reused(http: Http1Pool) -> None:
    async with Service(always(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")) as service:
        for _ in range(2):
            assert (await http.request("GET", f"{service.url}/x", {})).body == b"ok"
    assert service.connections == 2


async def test_a_chunked_answer_is_read_whole_however_it_arrives(http: Http1Pool) -> None:
    wire = (b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: 1\r\n\r\n")
    async with Service(always(wire)) as service:
        answer = await http.request("POST", f"{service.url}/x", {}, b"{}")
    assert (answer.status, answer.body) == (201, b"hello world")

    async with answer_once_and_close(*(wire[i:i + 1] for i in range(len(wire))), pause_s=0.001) as url:
        answer = await http.request("GET", f"{url}/x", {})  # each byte its own segment
    assert (answer.status, answer.body) == (201, b"hello world")


async def test_a_body_up_to_the_close_is_read_and_the_connection_not_reused(http: Http1Pool) -> None:
    async with answer_once_and_close(b"HTTP/1.1 200 OK\r\n\r\nall of it") as url:
        assert (await http.request("GET", f"{url}/x", {})).body == b"all of it"
        assert (await http.request("GET", f"{url}/x", {})).body == b"all of it"
    assert http.opened == 2


async def test_an_interim_100_continue_is_skipped(http: Http1Pool) -> None:
    async with Service(always(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"done"))) as service:
        answer = await http.request("POST", f"{service.url}/x", {}, b"{}")
    assert (answer.status, answer.body) == (200, b"done")


async def test_statuses_without_a_body_end_at_their_head(http: Http1Pool) -> None:
    async with Service(always(b"HTTP/1.1 204 No Content\r\n\r\n")) as service:
        for _ in range(2):
            answer = await http.request("DELETE", f"{service.url}/x", {})
            assert (answer.status, answer.body) == (204, b"")
    assert service.connections == 1


async def test_a_gzip_body_is_read_although_not_asked_for(http: Http1Pool) -> None:
    body = gzip.compress(b'{"id": "z"}')
    async with Service(always(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
                              % (len(body), body))) as service:
        assert (await http.request("GET", f"{service.url}/x", {})).body == b'{"id": "z"}'
    assert b"accept-encoding" not in service.requests[0][1].lower()


@pytest.mark.parametrize("wire", [
    b"SPDY/3 200 OK\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 1\r\n\r\nx",
    b"HTTP/1.1 200 OK\r\nX: " + b"a" * (MAX_HEAD + 10),
], ids=["not-http", "status", "length-text", "length-huge", "header", "transfer-coding", "chunk-size",
        "chunk-end", "content-coding", "head-too-large"])
async def test_answers_it_cannot_read_fail_the_request_and_close_the_connection(http: Http1Pool, wire: bytes
                                                                                 ) -> None:
    async with Service(always(wire)) as service:
        with pytest.raises(ProtocolError):
            await http.request("GET", f"{service.url}/x", {})
        await asyncio.sleep(0.05)
        assert service.closed_by_client == [1]  # closed, never reused
    assert http.idle_count() == 0


async def test_a_connection_closed_before_any_answer_is_disconnected(http: Http1Pool) -> None:
    async def close(request: bytes, number: int) -> None:
        return None

    async with Service(close) as service:
        with pytest.raises(Disconnected):
            await http.request("POST", f"{service.url}/x", {}, b"{}")


async def test_a_connection_closed_in_the_middle_of_an_answer_is_not_disconnected(http: Http1Pool) -> None:
    async with answer_once_and_close(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nonly some") as url:
        with pytest.raises(ProtocolError) as raised:  # the request may have been handled: not to be resent
            await http.request("POST", f"{url}/x", {}, b"{}")
    assert not isinstance(raised.value, Disconnected)


async def test_a_service_that_does_not_answer_in_time_fails_the_request_and_loses_the_connection() -> None:
    pool = Http1Pool(user_agent="t", timeout_s=0.2)
    hold = asyncio.Event()

    async def never(request: bytes, number: int) -> bytes:
        await hold.wait()
        return ok()

    async with Service(never) as service:
        with pytest.raises(TimeoutError):
            await pool.request("GET", f"{service.url}/x", {})
        assert pool.idle_count() == 0
        hold.set()
        await pool.close()


async def test_a_cancelled_request_leaves_no_connection_to_reuse(http: Http1Pool) -> None:
    started = asyncio.Event()

    async def slow(request: bytes, number: int) -> bytes:
        started.set()
        await asyncio.sleep(0.3)
        return ok()

    async with Service(slow) as service:
        task = asyncio.create_task(http.request("GET", f"{service.url}/x", {}))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await http.request("GET", f"{service.url}/x", {})).status == 200
    assert service.connections == 2  # the late answer on the first connection is never read as the second's


async def test_bytes_nobody_asked_for_close_an_idle_connection(http: Http1Pool) -> None:
    async def answer_twice(request: bytes, number: int) -> bytes:
        return ok() + ok(b"stray")

    async with Service(answer_twice) as service:
        assert (await http.request("GET", f"{service.url}/x", {})).body == b'{"id": "1"}'
        await asyncio.sleep(0.05)
        assert (await http.request("GET", f"{service.url}/x", {})).body == b'{"id": "1"}'
    assert service.connections == 2


async def test_at_most_limit_connections_are_open_at_once() -> None:
    pool = Http1Pool(user_agent="t", limit=2)

    async def slow(request: bytes, number: int) -> bytes:
        await asyncio.sleep(0.02)
        return ok()

    async with Service(slow) as service:
        await asyncio.gather(*(pool.request("GET", f"{service.url}/x", {}) for _ in range(8)))
        await pool.close()
    assert len(service.requests) == 8 and service.most_open <= 2


async def test_a_fresh_request_uses_a_new_connection_and_closes_it(http: Http1Pool) -> None:
    async with Service(always(ok())) as service:
        await http.request("GET", f"{service.url}/x", {})
        await http.request("GET", f"{service.url}/x", {}, fresh=True)
        await asyncio.sleep(0.05)
        assert b"Connection: close" in service.requests[1][1]
        assert service.connections == 2 and service.closed_by_client == [2]


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x", "http:///x", "x"])
async def test_urls_it_does_not_send_to_are_refused(http: Http1Pool, url: str) -> None:
    with pytest.raises(ValueError):
        await http.request("GET", url, {})


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A service's TLS context for 127.0.0.1 and a client context trusting only its certificate."""
    from cryptography.hazmat.primitives import serialization

    key = new_key()
    cert, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_bytes(self_signed(key))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key_file)
    return server, ssl.create_default_context(cafile=str(cert))


async def test_https_verifies_the_service_and_reuses_the_connection(tls: tuple[ssl.SSLContext, ssl.SSLContext]
                                                                    ) -> None:
    server, trusting = tls
    async with Service(always(ok()), tls=server) as service:
        pool = Http1Pool(user_agent="t", ssl_context=trusting)
        for _ in range(3):
            assert (await pool.request("POST", f"{service.url}/x", {}, b"{}")).status == 200
        await pool.close()
        assert service.connections == 1
        untrusting = Http1Pool(user_agent="t")  # the system's trust store does not know the service
        with pytest.raises(ssl.SSLCertVerificationError):
            await untrusting.request("POST", f"{service.url}/x", {}, b"{}")
        await untrusting.close()


async def test_a_request_waiting_for_a_connection_keeps_to_its_time_limit_too() -> None:
    pool = Http1Pool(user_agent="t", limit=1, timeout_s=0.2)
    hold = asyncio.Event()

    async def never(request: bytes, number: int) -> bytes:
        await hold.wait()
        return ok()

    async with Service(never) as service:
        results = await asyncio.gather(*(pool.request("GET", f"{service.url}/x", {}) for _ in range(2)),
                                       return_exceptions=True)
        assert [type(r) for r in results] == [TimeoutError, TimeoutError]  # neither waits past its limit
        hold.set()
        await pool.close()


@pytest.mark.parametrize(("url", "headers"), [("{}/a b", {}), ("{}/a\r\nX: 1", {}),
                                               ("{}/a", {"Authorization": "Bearer t\r\nX-Injected: 1"})],
                         ids=["space", "line-break-in-target", "line-break-in-header"])
async def test_a_request_that_would_split_is_refused_before_it_is_sent(http: Http1Pool, url: str,
                                                                         headers: dict[str, str]) -> None:
    async with Service(always(ok())) as service:
        with pytest.raises(ValueError):
            await http.request("GET", url.format(service.url), headers)
    assert service.requests == []


async def test_an_interim_answer_then_a_close_is_not_disconnected(http: Http1Pool) -> None:
    async with answer_once_and_close(b"HTTP/1.1 100 Continue\r\n\r\n") as url:
        with pytest.raises(ProtocolError) as raised:  # the service had the request: it is not sent again
            await http.request("POST", f"{url}/x", {}, b"{}")
    assert not isinstance(raised.value, Disconnected)
