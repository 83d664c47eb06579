"""End-to-end fixtures: a real ``unionhub serve`` (waitress) on demo data, driven by the
system Chromium through Playwright.

The server is set up the way a user would: ``unionhub db upgrade``, ``unionhub demo`` and
``unionhub serve`` as sub-processes on a temporary instance directory (SQLite). No browser
is ever downloaded: Playwright launches Debian's ``/usr/bin/chromium``. Without it the
tests are skipped, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
VENV_BIN = Path(sys.executable).parent
UNIONHUB = VENV_BIN / "unionhub"
DEMO_PASSWORD = "Union12351"
START_TIMEOUT = 30.0

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}

# "  邓丽  京卡 6214200000146644454  手机 19100000000  身份证 110101197807039723"
MEMBER_LINE = re.compile(
    r"^\s*(?P<name>\S+)\s+京卡\s+(?P<card>\d+)\s+手机\s+(?P<mobile>\d+)\s+身份证\s+(?P<id>[0-9X]+)\s*$"
)


@dataclass(frozen=True)
class DemoMember:
    name: str
    card: str
    mobile: str
    id_number: str


@dataclass
class LiveServer:
    url: str
    members: list[DemoMember]
    log: Path


def _chromium_or_skip() -> str:
    if CHROMIUM.exists():
        return str(CHROMIUM)
    msg = f"e2e tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{msg}; it is required when CI=true", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return _chromium_or_skip()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([str(UNIONHUB), *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    if proc.returncode != 0:
        pytest.fail(f"`unionhub {' '.join(args)}` failed ({proc.returncode}):\n"
                    f"{proc.stdout}\n{proc.stderr}", pytrace=False)
    return proc.stdout


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`unionhub serve` exited with {proc.returncode}:\n"
                        f"{log.read_text(errors='replace')}", pytrace=False)
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"`unionhub serve` did not answer at {url} within {START_TIMEOUT:.0f} s:\n"
                f"{log.read_text(errors='replace')}", pytrace=False)


@pytest.fixture(scope="session")
def live_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[LiveServer]:
    """``unionhub db upgrade`` + ``demo --members 200`` + ``serve`` on a free port."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    env = os.environ.copy()
    env["UNIONHUB_INSTANCE_PATH"] = str(instance)
    env.pop("UNIONHUB_DATABASE_URL", None)  # SQLite in the instance directory
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"

    _run(env, "db", "upgrade")
    # the bundled plugins, as scripts/run.sh does
    for plugin in ("mutualaid", "benefits_mall", "portal", "library", "oa"):
        _run(env, "plugins", "enable", plugin)
    out = _run(env, "demo", "--members", "200")
    members = [DemoMember(m["name"], m["card"], m["mobile"], m["id"])
               for m in map(MEMBER_LINE.match, out.splitlines()) if m]
    assert len(members) == 3, f"expected 3 demo member sign-ins in:\n{out}"

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = instance / "serve.log"
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [str(UNIONHUB), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=fh, stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(proc, url + "/", log)
        yield LiveServer(url, members, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS,
                               headless=True)
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[Callable[..., Any]]:
    """``new_page("phone" | "desktop")``: a page in a fresh browser context (own cookies)."""
    contexts: list[Any] = []

    def make(kind: str = "desktop") -> Any:
        ctx = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  **(PHONE if kind == "phone" else DESKTOP))
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session")
def shot() -> Callable[[Any, str], Path]:
    """``shot(page, name)``: a full-page screenshot at ``tests/e2e/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
