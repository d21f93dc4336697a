"""Scenario 10: the marketing pipeline's human review in the real Airflow UI, in headless Chromium.

The reviewer logs in and, on each review task's Required Actions page (what the UI's "Required Actions"
list links to), reads the clip's prompt, model and credits, approves one clip, rejects one and asks for a
re-render of the third with a note typed into the form; the note reaches the vendor (the emulator's log);
the re-render comes back and is approved; only the two approved clips land in ``ready_to_publish``. The
review screen is saved to ``docs/review-screen.png`` for docs/review-and-budget.md.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.deployment.harness import ADMIN_PASSWORD, ADMIN_USER, Deployment
from tests.deployment.review_flow import (
    DAG_ID,
    EXPECTED_FATES,
    FEED,
    SHORTS,
    YOUTUBE,
    fates,
    open_reviews,
    prompts_sent,
    published,
    start_run,
)

pytestmark = pytest.mark.timeout(600)

# Written when missing or with SEEDANCE_UPDATE_SCREENSHOT=1 (ports and times differ per run)
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "review-screen.png"
NOTE = "UI-NOTE: end on the logo, calmer music"


#: What Chromium says when the single-page app's own navigation (after the login's redirect, after an answer)
#: cut a ``page.goto`` short: the browser went elsewhere, the page is not wrong (each seen in CI).
CUT_SHORT = ("ERR_ABORTED", "is interrupted by another navigation")


def goto(page: Any, url: str, tries: int = 3) -> None:
    """``page.goto``, again (up to ``tries`` times) when the app's own navigation cut it short."""
    for attempt in range(1, tries + 1):
        try:
            page.goto(url)
            return
        except Exception as exc:
            if attempt == tries or not any(words in str(exc) for words in CUT_SHORT):
                raise
            page.wait_for_load_state()


def respond(page: Any, deploy: Deployment, run_id: str, detail: dict[str, Any], option: str, note: str = "") -> None:
    """Open the review task's Required Actions page, type the note, click the option; wait for the answer."""
    ti = detail["task_instance"]
    url = f"{deploy.api_url}/dags/{DAG_ID}/runs/{run_id}/tasks/{ti['task_id']}/mapped/{ti['map_index']}"
    goto(page, f"{url}/required_actions")
    page.get_by_text(detail["subject"]).first.wait_for()
    if note:
        page.locator("[name=element_note]").fill(note)
    with page.expect_response(lambda r: r.url.endswith("/hitlDetails") and r.request.method == "PATCH") as done:
        page.get_by_role("button", name=option, exact=True).click()
    assert done.value.status == 200, done.value.text()


def login(page: Any, deploy: Deployment) -> None:
    page.goto(f"{deploy.api_url}/auth/login?next=/required_actions")
    page.locator("input[name=username]").fill(ADMIN_USER)
    page.locator("input[name=password]").fill(ADMIN_PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/required_actions**", timeout=60_000)


def review_in_browser(page: Any, deploy: Deployment, run_id: str) -> None:
    first = {d["subject"].removeprefix("Review "): d for d in open_reviews(deploy, run_id, 3)}
    login(page, deploy)
    respond(page, deploy, run_id, first[SHORTS], "Approve")
    respond(page, deploy, run_id, first[YOUTUBE], "Reject")
    ti = first[FEED]["task_instance"]
    goto(page, f"{deploy.api_url}/dags/{DAG_ID}/runs/{run_id}/tasks/{ti['task_id']}/mapped/{ti['map_index']}")
    goto(page, page.url + "/required_actions")
    page.get_by_text("Credits").first.wait_for()
    page.locator("[name=element_note]").fill(NOTE)
    page.screenshot(path=str(deploy.home / SCREENSHOT.name), full_page=True)
    with page.expect_response(lambda r: r.url.endswith("/hitlDetails") and r.request.method == "PATCH") as done:
        page.get_by_role("button", name="Re-render", exact=True).click()
    assert done.value.status == 200, done.value.text()
    (again,) = open_reviews(deploy, run_id, 1)
    respond(page, deploy, run_id, again, "Approve")


def test_review_in_the_airflow_ui(deploy: Deployment, emulator: Any, scenario: Any) -> None:
    row = scenario("10 review in the UI (Chromium)")
    require_chromium()
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    run_id, root = start_run(deploy, "review-ui")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(60_000)
            try:
                review_in_browser(page, deploy, run_id)
            except Exception:
                page.screenshot(path=str(deploy.home / "review-failure.png"), full_page=True)
                (deploy.home / "review-failure.html").write_text(page.content())
                raise
        finally:
            browser.close()
    run = deploy.wait_for_run(DAG_ID, run_id, timeout=300)
    row.seconds = time.monotonic() - started
    assert run["state"] == "success"
    assert [p for p in prompts_sent(emulator) if NOTE in p], "the reviewer's note never reached the vendor"
    assert fates(root) == EXPECTED_FATES
    assert sorted(v["name"] for v in published(root)["videos"]) == sorted([SHORTS, f"{FEED}-r1"])
    if not SCREENSHOT.exists() or os.environ.get("SEEDANCE_UPDATE_SCREENSHOT"):
        shutil.copyfile(deploy.home / SCREENSHOT.name, SCREENSHOT)
    assert SCREENSHOT.is_file()
