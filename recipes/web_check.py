"""Drive the studio page in headless Chromium over the DevTools protocol (no Selenium or Playwright needed):
open each tab, run an AdaIN stylisation from the image tab, wait for the result, and screenshot.

Usage: python recipes/web_check.py --port 7861 --out docs   (the server must be running; see web_check.sh)
"""
import argparse
import base64
import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1280,900", "--remote-debugging-port=9333"]


class Page:
    """One Chromium tab, spoken to through its DevTools websocket."""

    def __init__(self, websocket):
        self.ws = websocket
        self.next_id = 0

    def send(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message.get("result", {})

    def evaluate(self, expression: str):
        return self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(expression)
            time.sleep(0.5)

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=7861)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    profile = tempfile.mkdtemp(prefix="chromium_")
    browser = subprocess.Popen(["chromium", *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(60):
            try:
                targets = json.load(urllib.request.urlopen("http://127.0.0.1:9333/json"))
                break
            except OSError:
                time.sleep(0.5)
        from websockets.sync.client import connect

        with connect(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"], max_size=50 * 2**20) as websocket:
            drive(Page(websocket), args)
    finally:
        browser.terminate()


def drive(page: Page, args: argparse.Namespace) -> None:
    page.send("Page.enable")
    page.send("Page.navigate", url=f"http://127.0.0.1:{args.port}/")
    page.wait_for("document.querySelectorAll('select[name=content_sample] option').length > 0", 30)
    page.evaluate("(s => { s.value = 384; s.dispatchEvent(new Event('input')); })(document.querySelector('input[name=size]'))")
    page.evaluate("document.querySelector('#image-form button.go').click()")
    page.wait_for("!!document.querySelector('#image-result a')", 180)
    page.screenshot(args.out / "studio_image.png")
    error = page.evaluate("document.querySelector('#image-result .error')?.textContent || ''")
    if error:
        raise SystemExit(f"the image tab showed an error: {error}")
    page.evaluate("document.querySelector('nav button[data-tab=text]').click()")
    page.evaluate("document.querySelector('#text-form button.go').click()")
    page.wait_for("document.querySelector('#text-result').textContent.length > 0", 60)
    page.screenshot(args.out / "studio_text.png")
    print(f"wrote {args.out / 'studio_image.png'} and {args.out / 'studio_text.png'}")

if __name__ == "__main__":
    main()
