"""User stories of the case loop (网格事件), in a real browser."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from shequ.demo.city import PASSWORD
from tests_e2e.test_foundation_stories import sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo_units(demo_city: None) -> None:
    from shequ.areas.models import Area
    from shequ.demo import cases, city

    cases._units(Area.objects.get(code=city.DISTRICT_CODE))


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / "现场.png"
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (180, 90, 60)).save(buf, "PNG")
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture
def people(browser: Any, live_server: Any) -> Iterator[Any]:
    """`people("shequ")` opens a signed-in browser of that demo account (phone-sized if asked)."""
    contexts: list[Any] = []

    def open_as(username: str, *, phone: bool = False) -> Any:
        context = browser.new_context(
            viewport=PHONE if phone else {"width": 1366, "height": 900},
            locale="zh-CN",
            is_mobile=phone,
            has_touch=phone,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        sign_in(page, live_server.url, username, PASSWORD)
        page.wait_for_url(f"{live_server.url}/")
        return page

    yield open_as
    for context in contexts:
        for page in context.pages:
            page.wait_for_load_state("networkidle")
        context.close()


def _act(page: Any, move: str, **fields: str) -> None:
    form = page.locator(f"form.case-move:has(button[data-move='{move}'])")
    for name, value in fields.items():
        form.locator(f"[name='{name}']").fill(value)
    form.locator(f"button[data-move='{move}']").click()
    page.wait_for_load_state("networkidle")


def test_grid_worker_reports_case_and_resident_rates_it(
    page: Any,
    live_server: Any,
    demo_units: None,
    people: Any,
    photo_file: Path,
    artifacts: Path,
) -> None:
    base = live_server.url
    # A grid worker on a phone reports rubbish piled in a stairwell, with a photo.
    grid_worker = people("wangge1", phone=True)
    grid_worker.goto(f"{base}/cases/report/")
    grid_worker.select_option("#id_category", label="市容环境 › 乱堆乱放")
    grid_worker.fill("#id_description", "3号楼楼道口堆满旧家具，堵住了消防通道")
    grid_worker.select_option("#id_area", index=1)
    grid_worker.fill("#id_address", "阳光花园3号楼1单元")
    grid_worker.set_input_files("#id_photos", str(photo_file))
    grid_worker.screenshot(path=str(artifacts / "case_report_phone.png"), full_page=True)
    grid_worker.click("button:has-text('提交')")
    grid_worker.wait_for_url(re.compile(r"/cases/SJ\d{8}-\d{6}/$"))
    code = grid_worker.url.rstrip("/").rsplit("/", 1)[1]
    assert "已上报" in grid_worker.locator("[data-status]").inner_text()
    # The page fits the phone: nothing wider than the screen.
    width = grid_worker.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]

    # The community worker accepts it and dispatches it to the unit the rules suggest (城管).
    worker = people("shequ")
    worker.goto(f"{base}/cases/?queue=to_accept")
    worker.click(f"text={code}")
    _act(worker, "accept")
    assert "已受理" in worker.locator("[data-status]").inner_text()
    assert worker.locator("form.case-move select[name='unit'] option:checked").inner_text() == (
        "清河区城管局"
    )
    _act(worker, "dispatch")
    assert "已派遣" in worker.locator("[data-status]").inner_text()

    # The department handler starts, then resolves with an answer and a photo of the result.
    handler = people("bumen")
    handler.goto(f"{base}/cases/?queue=to_handle")
    handler.click(f"text={code}")
    _act(handler, "start")
    resolve = handler.locator("form.case-move:has(button[data-move='resolve'])")
    resolve.locator("[name='answer']").fill("已联系住户清走旧家具，通道恢复畅通")
    resolve.locator("[name='photos']").set_input_files(str(photo_file))
    resolve.locator("button[data-move='resolve']").click()
    handler.wait_for_load_state("networkidle")
    assert "已办结" in handler.locator("[data-status]").inner_text()
    assert handler.locator("img[alt='处置照片']").count() == 1

    # The grid worker verifies on the spot, from the phone.
    grid_worker.goto(f"{base}/cases/?queue=to_verify")
    grid_worker.click(f"text={code}")
    _act(grid_worker, "verify")
    assert "已核查" in grid_worker.locator("[data-status]").inner_text()

    # The resident who complained follows the link (no sign-in) and rates it.
    worker.reload()
    track_url = worker.locator("a[href*='/track/']").first.get_attribute("href")
    resident = page
    resident.set_viewport_size(PHONE)
    resident.goto(track_url)
    assert "楼道" not in resident.content()  # no description or personal data in public
    resident.check("input[name='rating'][value='4']", force=True)
    resident.fill("#rate-note", "处理得很快")
    resident.click("button:has-text('评价')")
    resident.wait_for_load_state("networkidle")
    assert "已评价" in resident.locator("[data-status]").inner_text()
    resident.screenshot(path=str(artifacts / "case_track_rated.png"), full_page=True)

    # The timeline shows every step, in order.
    worker.reload()
    timeline = worker.locator(".case-timeline").inner_text()
    for step in ("上报", "受理", "派遣", "开始处置", "办结", "核查", "评价"):
        assert step in timeline
    worker.screenshot(path=str(artifacts / "case_detail.png"), full_page=True)
    for p in (grid_worker, worker, handler, resident):
        assert p.js_errors == []
