"""The admin console in a real browser: headless Chromium driven with selenium.

Chromium and chromedriver come from Debian (`chromium`, `chromium-driver`, installed by
scripts/install-system-deps.sh). Without them these tests are skipped, unless
ADMIN_BROWSER_REQUIRED=1 (set by scripts/test.sh, so CI never skips them silently).
"""
from __future__ import annotations

import asyncio
import os
import shutil
import time

import pytest

from conftest import deep_merge, base_config, make_token, new_sub, run, sdk_clients, start_broker, uid

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ADMIN_PASSWORD = "browser-password"

if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    if os.environ.get("ADMIN_BROWSER_REQUIRED") == "1":
        raise RuntimeError("chromium/chromedriver missing: run scripts/install-system-deps.sh")
    pytest.skip("chromium and chromedriver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def new_driver(width: int = 1280, height: int = 900):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={width},{height}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def console():
    cfg = deep_merge(base_config(), {"admin": {"enabled": True, "password": ADMIN_PASSWORD, "secret": "browser-secret"}})
    b = start_broker(cfg, name="admin-browser")
    yield b
    b.stop()


@pytest.fixture
def browser():
    d = new_driver()
    yield d
    d.quit()


def wait(driver, timeout=5.0):
    return WebDriverWait(driver, timeout, poll_frequency=0.05)


def sign_in(driver, url, password=ADMIN_PASSWORD):
    driver.get(url + "/")
    wait(driver).until(EC.visibility_of_element_located((By.ID, "password")))
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()


def test_wrong_password_is_refused_and_the_console_stays_closed(console, browser):
    sign_in(browser, console.http_url, "not-the-password")
    error = wait(browser).until(lambda d: d.find_element(By.ID, "signin-error").text or None)
    assert error == "Wrong password."
    assert not browser.find_element(By.ID, "app").is_displayed()
    assert browser.get_cookie("broker_admin") is None


def test_sign_in_watch_a_client_join_and_disconnect_it_from_the_page(console, browser):
    sign_in(browser, console.http_url)
    wait(browser).until(EC.visibility_of_element_located((By.ID, "app")))
    cookie = browser.get_cookie("broker_admin")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    channel = "chat:browser-" + uid()
    browser.get(f"{console.http_url}/#/channel/{channel}")
    # The page is live once the feed's first presence snapshot is on it.
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "presence"), "Nobody is present."))
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "live"), "live"))

    async def main():
        async with sdk_clients() as make:
            client, rec = make(console.ws_url, token=make_token("alice", secret=console.secret, info={"team": "web"}))
            await client.connect()
            await rec.wait("connected")
            sub, srec = new_sub(client, channel)
            await sub.subscribe()
            await srec.wait("subscribed")
            joined_at = time.monotonic()
            row = await asyncio.to_thread(
                wait(browser, 1.0).until, EC.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-user="alice"]')))
            seen_after = time.monotonic() - joined_at
            assert seen_after <= 1.0, f"presence showed the client after {seen_after:.2f} s"
            assert '{"team":"web"}' in row.text
            assert "alice" in browser.find_element(By.CSS_SELECTOR, "#presence-log li.join").text

            row.find_element(By.CSS_SELECTOR, "button.disconnect").click()
            gone = await rec.wait("disconnected", timeout=5)
            assert gone.code == 3503
            await asyncio.to_thread(
                wait(browser, 3.0).until, EC.invisibility_of_element_located((By.CSS_SELECTOR, 'tr[data-user="alice"]')))
            assert "alice" in browser.find_element(By.CSS_SELECTOR, "#presence-log li.leave").text

    run(main())
    assert 'method=disconnect' in console.log_text() and "admin action" in console.log_text()


def test_overview_channels_and_user_pages_show_live_state(console, browser):
    sign_in(browser, console.http_url)
    wait(browser).until(EC.visibility_of_element_located((By.ID, "app")))
    channel = "chat:pages-" + uid()

    async def main():
        async with sdk_clients() as make:
            client, rec = make(console.ws_url, token=make_token("bob", secret=console.secret))
            await client.connect()
            await rec.wait("connected")
            sub, srec = new_sub(client, channel)
            await sub.subscribe()
            await srec.wait("subscribed")

            browser.get(f"{console.http_url}/#/")
            await asyncio.to_thread(wait(browser).until, lambda d: d.find_elements(By.CSS_SELECTOR, "#nodes tr[data-node]"))
            node_row = browser.find_element(By.CSS_SELECTOR, "#nodes tr[data-node]").text
            assert "memory" in node_row and "healthy" in node_row
            await asyncio.to_thread(wait(browser).until, lambda d: int(d.find_element(By.ID, "total-clients").text or 0) >= 1)

            browser.get(f"{console.http_url}/#/channels")
            search = await asyncio.to_thread(wait(browser).until, EC.presence_of_element_located((By.ID, "channel-search")))
            search.send_keys("pages-")
            row = await asyncio.to_thread(
                wait(browser).until, EC.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-channel="{channel}"]')))
            assert row.text.split()[-1] == "1"
            rows = browser.find_elements(By.CSS_SELECTOR, "#channels tr[data-channel]")
            assert all("pages-" in r.get_attribute("data-channel") for r in rows)

            browser.get(f"{console.http_url}/#/user/bob")
            conn = await asyncio.to_thread(
                wait(browser).until, EC.presence_of_element_located((By.CSS_SELECTOR, "#connections tr[data-client]")))
            assert channel in conn.text and "websocket / json" in conn.text
            conn.find_element(By.CSS_SELECTOR, "button.unsubscribe").click()
            await srec.wait("unsubscribed", timeout=5)
            assert client.state.name == "CONNECTED"

    run(main())
