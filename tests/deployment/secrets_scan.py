"""Where the deployment suite looks for the API key: text in every form it could leak in."""

from __future__ import annotations

import base64

from tests.deployment.conftest import API_KEY
from tests.deployment.harness import Deployment

NEEDLES = {
    "the API key": API_KEY,
    "the API key without its prefix": API_KEY.split("-")[-1],
    "the API key in base64": base64.b64encode(API_KEY.encode()).decode().rstrip("="),
}


def leaks_in(name: str, text: str) -> list[str]:
    return [f"{label} in {name}" for label, needle in NEEDLES.items() if needle in text]


def home_texts(deploy: Deployment) -> dict[str, str]:
    """Every file under the deployment's home but the videos: component logs, task logs, configuration."""
    files = [p for p in deploy.home.rglob("*") if p.is_file() and p.suffix not in (".mp4", ".part")]
    return {str(p.relative_to(deploy.home)): p.read_text(errors="replace") for p in files}


def redis_texts(url: str) -> dict[str, str]:
    """Every key left in a Redis database (a Celery broker's queues, bindings, unacked messages) as text."""
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
            values = [b"%s=%s" % pair for pair in client.hgetall(key).items()]
        elif kind == "set":
            values = list(client.smembers(key))
        elif kind == "zset":
            values = list(client.zrange(key, 0, -1))
        else:
            values = []
        texts[f"redis key {key.decode(errors='replace')}"] = b"\n".join(values).decode(errors="replace")
    return texts
