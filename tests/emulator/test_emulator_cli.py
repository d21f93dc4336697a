"""The command line and EmulatorProcess: port-in-use message, option errors, a full run as a
subprocess (faults from a file, uvloop drop), and HTTPS."""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from airflow_provider_seedance.emulator import EmulatorProcess
from airflow_provider_seedance.emulator.cli import main

ROOT = Path(__file__).resolve().parents[2]
BODY = {"model": "seedance-2.0-text-to-video", "prompt": "A cat", "duration": 4}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def test_help_shows_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 127.0.0.1)", "(default: 8765)", "(default: 6.0)", "(default: 86400.0)"):
        assert default in text


def test_start_up_prints_each_backends_base_url_and_a_connection_without_the_key() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_seedance.emulator", "--port", "0", "--api-key", "sk-emu-secret-91"],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(8)]  # printed before serving starts
    finally:
        process.terminate()
        process.wait(timeout=10)
    url = lines[0].split()[-1]
    text = "".join(lines)
    assert f"evolink   Base URL {url}\n" in text
    assert f"modelark  Base URL {url}/api/v3\n" in text
    conn = json.loads(text.split("export AIRFLOW_CONN_SEEDANCE_DEFAULT='")[3].split("'")[0])
    assert conn == {
        "conn_type": "seedance",
        "password": "<the --api-key value>",
        "host": url + "/api/v3",
        "extra": {"backend": "modelark"},
    }
    assert "sk-emu-secret-91" not in text


def test_port_in_use_exits_2_with_one_line() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "airflow_provider_seedance.emulator", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=_env(),
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr == f"seedance-emulator: port {port} on 127.0.0.1 is already in use; pass --port\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--faults", "{not json"], "invalid --faults"),
        (["--faults", '{"poll": {"999": 0.5}}'], "invalid --faults"),
        (["--faults", "@/nonexistent/faults.json"], "invalid --faults"),
        (["--ssl-certfile", "cert.pem"], "go together"),
        (["--render-seconds", "-1"], "must be >= 0"),
    ],
)
def test_option_errors(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("seedance-emulator: ")
    assert needle in err
    assert err.count("\n") == 1


def test_process_run_with_faults_file(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"poll": {"drop": 1.0, "limit": 1}}))
    with EmulatorProcess(api_key="k", render_seconds=0.2, extra_args=("--faults", f"@{faults}")) as emu:
        assert emu.url.startswith("http://127.0.0.1:")
        headers = {"Authorization": "Bearer k"}
        with httpx.Client(base_url=emu.url, headers=headers, timeout=10) as client:
            assert (
                client.post("/v1/videos/generations", json=BODY, headers={"Authorization": "Bearer x"}).status_code
                == 401
            )
            task = client.post("/v1/videos/generations", json=BODY).json()
            with pytest.raises(httpx.RemoteProtocolError):  # the uvloop/httptools server drops too
                client.get(f"/v1/tasks/{task['id']}")
            assert client.get(f"/v1/tasks/{task['id']}").status_code == 200
        assert emu.stats()["creates_total"] == 1
        assert [e["fault"] for e in emu.requests()] == [None, None, "drop", None]
        emu.set_faults({"create": {"503": 1.0}})
        assert httpx.post(f"{emu.url}/v1/videos/generations", json=BODY, headers=headers).status_code == 503
        emu.reset()
        assert emu.stats()["requests"] == 0
        assert emu.base_url("modelark") == emu.url + "/api/v3"


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_https(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    args = ("--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    with EmulatorProcess(render_seconds=0.0, extra_args=args) as emu:
        assert emu.url.startswith("https://")
        with httpx.Client(base_url=emu.url, verify=False, headers={"Authorization": "Bearer k"}) as client:
            task = client.post("/v1/videos/generations", json=BODY).json()
            url = client.get(f"/v1/tasks/{task['id']}").json()["results"][0]
            assert url.startswith("https://")
            assert client.get(url).content[4:8] == b"ftyp"
