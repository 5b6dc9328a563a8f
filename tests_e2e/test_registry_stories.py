"""User stories of the register, in a real browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

from shequ.demo.city import PASSWORD
from shequ.lib.idcard import check_digit
from tests_e2e.test_foundation_stories import sign_in

pytestmark = pytest.mark.e2e


def _id(birth: str, seq: str) -> str:
    first17 = f"330106{birth}{seq}"
    return first17 + check_digit(first17)


def _roster(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("花名册")
    sheet.merge_range(0, 0, 0, 4, "阳光社区高龄老人花名册")
    sheet.write_row(1, 0, ["序号", "姓名", "公民身份号码", "联系电话", "现住址"])
    sheet.write_row(2, 0, ["1", "钱老伯", _id("19400302", "131"), "13812345678", ""])
    sheet.write_row(3, 0, ["2", "孫阿婆", _id("19420101", "242"), "１３９００００１２３４", ""])
    sheet.write_row(4, 0, ["3", "错号", "330106194001011230", "", ""])
    sheet.write_string(6, 0, "制表人：张社工")
    book.close()
    return path


def test_community_worker_imports_a_department_list_and_commits_it(
    page: Any, live_server: Any, demo_city: None, artifacts: Path, tmp_path: Path
) -> None:
    sign_in(page, live_server.url, "shequ", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/registry/imports/")
    page.set_input_files("#id_file", str(_roster(tmp_path / "民政局_高龄老人花名册.xlsx")))
    page.fill("#id_source", "民政局")
    page.select_option("#id_area", label="阳光社区")
    page.click("button:has-text('上传并预检')")
    # The preview shows every outcome; nothing is written yet.
    page.wait_for_selector("text=确认导入")
    stats = page.locator(".import-stats").inner_text()
    assert "新增" in stats and "无效" in stats
    assert "校验" in page.locator(".import-errors").inner_text()
    page.screenshot(path=str(artifacts / "import_preview.png"), full_page=True)
    page.click("button:has-text('确认导入')")
    page.wait_for_selector("text=数据冲突和不确定的匹配")
    # The new people are in the register, found by pinyin initials, numbers masked.
    page.goto(f"{live_server.url}/registry/people/?q=sap")
    rows = page.locator("#people-results tbody").inner_text()
    assert "孙阿婆" in rows  # traditional 孫 became 孙
    assert "139****1234" in rows
    assert page.js_errors == []


def test_a_worker_unmasks_a_phone_with_a_reason(
    page: Any, live_server: Any, demo_city: None, tmp_path: Path
) -> None:
    from shequ.accounts.models import User
    from shequ.areas.models import Area
    from shequ.registry import services

    person = services.person_create(
        actor=User.objects.get(username="shequ"),
        area=Area.objects.get(code="330199001001001"),
        name="赵大爷",
        id_number=_id("19380808", "353"),
        phone="13700001111",
    )
    sign_in(page, live_server.url, "shequ", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/registry/people/{person.pk}/")
    assert "137****1111" in page.content() and "13700001111" not in page.content()
    page.select_option("#unmask-field", "phone")
    page.fill("#unmask-reason", "联系家属办理高龄津贴")
    page.click("button:has-text('查看')")
    page.wait_for_selector("text=13700001111")
    assert page.js_errors == []
