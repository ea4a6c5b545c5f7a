"""A real headless Chromium for tests, driven over the DevTools protocol (aiohttp websockets, no extra package).

    page = await load_page(chromium, "file:///.../report.html", tmp_path)
    page.dom       # what the page's own script-free DOM says: images, links, ids, text, sizes
    page.failed    # requests the browser could not complete (a broken image, a missing file)
    page.png       # a screenshot of the first screen (PNG bytes)

Chromium comes from the system (`apt-get install chromium` on Debian/Ubuntu); `find_chromium()` is None
when none is installed, and the tests that need it skip saying so.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

# Runs in the page after its load event: everything a check needs, as JSON.
INSPECT = """JSON.stringify({
  images: [...document.images].map(i => ({src: (i.getAttribute('src') || '').slice(0, 80),
                                          complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})),
  hrefs: [...document.querySelectorAll('[href]')].map(e => e.getAttribute('href')),
  srcs: [...document.querySelectorAll('[src]')].map(e => (e.getAttribute('src') || '').slice(0, 80)),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  text: document.body.innerText,
  scroll_width: document.documentElement.scrollWidth,
  scroll_height: document.documentElement.scrollHeight,
  viewport_width: window.innerWidth,
  boxes: Object.fromEntries(['.summary', '.columns', 'section', 'img'].map(
      css => [css, [...document.querySelectorAll(css)].map(e => e.getBoundingClientRect().toJSON())])),
})"""


def find_chromium() -> str | None:
    for name in (os.environ.get("MEDO1_CHROMIUM"), *NAMES):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@dataclass
class Page:
    dom: dict[str, Any]
    png: bytes
    failed: list[str] = field(default_factory=list)  # "url: error text" of every request that failed
    console: list[str] = field(default_factory=list)  # console / log messages of level error


async def load_page(chromium: str, url: str, profile: Path, *, width: int = 1280, height: int = 1600,
                    timeout: float = 60) -> Page:
    """Open `url` in a fresh headless Chromium, wait for its load event, inspect it and take a screenshot."""
    proc = await asyncio.create_subprocess_exec(
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-extensions", "--hide-scrollbars", "--remote-debugging-port=0", f"--user-data-dir={profile}",
        f"--window-size={width},{height}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        return await asyncio.wait_for(_drive(proc, url, width, height), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def _drive(proc: asyncio.subprocess.Process, url: str, width: int, height: int) -> Page:
    endpoint = None
    while endpoint is None:  # Chromium says where its DevTools endpoint listens on stderr
        line = (await proc.stderr.readline()).decode(errors="replace")
        if not line:
            raise RuntimeError("chromium exited before its DevTools endpoint was up")
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        endpoint = found.group(1) if found else None
    asyncio.get_running_loop().create_task(_drain(proc.stderr))
    port = re.search(r":(\d+)/", endpoint).group(1)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as r:
            target = next(t for t in await r.json() if t["type"] == "page")
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            return await _inspect(_Session(ws), url, width, height)


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


class _Session:
    """Commands and events of one DevTools page session."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws, self.ids, self.events = ws, itertools.count(1), []

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        n = next(self.ids)
        await self.ws.send_json({"id": n, "method": method, "params": params})
        while True:
            msg = await self.ws.receive_json()
            if msg.get("id") == n:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]
            self.events.append(msg)

    async def until(self, method: str) -> dict[str, Any]:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(await self.ws.receive_json())
        return next(e for e in self.events if e.get("method") == method)


async def _inspect(s: _Session, url: str, width: int, height: int) -> Page:
    for domain in ("Page", "Network", "Runtime", "Log"):
        await s.send(f"{domain}.enable")
    await s.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
    await s.send("Page.navigate", url=url)
    await s.until("Page.loadEventFired")
    result = await s.send("Runtime.evaluate", expression=INSPECT, returnByValue=True)
    dom = json.loads(result["result"]["value"])
    png = base64.b64decode((await s.send("Page.captureScreenshot", format="png"))["data"])
    urls = {e["params"]["requestId"]: e["params"]["request"]["url"][:120]
            for e in s.events if e.get("method") == "Network.requestWillBeSent"}
    failed = [f"{urls.get(e['params']['requestId'], '?')}: {e['params'].get('errorText')}"
              for e in s.events if e.get("method") == "Network.loadingFailed"]
    console = [e["params"]["entry"]["text"] for e in s.events
               if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"]
    console += [json.dumps(e["params"])[:300] for e in s.events if e.get("method") == "Runtime.exceptionThrown"]
    return Page(dom, png, failed, console)
