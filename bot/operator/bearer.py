"""The check shared by the operator endpoints: a bearer secret, and an HMAC of the body when one is sent.

Both compare in constant time, so a wrong secret takes as long to refuse as a nearly right one. A
secret that is not set turns its endpoint off; that is each endpoint's own answer (503), not this
check's.
"""

from __future__ import annotations

import hashlib
import hmac

#: the addresses a loopback-only endpoint answers
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def authenticated(secret: str, authorization: str, signature: str | None = None, body: bytes = b"") -> bool:
    """``Authorization: Bearer <secret>``; when ``signature`` is sent, also ``sha256=<hex>`` of ``body``."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), secret.encode()):
        return False
    if signature is not None:
        return hmac.compare_digest(signature.strip().lower().encode(), sign(secret, body).encode())
    return True


def sign(secret: str, body: bytes) -> str:
    """The ``X-Signature`` value of ``body`` under ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
