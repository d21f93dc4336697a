"""A DNS answer for the made-up hosts the unit tests download from (``cdn.test`` resolves nowhere here).

The download guard looks every video host up before it connects; these tests fake the HTTP boundary with
``httpx.MockTransport``, so nothing is ever sent to the address it names.
"""

from __future__ import annotations

#: A public address (it passes the guard); MockTransport answers in its place, so no packet goes there.
PUBLIC_ADDRESS = "93.184.215.14"


def public_resolver(host: str, port: int) -> list[str]:
    return [PUBLIC_ADDRESS]
