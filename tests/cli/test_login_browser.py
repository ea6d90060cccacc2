"""`anaplan-tasks login` end to end in a real browser: headless Chromium (Debian's `chromium`
and `chromium-driver`, driven by selenium, which downloads nothing when given their paths) opens
the emulator's pages, signs in, approves; the command then signs in and runs a task. Every page
shown passes axe-core's WCAG 2.1 A/AA checks.

Screenshots go to `$ANAPLAN_TASKS_SCREENSHOTS` when set (else the test's temporary folder).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import webbrowser
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx2
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from anaplan_tasks.emulator.demo import (
    DEMO_DEVICE_CLIENT_ID,
    DEMO_PASSWORD,
    DEMO_USER,
    DEMO_WEB_CLIENT_ID,
    DEMO_WEB_CLIENT_SECRET,
)
from anaplan_tasks.emulator.pytest_plugin import EmulatorHandle

from ..client.oauth_helpers import fast_device_polls
from .conftest import Cli
from .test_login_commands import register_redirect

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--window-size=1000,900",
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[webdriver.Chrome]:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    assert not missing, f"install Debian's chromium and chromium-driver (missing: {missing})"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ANAPLAN_TASKS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def axe_violations(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """axe-core's violations on the page shown (WCAG 2.1 A/AA and best practices)."""
    script = resources.files("axe_core_python").joinpath("axe.min.js").read_text("utf-8")
    driver.execute_script(script)
    violations: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(result => done(result.violations), error => done([{id: String(error)}]));",
        AXE_TAGS,
    )
    return violations


def check_page(driver: webdriver.Chrome, screenshots: Path, name: str) -> None:
    """Save a screenshot of the page and check it with axe-core."""
    driver.save_screenshot(str(screenshots / f"oauth-{name}.png"))
    violations = axe_violations(driver)
    assert violations == [], json.dumps(
        [{"id": v["id"], "nodes": [n.get("html") for n in v.get("nodes", [])]} for v in violations],
        indent=2,
    )
    assert driver.find_element(By.TAG_NAME, "main")
    assert driver.find_element(By.TAG_NAME, "h1").text


def sign_in(driver: webdriver.Chrome, password: str = DEMO_PASSWORD) -> None:
    """Fill in the form and approve; returns once the answer's page has replaced it."""
    page = driver.find_element(By.TAG_NAME, "html")
    email = driver.find_element(By.ID, "email")
    email.clear()
    email.send_keys(DEMO_USER)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, 'button[value="approve"]').click()
    WebDriverWait(driver, 30).until(lambda _: _replaced(page))


def _replaced(element: WebElement) -> bool:
    """Whether the page holding `element` has gone. Mid-navigation, chromedriver may answer
    "Node with given id does not belong to the document" instead of a stale reference: gone too
    (seen once in 17 runs of the suite)."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in (error.msg or ""):
            return True
        raise
    return False


class Browser:
    """Stands in for `webbrowser.open`: the URL goes to Chromium, driven in a thread.

    When driving fails, `abort(url)` runs so that the waiting command ends instead of waiting
    for an approval that will never come.
    """

    def __init__(self, drive: Callable[[str], None], abort: Callable[[str], None]):
        self.drive = drive
        self.abort = abort
        self.opened: list[str] = []
        self.failures: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, url: str, *args: object, **kwargs: object) -> bool:
        self.opened.append(url)

        def run() -> None:
            try:
                self.drive(url)
            except BaseException as failure:
                self.failures.append(failure)
                self.abort(url)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)
        return True

    def finish(self) -> None:
        for thread in self.threads:
            thread.join(60)
        if self.failures:
            raise self.failures[0]


@pytest.fixture
def oauth_only(cli_env: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("ANAPLAN_EMAIL")
    monkeypatch.delenv("ANAPLAN_PASSWORD")
    store = tmp_path / "tokens.json"
    monkeypatch.setenv("ANAPLAN_TOKEN_STORE", str(store))
    return store


def test_device_flow_in_chromium(
    cli: Cli,
    cli_env: EmulatorHandle,
    oauth_only: Path,
    chromium: webdriver.Chrome,
    screenshots: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def approve(url: str) -> None:
        chromium.get(url)
        check_page(chromium, screenshots, "device")
        sign_in(chromium, password="wrong")
        assert chromium.find_element(By.CSS_SELECTOR, '[role="alert"]').text
        check_page(chromium, screenshots, "device-error")
        sign_in(chromium)
        WebDriverWait(chromium, 30).until(lambda d: "approved" in d.title.lower())
        check_page(chromium, screenshots, "device-approved")

    def deny(url: str) -> None:
        user_code = url.rsplit("=", 1)[-1]
        principal = cli_env.running.engine.authenticate_basic(DEMO_USER, DEMO_PASSWORD)
        assert principal is not None
        cli_env.running.app.oauth.decide_device(user_code, principal, approve=False)

    browser = Browser(approve, deny)
    monkeypatch.setattr(webbrowser, "open", browser)
    with fast_device_polls(cli_env.running.app):
        outcome = cli("login", "--client-id", DEMO_DEVICE_CLIENT_ID)
    browser.finish()
    assert outcome.code == 0, outcome.err
    assert "enter the code" in outcome.error
    monkeypatch.setenv("ANAPLAN_OAUTH_CLIENT_ID", DEMO_DEVICE_CLIENT_ID)
    ran = cli("--json", "run", "export", "Headcount Export", "--out", oauth_only.parent / "h.csv")
    assert ran.code == 0, ran.err
    assert ran.json()["result"]["successful"] is True


def test_authorization_code_flow_in_chromium(
    cli: Cli,
    cli_env: EmulatorHandle,
    oauth_only: Path,
    chromium: webdriver.Chrome,
    screenshots: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redirect_uri = register_redirect(cli_env)

    def allow(url: str) -> None:
        chromium.get(url)  # /auth/authorize answers 302 to the sign-in page
        WebDriverWait(chromium, 30).until(lambda d: "/auth/login" in d.current_url)
        check_page(chromium, screenshots, "authorize")
        sign_in(chromium)
        WebDriverWait(chromium, 30).until(lambda d: d.current_url.startswith(redirect_uri))
        assert "Signed in" in chromium.find_element(By.TAG_NAME, "h1").text
        chromium.save_screenshot(str(screenshots / "oauth-callback.png"))

    def answer_the_listener(url: str) -> None:  # so that the command stops waiting
        httpx2.get(f"{redirect_uri}?error=test_failed&state=x", timeout=10)

    browser = Browser(allow, answer_the_listener)
    monkeypatch.setattr(webbrowser, "open", browser)
    outcome = cli(
        "login",
        "--browser",
        "--client-id",
        DEMO_WEB_CLIENT_ID,
        "--client-secret",
        DEMO_WEB_CLIENT_SECRET,
        "--redirect-uri",
        redirect_uri,
        "--timeout",
        "60",
    )
    browser.finish()
    assert outcome.code == 0, outcome.err
    assert browser.opened[0].startswith(f"{cli_env.base_url}/auth/authorize?")
    monkeypatch.setenv("ANAPLAN_OAUTH_CLIENT_ID", DEMO_WEB_CLIENT_ID)
    monkeypatch.setenv("ANAPLAN_OAUTH_CLIENT_SECRET", DEMO_WEB_CLIENT_SECRET)
    ran = cli("--json", "run", "export", "Headcount Export", "--out", oauth_only.parent / "h.csv")
    assert ran.code == 0, ran.err
    assert ran.json()["result"]["successful"] is True


def test_the_device_page_works_with_the_keyboard_alone(
    cli_env: EmulatorHandle, chromium: webdriver.Chrome
) -> None:
    service = cli_env.running.app.oauth
    device = service.start_device(DEMO_DEVICE_CLIENT_ID, None)
    chromium.get(f"{cli_env.base_url}/activate?user_code={device.user_code}")
    body = chromium.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)  # the first stop is the code field, already filled in
    assert chromium.switch_to.active_element.get_attribute("id") == "user_code"
    chromium.switch_to.active_element.send_keys(Keys.TAB, DEMO_USER, Keys.TAB, DEMO_PASSWORD)
    assert chromium.switch_to.active_element.get_attribute("id") == "password"
    chromium.switch_to.active_element.send_keys(Keys.ENTER)  # the default button: Approve
    WebDriverWait(chromium, 30).until(lambda d: "approved" in d.title.lower())
    assert service.pending_device(device.user_code) is None
    assert device.state == "approved"
