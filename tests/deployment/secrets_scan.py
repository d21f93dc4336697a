"""Where the deployment suite looks for the API key: text in every form it could leak in."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.deployment.conftest import API_KEY
from tests.deployment.harness import Deployment


def base64_needles(secret: bytes) -> list[str]:
    """The secret as it reads inside any base64 text: at each of the three byte offsets it can start on,
    the characters it alone decides (those it shares with its neighbours are left off)."""
    needles = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + secret).decode()
        first, end = -(-8 * shift // 6), 8 * (shift + len(secret)) // 6
        needles.append(encoded[first:end])
    return needles


NEEDLES = {
    "the API key": API_KEY,
    "the API key without its prefix": API_KEY.split("-")[-1],
    **{f"the API key in base64 (offset {n})": needle for n, needle in enumerate(base64_needles(API_KEY.encode()))},
    # PostgreSQL prints bytea (Celery's pickled results) as hex
    "the API key in hex": API_KEY.encode().hex(),
}


def leaks_in(name: str, text: str) -> list[str]:
    return [f"{label} in {name}" for label, needle in NEEDLES.items() if needle in text]


def home_texts(deploy: Deployment) -> dict[str, str]:
    """Every file under the deployment's home but the videos: component logs, task logs, configuration."""
    files = [p for p in deploy.home.rglob("*") if p.is_file() and p.suffix not in (".mp4", ".part")]
    return {str(p.relative_to(deploy.home)): p.read_text(errors="replace") for p in files}


def _message_bodies(value: Any) -> list[str]:
    """The decoded bodies of the kombu messages in a JSON value (a queued message, or an unacked entry)."""
    found: list[str] = []
    if isinstance(value, dict):
        body = value.get("body")
        if isinstance(body, str) and (value.get("properties") or {}).get("body_encoding") == "base64":
            found.append(base64.b64decode(body).decode(errors="replace"))
        for item in value.values():
            found += _message_bodies(item)
    elif isinstance(value, list):
        for item in value:
            found += _message_bodies(item)
    return found


def _as_text(raw: bytes) -> str:
    text = raw.decode(errors="replace")
    try:
        return "\n".join([text, *_message_bodies(json.loads(text))])
    except ValueError:
        return text


def redis_texts(url: str) -> dict[str, str]:
    """Every key left in a Redis database (a Celery broker's queues, bindings, unacked messages) as text, with
    each kombu message's base64 body decoded."""
    import redis

    client = redis.Redis.from_url(url)
    texts: dict[str, str] = {}
    for key in client.scan_iter():
        kind = client.type(key).decode()
        if kind == "string":
            values = [client.get(key) or b""]
        elif kind == "list":
            values = list(client.lrange(key, 0, -1))
        elif kind == "hash":
            values = [part for pair in client.hgetall(key).items() for part in pair]
        elif kind == "set":
            values = list(client.smembers(key))
        elif kind == "zset":
            values = list(client.zrange(key, 0, -1))
        else:
            values = []
        texts[f"redis key {key.decode(errors='replace')}"] = "\n".join(_as_text(v) for v in values)
    return texts
