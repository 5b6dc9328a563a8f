"""User stories of the foundation, in a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shequ.demo.city import PASSWORD

pytestmark = pytest.mark.e2e


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def test_community_worker_logs_in_and_sees_their_grids(
    page: Any, live_server: Any, demo_city: None, artifacts: Path
) -> None:
    sign_in(page, live_server.url, "shequ", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    # Chinese interface, the worker's own community, its eight grids with real counts.
    assert page.locator("h1.page-title").inner_text().startswith("您好")
    assert "阳光社区" in page.locator(".topbar").inner_text()
    rows = page.locator("table tbody tr")
    assert rows.count() == 8
    assert "阳光社区第1网格" in rows.first.inner_text()
    grids_stat = page.locator(".stat-card", has_text="网格").first
    assert "8" in grids_stat.inner_text()
    # The map draws one polygon per grid; the chart renders.
    page.wait_for_selector(".area-map path.leaflet-interactive")
    assert page.locator(".area-map path.leaflet-interactive").count() == 8
    page.wait_for_selector("[data-chart] svg")
    page.screenshot(path=str(artifacts / "community_worker_home.png"), full_page=True)
    assert page.js_errors == []
    # Another community's grid is not theirs: 404 page in Chinese.
    response = page.goto(f"{live_server.url}/areas/330199001002/")
    assert response is not None and response.status == 404
    assert "无权查看" in page.content()
    page.js_errors.clear()  # the browser logs the deliberate 404 above as a console error
    # The tree browser expands the community lazily.
    page.goto(f"{live_server.url}/areas/")
    page.wait_for_selector(".area-children .area-node")
    assert page.locator(".area-children .area-node").count() == 8
    assert page.js_errors == []


def test_grid_worker_on_a_phone_sees_only_their_grid(
    browser: Any, live_server: Any, demo_city: None, artifacts: Path
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    sign_in(page, live_server.url, "wangge1", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    body = page.locator("main").inner_text()
    assert "我的网格" in body
    assert "阳光社区第1网格" in body
    assert "阳光社区第2网格" not in body
    # Nothing overflows the phone's width.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    page.screenshot(path=str(artifacts / "grid_worker_phone.png"), full_page=True)
    page.wait_for_load_state("networkidle")
    context.close()


def test_an_account_is_locked_after_five_bad_passwords(
    page: Any, live_server: Any, demo_city: None
) -> None:
    for _attempt in range(4):
        sign_in(page, live_server.url, "jiedao", "wrong-password-1")
        assert "用户名或密码错误" in page.content()
    sign_in(page, live_server.url, "jiedao", "wrong-password-1")
    assert "账号已锁定" in page.content()  # the fifth failure locks the account
    sign_in(page, live_server.url, "jiedao", PASSWORD)
    assert "账号已锁定" in page.content()  # and even the right password is refused now
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    # Another account is not affected.
    sign_in(page, live_server.url, "shequ", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
