"""The Seedance connection form in the real Airflow UI (headless Chromium), on this venv's Airflow version.

Starts ``airflow api-server`` in a private AIRFLOW_HOME (SQLite, simple auth manager with every user an
admin, so the UI is logged in without a login form), opens Admin -> Connections -> Add Connection, picks
the type "Seedance" and checks exactly the fields it shows. Runs under the 3.3 venv and the 3.1 floor.

Airflow 3.1 does not read the declarative ``conn-fields`` / ``ui-field-behaviour`` of
``get_provider_info``: it imports the hook and asks ``get_ui_field_behaviour`` and
``get_connection_form_widgets``. From 3.2 on the declaration is read and the hook methods are skipped.
The 3.1 form is saved to ``docs/connection-form-3.1.png`` for docs/connection.md (when missing, or with
SEEDANCE_UPDATE_SCREENSHOT=1).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.airflow_db import migrated_database
from tests.api_server import api_server as running_api_server
from tests.api_server import tail
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.timeout(240)

AIRFLOW = str(Path(sys.executable).parent / "airflow")
DOCS = Path(__file__).resolve().parents[2] / "docs"
BACKENDS = ["evolink", "aimlapi", "modelark"]
CONN_ID = "seedance_ui"
API_KEY = "sk-ui-test-key-4b1d"


@contextlib.contextmanager
def api_server() -> Iterator[tuple[str, Path]]:
    """A migrated SQLite Airflow and its api-server on a free port; yields the base URL and the home (whose
    ``api-server-<port>.log`` is its log)."""
    home = Path(tempfile.mkdtemp(prefix="seedance-ui-"))
    (home / "dags").mkdir()
    migrated_database(home / "airflow.db")
    try:
        with running_api_server(home, {"AIRFLOW__CORE__TEST_CONNECTION": "Enabled"}) as url:
            yield url, home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def server_log(home: Path) -> str:
    return "\n".join(tail(path) for path in home.glob("api-server-*.log"))


def _shown(dialog: Any) -> dict[str, Any]:
    """What the dialog shows: visible labels, named inputs with their types and placeholders."""
    return dict(
        dialog.evaluate(
            """d => {
                const shown = [...d.querySelectorAll('label, input[name], textarea[name]')].filter(e => e.offsetParent);
                const inputs = shown.filter(e => e.name);
                return {
                    labels: shown.filter(e => e.tagName === 'LABEL').map(e => e.innerText.replace(/\\s+/g, ' ').trim()),
                    inputs: Object.fromEntries(inputs.map(e => [e.name, e.type])),
                    placeholders: Object.fromEntries(inputs.filter(e => e.placeholder).map(e => [e.name, e.placeholder])),
                };
            }"""
        )
    )


def _declared() -> dict[str, Any]:
    from airflow_provider_seedance.get_provider_info import get_provider_info

    return dict(get_provider_info()["connection-types"][0])


def expected_form(version: str) -> dict[str, Any]:
    """The form each Airflow version shows for the type Seedance (the same fields on 3.1 and later)."""
    declared = _declared()
    behaviour, fields = declared["ui-field-behaviour"], declared["conn-fields"]
    # 3.2+ reads conn-fields (the Backend's enum without null makes it required); 3.1 builds the form from the
    # hook's WTForms fields, where every extra field is optional and the numbers are whole-number inputs.
    required = "" if version.startswith("3.1.") else " *"
    return {
        "standard": {
            "labels": ["Connection ID *", "Connection Type *", "Description", "Base URL", "API key"],
            "inputs": {"connection_id": "text", "description": "textarea", "host": "text", "password": "password"},
            "placeholders": dict(behaviour["placeholders"]),
        },
        "extra": {
            "labels": [
                "Connection ID *",
                "Connection Type *",
                fields["backend"]["label"] + required,
                *(fields[name]["label"] for name in ("timeout", "create_timeout", "max_retries")),
            ],
            "inputs": {
                "connection_id": "text",
                "element_timeout": "text",
                "element_create_timeout": "text",
                "element_max_retries": "text",
            },
            "placeholders": {},
        },
        "backends": BACKENDS,
    }


def test_seedance_connection_form_in_chromium() -> None:
    import airflow

    require_chromium()
    from playwright.sync_api import sync_playwright

    expected = expected_form(airflow.__version__)
    started = time.monotonic()
    with api_server() as (url, home), sync_playwright() as pw:
        up = time.monotonic() - started
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(f"{url}/auth/token/login")  # every user is an admin: this only sets the token cookie
            page.goto(f"{url}/connections")
            page.get_by_role("button", name="Add Connection").click()
            dialog = page.get_by_role("dialog")
            dialog.locator("input[name=connection_id]").fill(CONN_ID)
            conn_type = dialog.get_by_role("combobox").first
            conn_type.click()
            conn_type.fill("Seedance")
            page.get_by_role("option", name="Seedance", exact=True).click()
            dialog.locator("input[name=host]").wait_for()

            standard = _shown(dialog)
            assert standard == expected["standard"], f"Airflow {airflow.__version__}: standard fields {standard}"
            dialog.locator("input[name=host]").fill("http://127.0.0.1:9")
            dialog.locator("input[name=password]").fill(API_KEY)
            standard_png = dialog.screenshot()

            dialog.get_by_role("button", name="Extra Fields", exact=True).click()
            dialog.locator("input[name=element_max_retries]").wait_for()
            # opening Extra Fields folds the standard ones away; on a loaded machine the fold takes a while
            dialog.locator("input[name=host]").wait_for(state="hidden")
            extra = _shown(dialog)
            assert extra == expected["extra"], f"Airflow {airflow.__version__}: extra fields {extra}"
            backend = dialog.get_by_role("combobox").nth(1)
            backend.click()
            options = [o.inner_text() for o in page.get_by_role("option").all()]
            assert options == expected["backends"], f"Airflow {airflow.__version__}: Backend choices {options}"
            page.get_by_role("option", name="modelark", exact=True).click()
            dialog.locator("input[name=element_timeout]").fill("90")
            dialog.locator("input[name=element_max_retries]").fill("2")
            extra_png = dialog.screenshot()
            if airflow.__version__.startswith("3.1."):
                target = DOCS / "connection-form-3.1.png"
                if not target.exists() or os.environ.get("SEEDANCE_UPDATE_SCREENSHOT"):
                    save_side_by_side(standard_png, extra_png, target)

            # The api-server's answer to the Save says whether the form was refused (the row never showing up
            # said nothing, once in a loaded floor run); the list may show the new row only after a reload.
            with page.expect_response(
                lambda r: r.url.endswith("/api/v2/connections") and r.request.method == "POST", timeout=60_000
            ) as answer:
                dialog.get_by_role("button", name="Save").click()
            assert answer.value.status in (200, 201), (
                f"HTTP {answer.value.status}: {answer.value.text()[:500]}\n--- the api-server's log ---\n"
                f"{server_log(home)}"
            )
            row = page.get_by_role("row").filter(has_text=CONN_ID)
            try:
                row.wait_for()
            except Exception:
                page.reload()
                row.wait_for()
            token = next(c["value"] for c in page.context.cookies() if c["name"] == "_token")
        finally:
            browser.close()
        saved = httpx.get(
            f"{url}/api/v2/connections/{CONN_ID}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).json()
    print(f"Airflow {airflow.__version__}: api-server up in {up:.0f}s, whole test {time.monotonic() - started:.0f}s")
    assert saved["conn_type"] == "seedance" and saved["host"] == "http://127.0.0.1:9", saved
    assert saved["password"] == "***", "the API key came back unmasked"
    extra_saved = {k: v for k, v in json.loads(saved["extra"]).items() if v is not None}
    assert extra_saved == {"backend": "modelark", "timeout": 90, "max_retries": 2}, saved["extra"]


def save_side_by_side(left: bytes, right: bytes, target: Path) -> None:
    """One image of the dialog: standard fields (left) and the extra fields (right)."""
    from PIL import Image

    images = [Image.open(io.BytesIO(data)).convert("RGB") for data in (left, right)]
    gap = 24
    canvas = Image.new(
        "RGB", (sum(i.width for i in images) + gap * 3, max(i.height for i in images) + gap * 2), (230, 232, 236)
    )
    x = gap
    for image in images:
        canvas.paste(image, (x, gap))
        x += image.width + gap
    tmp = target.with_suffix(".tmp.png")
    canvas.save(tmp, optimize=True)
    shutil.move(str(tmp), str(target))
