"""The CLI's calls to the running bot on 127.0.0.1 (it holds the data folder while it runs)."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

#: loopback requests must not go through a proxy from the environment
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call_running_bot(request: urllib.request.Request, port: int, timeout: float) -> bytes | int:
    """The body of the running bot's answer, or an exit status after saying why there is none:
    1 the bot refused (its answer is printed), 3 nothing answers on the port."""
    try:
        with LOCAL.open(request, timeout=timeout) as resp:
            return bytes(resp.read())
    except urllib.error.HTTPError as exc:
        print(f"error: the bot answered {exc.code}: {exc.read().decode('utf-8', 'replace')}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: the data folder is locked but the bot does not answer on 127.0.0.1:{port}: {exc}",
              file=sys.stderr)
        return 3
