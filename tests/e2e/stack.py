"""Start the real bot and the real Agents Playground as processes, the way a developer runs them.

Each e2e session gets a fresh data folder (the demo data is seeded on first start), free ports on
127.0.0.1 and the checked-in ``.m365agentsplayground.yml``. A process that cannot start fails the
session loudly with its log: the e2e suite never skips.

``Stack(workdir, person="leeg@contoso.com")`` starts the Playground *as* that demo person: the
Playground has no user switcher, so it reads a copy of the config whose ``currentUser`` is that
person and whose five ``users`` are the others (its schema wants exactly five, the current user
not among them).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests._common.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
PLAYGROUND_BIN = ROOT / "node_modules" / ".bin" / "agentsplayground"
PLAYGROUND_CONFIG = ROOT / ".m365agentsplayground.yml"
#: where a bot's log is kept when one of its turns failed (beside the screenshots: a test artifact)
FAILED_TURN_LOGS = Path(__file__).resolve().parent / "screenshots" / "bot-logs"
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class StackError(RuntimeError):
    """The bot or the Playground did not start; the message carries the reason and the log."""


def _get(url: str) -> str | None:
    try:
        with _LOCAL.open(url, timeout=1) as resp:
            return resp.read().decode()
    except OSError:
        return None


_PERSON_KEYS = ("id", "name", "userPrincipleName", "aadObjectId", "givenName", "surname", "email")


def _people(text: str) -> list[dict[str, str]]:
    """The current user then the five users of the checked-in config, as they are written there."""
    people: list[dict[str, str]] = []
    section = ""
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            section = line.split(":", 1)[0]
            if section == "currentUser":
                people.append({})
            continue
        found = re.match(r"^\s*(- )?(\w+): (.*)$", line)
        if section not in ("currentUser", "users") or not found:
            continue
        if found.group(1):
            people.append({})
        people[-1][found.group(2)] = found.group(3)
    return people


def config_as(email: str, text: str | None = None) -> str:
    """The Playground config with ``email`` as its current user and the other five as its users."""
    text = PLAYGROUND_CONFIG.read_text() if text is None else text
    people = _people(text)
    me = [p for p in people if p.get("email") == email]
    if len(me) != 1:
        raise StackError(f"{email} is not a person of {PLAYGROUND_CONFIG.name}: "
                         f"{[p.get('email') for p in people]}")
    others = [p for p in people if p is not me[0]]
    block = ["currentUser:", *(f"  {k}: {me[0][k]}" for k in _PERSON_KEYS), "users:"]
    for p in others:
        block += [f"  - {_PERSON_KEYS[0]}: {p[_PERSON_KEYS[0]]}", *(f"    {k}: {p[k]}" for k in _PERSON_KEYS[1:])]
    kept = []
    section = ""
    for line in text.splitlines():
        if line and not line.startswith((" ", "#")):
            section = line.split(":", 1)[0]
            if section == "currentUser":
                kept += block
        if section not in ("currentUser", "users"):
            kept.append(line)
    return "\n".join(kept) + "\n"


@dataclass
class Stack:
    """The bot (``python -m bot serve``) and the Playground pointing at it."""

    workdir: Path
    bot_port: int = 0
    playground_port: int = 0
    person: str | None = None
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def playground_url(self) -> str:
        return f"http://127.0.0.1:{self.playground_port}"

    @property
    def browser_url(self) -> str:
        return f"http://localhost:{self.playground_port}"

    def start(self) -> Stack:
        if not PLAYGROUND_BIN.exists():
            raise StackError(f"{PLAYGROUND_BIN} is missing: run `make node-deps` (make test does it)")
        try:
            self._start_bot()
            self._start_playground()
        except BaseException:
            self.stop()
            raise
        return self

    def state(self) -> str:
        """A name for the bot's data as it is now: its files' names, sizes and times."""
        files = sorted(p for p in self.data_dir.rglob("*") if p.is_file())
        state = [(str(p.relative_to(self.data_dir)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        return hashlib.sha1(repr(state).encode()).hexdigest()[:12]

    def snapshot(self) -> str:
        """Copy the bot's data folder as it is now, named by :meth:`state` (a state already copied is
        not copied again), to put back later with :meth:`restore`. A copy taken mid-write is what a
        crash leaves: the store's recovery reads it."""
        name = self.state()
        target = self.workdir / "snapshots" / name
        if not target.exists():
            shutil.copytree(self.data_dir, target)
        return name

    def restore(self, name: str) -> None:
        """Restart the bot, on the same port, on the data of snapshot ``name``: the Playground and the
        browser go on talking to it as if nothing happened."""
        bot = self.procs.pop(0)
        bot.terminate()
        bot.wait(timeout=10)
        shutil.rmtree(self.data_dir)
        shutil.copytree(self.workdir / "snapshots" / name, self.data_dir)
        self._start_bot(self.bot_port)

    def _start_bot(self, port: int = 0) -> None:
        self.bot_port = port or free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATA_DIR": str(self.data_dir), "PORT": str(self.bot_port),
               "HOST": "127.0.0.1", "SEED_DEMO": "true", "LOG_LEVEL": "INFO",
               "MicrosoftAppId": "", "MicrosoftAppPassword": "", "SSO_CONNECTION_NAME": ""}
        log = open(self.workdir / "bot.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=self.workdir, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        self.procs.insert(0, proc)
        self._wait(f"http://127.0.0.1:{self.bot_port}/readyz", proc, self.workdir / "bot.log")

    def _start_playground(self) -> None:
        wanted = free_port()
        config_path = PLAYGROUND_CONFIG
        if self.person:
            config_path = self.workdir / "playground-as.yml"
            config_path.write_text(config_as(self.person))
        env = {**os.environ, "TEAMSAPPTESTER_BROWSER": "none",
               "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(config_path)}
        log_path = self.workdir / "playground.out"
        log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [str(PLAYGROUND_BIN), "-e", f"http://127.0.0.1:{self.bot_port}/api/messages", "-c", "msteams",
             "--disable-telemetry", "-p", str(wanted)],
            cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        # it silently takes another port when ours was taken meanwhile: read the one it announces
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self.playground_port:
            found = re.search(r"Listening on (\d+)", log_path.read_text(errors="replace"))
            if found:
                self.playground_port = int(found.group(1))
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.1)
        if not self.playground_port:
            raise StackError("the Agents Playground did not start:\n" + self._logs(log_path))
        self._wait(f"{self.playground_url}/_debug/ping", proc, log_path)
        config = _get(f"{self.playground_url}/_internal/v1/testConfig") or ""
        if "Partner Benefits" not in config:
            raise StackError("the Playground did not load .m365agentsplayground.yml:\n" + self._logs(log_path))

    def _wait(self, url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise StackError(f"{proc.args} exited with {proc.returncode}:\n" + self._logs(log_path))
            if _get(url) is not None:
                # the Playground exits just after "Listening" when its config is invalid
                if proc.poll() is None:
                    return
            time.sleep(0.1)
        raise StackError(f"{url} did not answer within {timeout:.0f} s:\n" + self._logs(log_path))

    def _logs(self, path: Path) -> str:
        texts = [path.read_text(errors="replace")[-4000:] if path.exists() else ""]
        devtools = self.workdir / "devTools" / "m365agentsplayground.log"
        if devtools.exists():
            texts.append(devtools.read_text(errors="replace")[-4000:])
        return "\n".join(texts)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        self._keep_log_of_failed_turns()

    def _keep_log_of_failed_turns(self) -> None:
        """A turn that failed (the person got an apology) leaves the bot's log among the artifacts: the
        test's temp folder, where it is, does not outlive the next runs."""
        log = self.workdir / "bot.log"
        if log.exists() and "turn failed" in log.read_text(errors="replace"):
            FAILED_TURN_LOGS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, FAILED_TURN_LOGS / f"{self.workdir.parent.name}-{self.workdir.name}.log")
