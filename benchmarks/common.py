"""Shared pieces of the benchmarks: the emulator (plain HTTP or TLS with a certificate made at run time),
connection env vars, percentiles, process memory and CPU readings, and the machine description."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "benchmarks"
PYTHON = sys.executable
CONN_ID = "bench"
API_KEY = "bench-key-0123456789"  # long enough that Airflow's secret masker does not warn on every read


def conn_env(url: str, conn_id: str = CONN_ID, backend: str = "evolink") -> dict[str, str]:
    """``AIRFLOW_CONN_<ID>`` for a seedance connection to ``url`` (read without a database)."""
    conn = {"conn_type": "seedance", "password": API_KEY, "host": url, "extra": {"backend": backend}}
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn)}


# -- numbers ---------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size now, from /proc (cheap enough to sample from a ticker)."""
    with open(f"/proc/{pid or 'self'}/statm", "rb") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def self_cpu_seconds() -> float:
    """User + system CPU of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process (from /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat", "rb") as handle:
        text = handle.read().decode()
    fields = text[text.rfind(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# -- TLS -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    certfile: Path
    keyfile: Path
    ca_bundle: Path  # certifi's roots plus our CA: what a client trusts via SSL_CERT_FILE


def make_tls_files(directory: Path) -> TlsFiles:
    """A throwaway CA and a server certificate for 127.0.0.1 (ECDSA P-256, like most public APIs).

    The bundle clients trust is certifi's full root set plus this CA, so building an SSL context costs
    what it costs against a real API (loading ~150 roots), not less.
    """
    import certifi
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seedance benchmark CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = TlsFiles(directory / "server.pem", directory / "server.key", directory / "bundle.pem")
    files.certfile.write_bytes(cert.public_bytes(pem))
    files.keyfile.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    files.ca_bundle.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + ca_cert.public_bytes(pem))
    return files


@contextlib.contextmanager
def emulator(tls: TlsFiles | None = None, render_seconds: float = 45.0) -> Iterator[Any]:
    """The emulator as its own process on a free loopback port; HTTPS when ``tls`` is given."""
    from airflow_provider_seedance.emulator.server import EmulatorProcess

    extra: tuple[str, ...] = ()
    if tls is not None:
        extra = ("--ssl-certfile", str(tls.certfile), "--ssl-keyfile", str(tls.keyfile))
    with EmulatorProcess(render_seconds=render_seconds, extra_args=extra) as emu:
        yield emu


def tls_env(tls: TlsFiles | None) -> dict[str, str]:
    """httpx clients built with the default ``verify=True`` read SSL_CERT_FILE (trust_env)."""
    return {"SSL_CERT_FILE": str(tls.ca_bundle)} if tls is not None else {}


# -- subprocesses ----------------------------------------------------------------------------------


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a measuring subprocess (run with a neutral working directory)."""
    full_env = {**os.environ, **(env or {})}
    # A PYTHONPATH given by the caller goes first: ``--core DIR`` measures a scratch copy of the package.
    full_env["PYTHONPATH"] = os.pathsep.join(p for p in (full_env.get("PYTHONPATH"), str(ROOT)) if p)
    return full_env


def run_json(argv: list[str], *, env: dict[str, str] | None = None, timeout: float, log: Path | None = None) -> Any:
    """Run ``python -m ...`` that writes one JSON document as its last stdout line; return it parsed."""
    full_env = child_env(env)
    stderr = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        done = subprocess.run(
            argv,
            env=full_env,
            cwd=tempfile.gettempdir(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            timeout=timeout,
            check=False,
        )
    finally:
        if log:
            stderr.close()  # type: ignore[union-attr]
    lines = [line for line in done.stdout.decode(errors="replace").splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
        raise RuntimeError(f"{' '.join(argv[:4])} exited {done.returncode}:\n{tail}")
    return json.loads(lines[-1])


# -- machine ---------------------------------------------------------------------------------------


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "-"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    mem = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import ssl

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "apache-airflow": _version("apache-airflow"),
        "httpx": _version("httpx"),
        "httpcore": _version("httpcore"),
        "uvicorn (emulator)": _version("uvicorn"),
        "airflow-provider-seedance": _version("airflow-provider-seedance"),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
