#!/usr/bin/env python3
"""Screenshots of the admin console for the docs: docs/console-overview.png and docs/console-channel.png.

Starts a broker (BROKER_BIN, default .build/debug/broker) with the console on, connects a few
centrifuge-python clients to some channels, publishes, and photographs the pages with headless
Chromium (Debian's chromium + chromium-driver, selenium from PyPI).

    python3 scripts/console-screenshots.py [--out docs]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "Interop"))

from conftest import base_config, deep_merge, make_token, new_sub, sdk_clients, start_broker  # noqa: E402
from test_admin_browser import new_driver, sign_in, wait  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402

PEOPLE = [("ana", "Ana Lima", "web"), ("ben", "Ben Okafor", "ios"), ("chen", "Chen Wei", "android"), ("dora", "Dora Ruiz", "web")]


async def scene(broker, driver, out: Path) -> None:
    async with sdk_clients() as make:
        subs = []
        for user, name, app in PEOPLE:
            client, rec = make(broker.ws_url, token=make_token(user, secret=broker.secret, info={"name": name, "app": app}))
            await client.connect()
            await rec.wait("connected")
            for ch in ("chat:standup", "chat:team-" + ("a" if user in ("ana", "ben") else "b")):
                sub, srec = new_sub(client, ch)
                await sub.subscribe()
                await srec.wait("subscribed")
                subs.append(sub)
        for i, text in enumerate(["Morning! Deploying the feed fix", "Reviewing invites PR", "On call today", "Blocked on QA build"]):
            await broker.aapi("publish", {"channel": "chat:standup", "data": {"user": PEOPLE[i][0], "text": text}})

        async def chatter():
            # A steady trickle, so the overview's message rates show something.
            n = 0
            while True:
                n += 1
                await broker.aapi("publish", {"channel": "chat:team-a", "data": {"tick": n}})
                await asyncio.sleep(0.05)

        background = asyncio.create_task(chatter())
        await asyncio.to_thread(sign_in, driver, broker.http_url, "screenshots")
        await asyncio.to_thread(wait(driver).until, EC.visibility_of_element_located((By.ID, "app")))
        await asyncio.to_thread(wait(driver, 10).until, lambda d: (d.find_element(By.ID, "total-clients").text or "") == "4")
        await asyncio.sleep(3.5)  # let the messages-per-second columns settle on a full sample
        driver.save_screenshot(str(out / "console-overview.png"))
        background.cancel()
        driver.set_window_size(1280, 1180)

        driver.get(broker.http_url + "/#/channel/chat:standup")
        await asyncio.to_thread(wait(driver, 10).until, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#presence tr[data-client]")) == 4)
        # One more joins while the page is open, so the log shows a live join.
        client, rec = make(broker.ws_url, token=make_token("eli", secret=broker.secret, info={"name": "Eli Novak", "app": "web"}))
        await client.connect()
        await rec.wait("connected")
        sub, srec = new_sub(client, "chat:standup")
        await sub.subscribe()
        await srec.wait("subscribed")
        await asyncio.to_thread(wait(driver).until, EC.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-user="eli"]')))
        await asyncio.to_thread(wait(driver).until, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#publications tbody tr")) == 4)
        await asyncio.sleep(1.6)  # the join highlight fades
        driver.save_screenshot(str(out / "console-channel.png"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "docs"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = deep_merge(base_config(), {"admin": {"enabled": True, "password": "screenshots", "secret": "screenshots-secret"},
                                     "node": {"name": "broker-1"}})
    broker = start_broker(cfg, name="screenshots")
    driver = new_driver(1280, 700)
    try:
        asyncio.run(scene(broker, driver, out))
    finally:
        driver.quit()
        broker.stop()
    print(f"wrote {out / 'console-overview.png'} and {out / 'console-channel.png'}")


if __name__ == "__main__":
    main()
