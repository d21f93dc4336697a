"""Untrusted input at the edges (issue 19), pure parts: the download guard's decisions, callback hosts in
every spelling, the literal match of stale temporaries, escaped review Markdown, and a property that no
vendor error body makes a message carry the key or run past its bound."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_seedance.contract._urls import check_callback_resolves, check_callback_url, internal_reason
from airflow_provider_seedance.contract._vendor_text import MAX_VENDOR_TEXT, scrub
from airflow_provider_seedance.contract.review import markdown_text, review_request
from airflow_provider_seedance.exceptions import SeedanceAPIError, SeedanceGenerationError, SeedanceValidationError
from airflow_provider_seedance.hooks.seedance import MIN_DOWNLOAD_S, SeedanceHook, transfer_deadline
from airflow_provider_seedance.runtime.download_guard import DownloadRefused, FetchRules, GuardedTransport
from airflow_provider_seedance.runtime.storage import VideoWriter, is_part_of, save_stream

MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 1000
KEY = "sk-prop-WOMBAT-19f3e2a7c4"

# -- the download guard --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.9", "private"),
        ("172.16.5.5", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "CGNAT (shared address space)"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:10.0.0.1", "private"),
        ("fd00::1", "private"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_internal_addresses_are_named_and_public_ones_pass(address: str, reason: str | None) -> None:
    import ipaddress

    assert internal_reason(ipaddress.ip_address(address)) == reason


def test_the_guard_connects_to_the_address_it_checked_keeping_the_host_name() -> None:
    """No second DNS lookup: the request that leaves goes to the checked address, Host and SNI unchanged."""
    lookups: list[str] = []
    sent: list[httpx.Request] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["93.184.215.14"]

    def wire(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, content=b"ok")

    rules = FetchRules("https://api.example", resolver=resolver)
    with httpx.Client(transport=GuardedTransport(rules, sync_transport=httpx.MockTransport(wire))) as client:
        client.get("https://cdn.example/v.mp4")
    assert lookups == ["cdn.example"]
    assert sent[0].url.host == "93.184.215.14" and sent[0].headers["host"] == "cdn.example"
    assert sent[0].extensions["sni_hostname"] == "cdn.example"


def test_a_name_resolving_to_any_internal_address_is_refused() -> None:
    rules = FetchRules("https://api.example", resolver=lambda host, port: ["93.184.215.14", "10.0.0.5"])
    with pytest.raises(DownloadRefused, match=r"resolves to 10\.0\.0\.5, a private address"):
        rules.check(httpx.URL("https://cdn.example/v.mp4"), rules.resolve(httpx.URL("https://cdn.example/v.mp4")))


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("http://127.0.0.1:8080/files/v.mp4", True),  # the API's own origin
        ("http://127.0.0.1:8081/files/v.mp4", False),  # another port is another origin
        ("https://127.0.0.1:8080/files/v.mp4", False),  # and so is another scheme
        ("https://videos.corp.example/v.mp4", True),
        ("https://a.cdn.corp.example/v.mp4", True),
        ("https://cdn.corp.example.evil/v.mp4", False),
        ("http://minio.local:9000/v.mp4", True),
        ("http://minio.local:9001/v.mp4", False),
        ("ftp://videos.corp.example/v.mp4", False),
    ],
)
def test_trusted_hosts_are_the_api_origin_and_the_connections_download_hosts(url: str, trusted: bool) -> None:
    rules = FetchRules("http://127.0.0.1:8080/v1", ("videos.corp.example", "*.cdn.corp.example", "minio.local:9000"))
    assert rules.trusted(httpx.URL(url)) is trusted


@pytest.mark.parametrize(
    ("now", "task_deadline", "download_timeout", "expected"),
    [
        (1000.0, 5000.0, None, 5000.0),  # the task's deadline
        (1000.0, 1010.0, None, 1000.0 + MIN_DOWNLOAD_S),  # but never less than the minimum
        (1000.0, None, None, 1900.0),  # no deadline known: the default
        (1000.0, 5000.0, 30.0, 1030.0),  # the task's own download_timeout wins
    ],
)
def test_the_transfer_deadline(now, task_deadline, download_timeout, expected) -> None:
    assert transfer_deadline(now, task_deadline, download_timeout) == expected


def test_download_hosts_must_be_host_names(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "seedance", "password": KEY, "extra": {"download_hosts": ["https://cdn.example/x"]}}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_HOSTS", json.dumps(conn))
    with pytest.raises(SeedanceValidationError, match=r"extra\.download_hosts.*not a URL"):
        _ = SeedanceHook("seedance_hosts").settings


# -- callback_url in every spelling ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f000001",
        "0x7f.0.0.1",
        "0177.0.0.1",
        "0",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:a9fe:a9fe]",
        "localhost.",
        "LOCALHOST",
        "api.localhost",
        "169.254.169.254",
        "metadata.google.internal",
        "metadata.google.internal.",
        "instance-data",
        "10.0.0.1",
        "100.64.0.1",
        "db.internal",
    ],
)
def test_a_callback_to_an_internal_host_is_refused_in_every_spelling(host: str) -> None:
    with pytest.raises(SeedanceValidationError, match="callback_url"):
        check_callback_url(f"https://{host}/hook")


@pytest.mark.parametrize("host", ["hooks.example.com", "8.8.8.8", "1e100.net", "0xdead.example", "[2606:4700::1111]"])
def test_a_callback_to_a_public_host_passes(host: str) -> None:
    check_callback_url(f"https://{host}/hook")


def test_a_callback_name_resolving_to_an_internal_address_is_refused_before_the_create() -> None:
    with pytest.raises(SeedanceValidationError, match=r"resolves to 10\.1\.2\.3"):
        check_callback_resolves("https://hooks.example.com/x", lambda host, port: ["10.1.2.3"])
    check_callback_resolves("https://hooks.example.com/x", lambda host, port: ["93.184.215.14"])

    def no_dns(host: str, port: int) -> list[str]:
        raise OSError("no DNS here")

    check_callback_resolves("https://hooks.example.com/x", no_dns)  # left to the vendor


# -- stale temporaries matched literally -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["*.mp4", "v?.mp4", "v[1].mp4", "[a-z]*.mp4"])
def test_cleaning_up_stale_parts_never_touches_another_files_temporaries(tmp_path: Path, name: str) -> None:
    others = [".other.mp4.0.part", ".v1.mp4.1.part", ".v1.mp4.0123456789abcdef0123456789abcdef.part"]
    for other in others:
        (tmp_path / other).write_bytes(b"someone else's")
    mine = [tmp_path / f".{name}.0.part", tmp_path / f".{name}.1.part"]  # two attempts killed mid-save
    for part in mine:
        part.write_bytes(b"killed mid-save")
    save_stream([MP4], tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*others, name])


def test_attempts_at_one_destination_never_share_a_temporary_file(tmp_path: Path) -> None:
    """Each attempt writes its own numbered part (created exclusively); the first to commit removes the
    others' (the destination holds a verified video), and the one still writing then fails to commit, even
    one allowed to replace the file."""
    target = tmp_path / "v.mp4"
    first, second = VideoWriter(target, replace=True), VideoWriter(target)
    with first, second:
        assert (first.temporary.name, second.temporary.name) == (".v.mp4.0.part", ".v.mp4.1.part")
        second.write(MP4)
        second.commit()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]
        first.write(MP4[:100])
        with pytest.raises(FileNotFoundError):
            first.commit()
    assert target.read_bytes() == MP4 and sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]


def test_a_part_name_is_matched_literally() -> None:
    assert is_part_of(".v.mp4.0a1b.part", "v.mp4")
    assert not is_part_of(".v.mp4.notahexpart.part", "v.mp4")
    assert not is_part_of(".v.mp4..part", "v.mp4")
    assert not is_part_of(".xv.mp4.0a1b.part", "*v.mp4")


# -- the review screen -----------------------------------------------------------------------------------------


def test_a_prompt_cannot_put_links_images_or_markup_in_front_of_a_reviewer() -> None:
    """Rendered by a real CommonMark renderer (markdown-it, which Airflow's rich brings): no link, image,
    HTML or emphasis comes out of what a brief or a vendor wrote; the words show as typed."""
    from markdown_it import MarkdownIt

    hostile = "calm sea [Approve here](https://evil.example) ![x](https://evil.example/p.png) <img src=x> **LOUD**"
    clip = {"name": "slot\n# Approved already", "prompt": hostile, "model": "m", "duration": 5, "url": "<a href=x>"}
    body = review_request("s", [clip], "file:///g/index.html")["body"]
    html = MarkdownIt("commonmark").render(body)
    assert "<a " not in html and "<img" not in html and "<h1" not in html
    assert html.count("<strong>") == 5  # only our own field labels
    assert (
        "calm sea [Approve here](https://evil.example) ![x](https://evil.example/p.png) &lt;img src=x&gt; **LOUD**"
        in html
    )
    assert "slot # Approved already" in html


def test_markdown_text_is_bounded() -> None:
    assert len(markdown_text("x" * 100_000)) < 2100


# -- no vendor error body can print the key or flood a message ---------------------------------------------------

text_around_key = st.tuples(
    st.text(max_size=3000), st.sampled_from(["", KEY, f"Bearer {KEY}", f"Authorization: Bearer {KEY}"]), st.text()
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    message=text_around_key,
    code=st.one_of(st.none(), text_around_key),
    status=st.sampled_from([400, 401, 402, 403, 404, 409, 422, 429, 500, 503]),
    raw=st.booleans(),
)
def test_no_vendor_error_body_makes_a_message_carry_the_key_or_exceed_its_bound(
    monkeypatch: pytest.MonkeyPatch, message: str, code: str | None, status: int, raw: bool
) -> None:
    error: dict[str, Any] = {"message": message, "code": code}
    content = message.encode("utf-8", "surrogatepass") if raw else json.dumps({"error": error}).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=content)

    conn = {"conn_type": "seedance", "password": KEY, "host": "http://api.test", "extra": {"max_retries": 0}}
    monkeypatch.setenv("AIRFLOW_CONN_SEEDANCE_PROP", json.dumps(conn))
    hook = SeedanceHook("seedance_prop", transport=httpx.MockTransport(answer))
    with pytest.raises(SeedanceAPIError) as caught:
        hook.get_generation("task-1")
    text = str(caught.value)
    assert KEY not in text and "\n" not in text
    assert len(text) <= 3 * MAX_VENDOR_TEXT + 600  # message, code, request id, and our own words around them


@settings(max_examples=150, deadline=None)
@given(reason=text_around_key)
def test_no_failure_reason_makes_the_generation_error_carry_the_key(reason: str) -> None:
    from airflow_provider_seedance.wire.backends import get_backend

    body = {"id": "task-1", "status": "failed", "error": {"code": "x", "message": reason}}
    generation = get_backend("evolink").parse_generation(body).scrubbed((KEY,))
    text = str(SeedanceGenerationError(generation.describe(), generation))
    assert KEY not in text and len(text) <= 2 * MAX_VENDOR_TEXT + 200


def test_a_key_too_short_to_be_a_secret_is_not_searched_for() -> None:
    """As Airflow's masker: a one-letter test key must not mangle generation ids (task-... -> tas<redacted>-...)."""
    assert scrub("task-unified-17", ("k",)) == "task-unified-17"
    assert scrub("key sk-abcde here", ("sk-abcde",)) == "key <redacted> here"


@given(st.text(max_size=5000))
def test_scrub_is_bounded_and_single_line(text: str) -> None:
    out = scrub(text, (KEY,))
    assert "\n" not in out and "\r" not in out and len(out) <= MAX_VENDOR_TEXT + 40
