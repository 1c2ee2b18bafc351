"""A throw-away PostgreSQL server for the tests: a real one, started once per test session.

``initdb`` in a temp folder, the server on a free loopback port with its unix socket in that folder,
stopped (and the folder removed) when the session ends. PostgreSQL refuses to run as root, and CI
runs as root: the server then runs as the ``postgres`` user (Debian's package creates it) or, failing
that, ``nobody``. Where the binaries are missing and we are root, Debian's ``postgresql`` package is
installed first (``make pg-deps`` does the same before the suite). ``fsync`` is off: the tests stop
the server with ``-m immediate`` (a crash of the server, not of the machine), which loses nothing
committed either way.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._common.loopback import free_port

_names = itertools.count(1)


def _bin_dir() -> Path:
    """The folder of ``initdb``/``pg_ctl``, installing Debian's ``postgresql`` if root and it is missing."""
    for attempt in range(2):
        found = shutil.which("initdb")
        if found:
            return Path(os.path.realpath(found)).parent
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
        if versions:
            return Path(versions[-1]).parent
        if attempt or os.geteuid() != 0 or not shutil.which("apt-get"):
            break
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env, capture_output=True)
    raise RuntimeError("PostgreSQL is not installed: run `make pg-deps` (Debian's postgresql package)")


class PgCluster:
    """One server: ``dsn()`` connects to its ``postgres`` database, ``new_database()`` makes a fresh one."""

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        """fsync on (benchmarks measure durable writes); off for the tests, whose crashes are the server's."""
        self.bin = _bin_dir()
        self.folder = Path(tempfile.mkdtemp(prefix="pgtest-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self._user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            names = [u.pw_name for u in pwd.getpwall()]
            self._user = pwd.getpwnam("postgres" if "postgres" in names else "nobody")
            os.chown(self.folder, self._user.pw_uid, self._user.pw_gid)
            self.folder.chmod(0o755)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self._user is not None:
            kwargs = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": str(self.folder)}
        return subprocess.run([str(self.bin / args[0]), *args[1:]], check=check, capture_output=True, text=True,
                              env=env, cwd=self.folder, timeout=120, **kwargs)

    def start(self) -> PgCluster:
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8",
                      "--locale=C")
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   f"-c fsync={'on' if self.durable else 'off'} -c max_connections=200 -c shared_buffers=32MB")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "-t", "60",
                  "-o", options, "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop", check=False)

    def restart(self, mode: str = "immediate") -> None:
        """Stop the server (``immediate``: as if it crashed) and start it again on the same port."""
        self.stop(mode)
        self.start()

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"test_{os.getpid()}_{next(_names)}"
        self.psql(f"CREATE DATABASE {name}")
        return self.dsn(name)

    def psql(self, statement: str, dbname: str = "postgres") -> str:
        done = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
                               str(self.port), "-U", "postgres", "-d", dbname, "-c", statement],
                              check=True, capture_output=True, text=True, timeout=60)
        return done.stdout.strip()

    def cleanup(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """The session's PostgreSQL server (started on first use)."""
    cluster = PgCluster()
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        log = cluster.folder / "server.log"
        cluster.cleanup()
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log.read_text() if log.exists() else ''}"
                           ) from exc
    yield cluster
    cluster.cleanup()


def unique_namespace() -> str:
    """A namespace (schema) no other test of this session uses."""
    return f"t{os.getpid()}_{next(_names)}"
