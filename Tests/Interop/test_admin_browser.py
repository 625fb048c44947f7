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

from conftest import NAMESPACES, deep_merge, base_config, make_token, new_sub, run, sdk_clients, start_broker, uid

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
    # The browser's console (failed requests, CSP violations, script errors) for severe_logs().
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
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


def severe_logs(driver):
    """What the browser's console logged at level SEVERE since the last call (errors, failed loads)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


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


def test_the_console_loads_with_nothing_in_the_browsers_error_log(console, browser):
    browser.get(console.http_url + "/")
    wait(browser).until(EC.visibility_of_element_located((By.ID, "password")))
    # The icon the page names is served, so the browser asks for no missing /favicon.ico.
    icon = browser.find_element(By.CSS_SELECTOR, 'link[rel="icon"]').get_attribute("href")
    assert browser.execute_async_script(
        "fetch(arguments[0]).then((r) => arguments[1](r.status + ' ' + r.headers.get('Content-Type')))", icon) == "200 image/svg+xml"
    assert severe_logs(browser) == [], "signed out"

    browser.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD)
    browser.find_element(By.ID, "sign-in").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "live"), "live"))
    for view, ready in [("#/channels", "channel-count"), ("#/connections", "connections"), ("#/publish", "publish")]:
        browser.get(f"{console.http_url}/{view}")
        wait(browser).until(EC.presence_of_element_located((By.ID, ready)))
        wait(browser).until(EC.text_to_be_present_in_element((By.ID, "live"), "live"))
    assert severe_logs(browser) == [], "signed in"


def test_publish_form_says_what_is_wrong_with_the_data_and_which_namespaces_exist(console, browser):
    sign_in(browser, console.http_url)
    wait(browser).until(EC.visibility_of_element_located((By.ID, "app")))
    browser.get(f"{console.http_url}/#/publish")
    channel = wait(browser).until(EC.presence_of_element_located((By.ID, "publish-channel")))
    data = browser.find_element(By.ID, "publish-data")
    result = browser.find_element(By.ID, "publish-result")

    def publish(ch, text):
        browser.execute_script("arguments[0].textContent = ''", result)
        channel.clear()
        channel.send_keys(ch)
        data.clear()
        data.send_keys(text)
        browser.find_element(By.ID, "publish").click()
        return wait(browser).until(lambda d: result.text or None)

    assert publish("chat:x", "{'text': 'hi'}") == 'Data is not valid JSON: unexpected "\'" at position 2 \u2014 strings need double quotes'
    assert publish("chat:x", '{"text": "hi",}') == 'Data is not valid JSON: unexpected "}" at position 15 \u2014 remove the comma before it'
    assert publish("chat:x", '{"text": hi}') == 'Data is not valid JSON: unexpected "h" at position 10 \u2014 text needs double quotes: "hi"'
    names = ", ".join(sorted(n["name"] for n in NAMESPACES))
    assert publish("foo:bar", '{"text": "hi"}') == (
        f'unknown channel "foo:bar": namespace "foo" does not exist. Namespaces: {names} '
        '(channels without ":" use channel.without_namespace) (102)')
    assert '"offset":1' in publish("chat:form-" + uid(), '{"text": "hi"}')

    # The channel page's own form checks its data the same way.
    browser.get(f"{console.http_url}/#/channel/chat:form-{uid()}")
    here = wait(browser).until(EC.presence_of_element_located((By.ID, "publish-data")))
    here.clear()
    here.send_keys('{"text": "hi"')
    browser.find_element(By.ID, "publish-here").click()
    error = wait(browser).until(lambda d: d.find_element(By.ID, "publish-error").text or None)
    assert error == "Data is not valid JSON: unexpected end of the data \u2014 a closing } is missing"
    # A channel page in a namespace that does not exist says which ones do.
    browser.get(f"{console.http_url}/#/channel/foo:bar")
    presence = wait(browser).until(lambda d: d.find_element(By.ID, "presence-error").text or None)
    assert presence.startswith('Presence: unknown channel "foo:bar": namespace "foo" does not exist. Namespaces: ' + names)
    assert severe_logs(browser) == []


def test_the_json_check_agrees_with_the_browsers_parser(console, browser):
    browser.get(console.http_url + "/")
    wait(browser).until(EC.visibility_of_element_located((By.ID, "password")))
    corpus = [
        '{}', '[]', '1', '-0.5e3', '"a\\n\\u00e9"', 'true', ' null ', '{"a": [1, {"b": false}], "c": "x"}', '[1,]', '{"a":1,}',
        "{'a': 1}", '{a: 1}', '{"a" 1}', '{"a": 1', '[1 2]', '01', '1.', '.5', '"tab\there"', '"\\x"', '{"a": 1} x', '',
        'tru', 'nulls', '"unclosed', '[', '{"a": -}', '{"a":\n  [1, 2,\n]}',
    ]
    verdicts = browser.execute_script(
        "return arguments[0].map((t) => [jsonCheck.problem(t) === null,"
        " (() => { try { JSON.parse(t); return true; } catch (e) { return false; } })()]);", corpus)
    disagree = [t for t, (ours, browsers) in zip(corpus, verdicts) if ours != browsers]
    assert disagree == []
