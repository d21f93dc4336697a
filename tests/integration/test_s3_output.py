"""Output to S3 as a team sets it up: the Amazon provider with its s3fs extra and an AWS connection picked in the
URL (``s3://aws_default@bucket/...``), against moto's S3 server on a real socket. A video lands in an existing
bucket, folders and all; a misspelt bucket is refused before anything is paid for, and never created."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import load_dags, task_state, xcom

pytestmark = pytest.mark.usefixtures("airflow_db", "connections")

BUCKET = "seedance-renders"


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    """moto's S3 server in a thread, the ``aws_default`` connection pointing at it, and a boto3 client."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = os.environ.get("AIRFLOW_CONN_AWS_DEFAULT")
    extra = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
        {"conn_type": "aws", "login": "moto-key", "password": "moto-secret", "extra": extra}
    )
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    client.create_bucket(Bucket=BUCKET)
    from airflow.sdk.io import store

    cached = dict(store._STORE_CACHE)
    store._STORE_CACHE.clear()  # a store attached earlier in this process holds a client without the endpoint
    try:
        yield client
    finally:
        store._STORE_CACHE.clear()
        store._STORE_CACHE.update(cached)
        server.stop()
        if saved is None:
            os.environ.pop("AIRFLOW_CONN_AWS_DEFAULT", None)
        else:
            os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = saved


@pytest.fixture(scope="module")
def dags():
    return load_dags("seedance_s3_output.py")


def buckets(client: Any) -> list[str]:
    return sorted(bucket["Name"] for bucket in client.list_buckets()["Buckets"])


def test_a_video_is_saved_below_an_existing_bucket(emulator, dags, s3):
    before = emulator.stats()["creates_total"]
    run = dags["seedance_s3_output"].test()
    assert task_state(run, "to_s3") == ("success", 1)
    assert emulator.stats()["creates_total"] == before + 1
    result = xcom(run, "to_s3")
    key = f"campaigns/{run.logical_date:%Y-%m-%d}/kite.mp4"
    assert result["output_path"].endswith(f"{BUCKET}/{key}")
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body[4:8] == b"ftyp" and len(body) == result["size_bytes"]
    assert hashlib.sha256(body).hexdigest() == result["sha256"]
    # nothing else was left in the bucket: no probe file, no .part
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [key]
    assert buckets(s3) == [BUCKET]


def test_a_misspelt_bucket_is_refused_before_any_create_and_never_created(emulator, dags, s3, captured):
    before = emulator.stats()["creates_total"]
    run = dags["seedance_s3_misspelt_bucket"].test()
    log = captured()
    assert task_state(run, "to_misspelt_bucket") == ("failed", 1), log[-3000:]
    assert emulator.stats()["creates_total"] == before
    assert buckets(s3) == [BUCKET]
    assert "Invalid output_path='s3://aws_default@seedance-render/" in log
    assert "never the bucket itself" in log
