"""The museum in Chromium (Playwright, the system browser; skipped when either is missing):
every page fits a 390-px phone, and the image viewer zooms with its buttons, the keyboard,
the wheel, a double click, a double tap and a two-finger pinch, and pans by dragging.
Screenshots are saved in pytest's temporary directory."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.library.test_museum_support import build_exhibition

BASE = "http://museum.test"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                         "has_touch": True, "device_scale_factor": 2}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}


def _in_browser(client: Any, work: Callable[[Any], None]) -> None:
    """Run ``work(browser)`` with every request answered by the Flask test ``client``."""
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not shutil.which(chromium):
        pytest.skip("no Chromium")
    failure: list[BaseException] = []

    def serve(route: Any) -> None:
        url = route.request.url
        if not url.startswith(BASE):
            route.abort()  # nothing outside the site is ever fetched
            return
        r = client.open(url.removeprefix(BASE), method=route.request.method,
                        headers={k: v for k, v in route.request.headers.items()
                                 if k.lower() in ("range", "if-none-match")})
        route.fulfill(status=r.status_code, body=r.get_data(), headers={
            k: v for k, v in r.headers.items() if k.lower() != "content-length"})

    def run() -> None:
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=ARGS)
                browser.route_ = serve
                work(browser)
                browser.close()
        except BaseException as exc:  # re-raised in the test's thread
            failure.append(exc)

    # Playwright's sync API refuses a thread whose asyncio loop is running.
    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


def _page(browser: Any, kind: dict[str, Any]) -> Any:
    ctx = browser.new_context(**kind)
    ctx.set_default_timeout(10_000)
    page = ctx.new_page()
    page.route("**/*", browser.route_)
    return page


def _scale(page: Any) -> float:
    transform = page.eval_on_selector(".mu-img", "e => e.style.transform")
    m = re.search(r"scale\(([\d.e-]+)\)", transform)
    assert m, transform
    return float(m.group(1))


def _translate(page: Any) -> tuple[float, float]:
    transform = page.eval_on_selector(".mu-img", "e => e.style.transform")
    m = re.search(r"translate\(([-\d.e]+)px,\s*([-\d.e]+)px\)", transform)
    assert m, transform
    return float(m.group(1)), float(m.group(2))


def _zoom_label(page: Any) -> str:
    return str(page.inner_text(".mu-scale"))


@pytest.fixture
def museum(library: Any) -> Any:
    with library.app.app_context():
        built = build_exhibition(library.world)
    return library, built


def test_pages_fit_a_phone(museum: Any, tmp_path: Path) -> None:
    library, built = museum
    paths = ["/library/museum/", f"/library/museum/{built.slug}",
             *(f"/library/museum/item/{i}" for i in built.items.values()),
             "/library/museum/search?q=长辛店"]
    widths: dict[str, int] = {}

    def work(browser: Any) -> None:
        page = _page(browser, PHONE)
        for n, path in enumerate(paths):
            page.goto(BASE + path)
            widths[path] = page.evaluate("document.documentElement.scrollWidth")
            page.screenshot(path=str(tmp_path / f"museum-phone-{n}.png"), full_page=True)

    _in_browser(library.app.test_client(), work)
    assert widths == {path: 390 for path in paths}


def test_viewer_buttons_keys_wheel_drag_and_double_click(museum: Any, tmp_path: Path) -> None:
    library, built = museum
    url = f"{BASE}/library/museum/item/{built.items['长辛店机车厂']}"
    seen: dict[str, Any] = {}

    def work(browser: Any) -> None:
        page = _page(browser, DESKTOP)
        page.goto(url)
        page.wait_for_selector(".mu-stage.mu-live")
        fit = _scale(page)
        seen["fit"] = fit
        # fitted and centred in a stage as wide as the viewer
        seen["geometry"] = page.evaluate("""() => {
          const fig = document.querySelector('[data-viewer]'), v = fig.muViewer;
          return [fig.clientWidth - v.stage.clientWidth,
                  v.tx - (v.stage.clientWidth - v.iw * v.s) / 2,
                  v.ty - (v.stage.clientHeight - v.ih * v.s) / 2,
                  Math.min(v.stage.clientWidth - v.iw * v.s, v.stage.clientHeight - v.ih * v.s)];
        }""")
        seen["start"] = _zoom_label(page)
        seen["out_disabled"] = page.is_disabled("[data-zoom=out]")
        page.click("[data-zoom=in]")
        seen["after_in"] = (_zoom_label(page), _scale(page) / fit)
        page.click("[data-zoom=reset]")
        seen["after_reset"] = _zoom_label(page)
        page.focus(".mu-stage")
        page.keyboard.press("+")
        page.keyboard.press("+")
        seen["after_keys"] = _zoom_label(page)
        before = _translate(page)
        page.keyboard.press("ArrowLeft")
        seen["arrow_moved"] = _translate(page)[0] > before[0]
        page.keyboard.press("0")
        seen["after_zero"] = _zoom_label(page)
        box = page.locator(".mu-stage").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(cx, cy)
        page.mouse.wheel(0, -400)
        page.wait_for_timeout(100)
        seen["after_wheel"] = _scale(page) / fit
        before = _translate(page)
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx + 80, cy + 40, steps=5)
        page.mouse.up()
        after = _translate(page)
        seen["dragged"] = (after[0] - before[0], after[1] - before[1])
        page.screenshot(path=str(tmp_path / "museum-viewer-zoomed.png"))
        page.keyboard.press("0")
        page.mouse.dblclick(cx, cy)
        seen["after_dblclick"] = _zoom_label(page)
        page.mouse.dblclick(cx, cy)
        seen["after_second_dblclick"] = _zoom_label(page)
        # never dragged out of the stage: zoomed, the image still covers the stage's centre
        page.keyboard.press("+")
        for _ in range(20):
            page.keyboard.press("Shift+ArrowRight")
        tx, _ty = _translate(page)
        width = page.eval_on_selector(".mu-img", "e => e.naturalWidth") * _scale(page)
        seen["kept_inside"] = tx + width >= box["width"] - 1

    _in_browser(library.app.test_client(), work)
    width_gap, off_x, off_y, slack = seen["geometry"]
    assert width_gap == 0 and abs(off_x) < 1 and abs(off_y) < 1 and abs(slack) < 1
    assert seen["start"] == "100%" and seen["out_disabled"]
    assert seen["after_in"][0] == "150%" and seen["after_in"][1] == pytest.approx(1.5, rel=0.01)
    assert seen["after_reset"] == "100%"
    assert seen["after_keys"] == "225%"
    assert seen["arrow_moved"]
    assert seen["after_zero"] == "100%"
    assert seen["after_wheel"] > 1.2
    assert seen["dragged"] == (pytest.approx(80, abs=2), pytest.approx(40, abs=2))
    assert seen["after_dblclick"] == "250%"
    assert seen["after_second_dblclick"] == "100%"
    assert seen["kept_inside"]


def test_viewer_pinch_and_double_tap_on_a_phone(museum: Any, tmp_path: Path) -> None:
    library, built = museum
    url = f"{BASE}/library/museum/item/{built.items['长辛店机车厂']}"
    seen: dict[str, Any] = {}

    def touch(cdp: Any, kind: str, points: list[tuple[float, float]]) -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": x, "y": y, "id": n} for n, (x, y) in enumerate(points)]})

    def work(browser: Any) -> None:
        page = _page(browser, PHONE)
        page.goto(url)
        page.wait_for_selector(".mu-stage.mu-live")
        fit = _scale(page)
        box = page.locator(".mu-stage").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        cdp = page.context.new_cdp_session(page)
        touch(cdp, "touchStart", [(cx - 40, cy), (cx + 40, cy)])
        for step in range(1, 11):
            d = 40 + step * 10
            touch(cdp, "touchMove", [(cx - d, cy), (cx + d, cy)])
        touch(cdp, "touchEnd", [])
        seen["pinched"] = _scale(page) / fit
        page.screenshot(path=str(tmp_path / "museum-viewer-pinch.png"))
        page.tap("[data-zoom=reset]")  # may scroll the page: measure the stage again
        seen["reset"] = _zoom_label(page)
        box = page.locator(".mu-stage").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for _ in range(2):
            touch(cdp, "touchStart", [(cx, cy)])
            touch(cdp, "touchEnd", [])
            page.wait_for_timeout(60)
        seen["tapped"] = _zoom_label(page)
        # one finger pans the zoomed image, and the page itself does not zoom
        before = _translate(page)
        touch(cdp, "touchStart", [(cx, cy)])
        for step in range(1, 6):
            touch(cdp, "touchMove", [(cx - step * 12, cy)])
        touch(cdp, "touchEnd", [])
        seen["panned"] = _translate(page)[0] - before[0]
        seen["page_scale"] = page.evaluate("window.visualViewport.scale")

    _in_browser(library.app.test_client(), work)
    assert seen["pinched"] == pytest.approx(280 / 80, rel=0.05)  # fingers 80 → 280 px apart
    assert seen["reset"] == "100%"
    assert seen["tapped"] == "250%"
    assert seen["panned"] == pytest.approx(-60, abs=3)
    assert seen["page_scale"] == 1
