"""The resident's side: the public catalogue, applying online on a phone, my applications,
handing in materials and rating, and the public progress page."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from shequ.core import testing
from shequ.servicedesk.defaults import CATALOGUE
from shequ.servicedesk.models import Application, ServiceItem
from shequ.servicedesk.states import ItemCategory, Status
from shequ.servicedesk.tests.conftest import Desk, apply_at_desk, apply_online, move, scan

CATALOGUE_URL = reverse("services:catalogue")
MY = reverse("services:my")


def apply_url(item: ServiceItem | str) -> str:
    return reverse("services:apply", args=[item.code if isinstance(item, ServiceItem) else item])


# The catalogue ships with the project


def test_the_default_catalogue_has_at_least_thirty_items_in_every_category(db: Any) -> None:
    items = ServiceItem.objects.filter(active=True)
    assert items.count() == len(CATALOGUE) >= 30
    categories = set(items.values_list("category", flat=True))
    assert categories == set(ItemCategory.values) - {ItemCategory.CERTIFICATE}
    for item in items:
        assert item.department and item.conditions and item.legal_basis, item.code
        assert all(set(m) == {"code", "name", "required"} for m in item.materials), item.code
        assert len({m["code"] for m in item.materials}) == len(item.materials), item.code
    names = set(items.values_list("name", flat=True))
    assert {"高龄津贴", "残疾人两项补贴", "最低生活保障", "法律援助申请", "家庭医生签约"} <= names


def test_installing_the_catalogue_again_keeps_an_admins_changes(db: Any) -> None:
    from shequ.servicedesk.defaults import install_catalogue

    ServiceItem.objects.filter(code="dibao").update(time_limit_days=15)
    assert install_catalogue(ServiceItem) == 0
    assert ServiceItem.objects.get(code="dibao").time_limit_days == 15


def test_anyone_reads_the_catalogue_without_signing_in(
    client: Client, db: Any, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(3):
        response = client.get(CATALOGUE_URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "高龄津贴" in body and "法律援助申请" in body and "养老" in body
    assert 'id="catalogue-results"' in body and "<html" in body


def test_the_catalogue_search_swaps_only_the_results_for_htmx(client: Client, db: Any) -> None:
    response = client.get(CATALOGUE_URL, {"q": "残疾"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="catalogue-results">')
    assert "残疾人两项补贴" in body and "高龄津贴" not in body and "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_the_catalogue_filters_by_category(client: Client, db: Any) -> None:
    body = client.get(CATALOGUE_URL, {"category": "legal"}).content.decode()
    assert "法律援助申请" in body and "人民调解申请" in body and "高龄津贴" not in body


def test_an_item_page_shows_conditions_materials_legal_basis_limit_and_fee(
    client: Client, db: Any
) -> None:
    response = client.get(reverse("services:item", args=["canji-liangxiang-butie"]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in ("第二代残疾人证", "中华人民共和国残疾人证", "国发〔2015〕52号", "20", "免费"):
        assert text in body
    assert reverse("accounts:login") in body  # sign in to apply online


def test_an_unknown_or_inactive_item_is_404(client: Client, db: Any) -> None:
    assert client.get(reverse("services:item", args=["no-such"])).status_code == 404
    ServiceItem.objects.filter(code="dibao").update(active=False)
    assert client.get(reverse("services:item", args=["dibao"])).status_code == 404


# Applying online


def test_the_apply_page_shows_the_register_and_asks_only_the_rest(desk: Desk, login: Any) -> None:
    response = login("resident_a").get(apply_url(desk.gaoling))
    assert response.status_code == 200
    body = response.content.decode()
    assert "张三" in body and "138****5678" in body and "高龄老人" in body
    assert desk.zhang.id_number not in body and "13812345678" not in body
    assert 'name="extra_bank_account"' in body
    assert 'name="material_idcard"' in body and 'name="material_hukou"' in body
    for asked_before in ('name="name"', 'name="id_number"', 'name="phone"', 'name="address"'):
        assert asked_before not in body
    assert 'name="seen_idcard"' not in body  # only the desk ticks originals as seen


def test_a_resident_applies_on_a_phone_and_lands_on_the_application(desk: Desk, login: Any) -> None:
    client = login("resident_a")
    response = client.post(
        apply_url(desk.gaoling),
        {
            "extra_bank_account": "6217000000001234",
            "material_idcard": scan("id.jpg"),
            "material_hukou": scan("hukou.pdf"),
        },
    )
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("services:my_detail", args=[application.code])
    assert application.channel == "online" and application.form["register"]["name"] == "张三"
    page = client.get(response["Location"]).content.decode()
    assert application.code in page and "已提交" in page


def test_missing_materials_are_listed_on_the_form(desk: Desk, login: Any) -> None:
    response = login("resident_a").post(
        apply_url(desk.gaoling),
        {"extra_bank_account": "6217000000001234", "material_idcard": scan()},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "缺少材料：居民户口簿" in body
    assert not Application.objects.exists()


def test_an_account_not_linked_to_the_register_is_sent_to_the_desk(desk: Desk, login: Any) -> None:
    response = login("nobody").get(apply_url(desk.gaoling))
    assert response.status_code == 403
    assert "您的账号尚未与实有人口登记关联" in response.content.decode()


def test_an_item_not_offered_online_cannot_be_applied_for_online(desk: Desk, login: Any) -> None:
    response = login("resident_a").get(apply_url("canjirenzheng-daiban"))
    assert response.status_code == 200
    assert 'name="material_idcard"' not in response.content.decode()


def test_applying_needs_a_sign_in(client: Client, desk: Desk) -> None:
    response = client.get(apply_url(desk.gaoling))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# My applications


def test_my_applications_show_progress_including_those_made_at_the_desk(
    desk: Desk, login: Any, django_assert_max_num_queries: Any
) -> None:
    mine = apply_online(desk)
    at_desk = apply_at_desk(desk)
    someone_else = apply_at_desk(desk, desk.li)
    client = login("resident_a")
    with django_assert_max_num_queries(12):
        response = client.get(MY)
    body = response.content.decode()
    assert mine.code in body and at_desk.code in body and someone_else.code not in body
    assert 'class="steps' in body


def test_the_resident_hands_in_materials_and_rates_from_their_page(desk: Desk, login: Any) -> None:
    application = move(apply_online(desk), "request_materials", note="请补充银行卡")
    client = login("resident_a")
    page = client.get(reverse("services:my_detail", args=[application.code])).content.decode()
    assert "请补充银行卡" in page and 'data-move="supplement"' in page
    assert 'data-move="accept"' not in page
    url = reverse("services:my_act", args=[application.code, "supplement"])
    response = client.post(url, {"material_bankcard": scan(), "version": application.version})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    application = move(move(application, "accept"), "approve")
    response = client.post(
        reverse("services:my_act", args=[application.code, "rate"]),
        {"rating": "4", "note": "办得快"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204
    assert response["HX-Location"] == reverse("services:my_detail", args=[application.code])
    application.refresh_from_db()
    assert application.status == Status.RATED and application.rating == 4


def test_another_resident_gets_404_for_my_application(desk: Desk, login: Any) -> None:
    from shequ.accounts import services as accounts

    accounts.user_create(
        actor="test",
        username="resident_b",
        password=testing.PASSWORD,
        memberships=[(testing.area("B"), "resident")],
    )
    application = apply_online(desk)
    client = login("resident_b")
    assert client.get(reverse("services:my_detail", args=[application.code])).status_code == 404
    url = reverse("services:my_act", args=[application.code, "rate"])
    assert client.post(url, {"rating": 5}).status_code == 404


def test_staff_opening_a_residents_link_are_sent_to_the_desk_page(desk: Desk, login: Any) -> None:
    application = apply_online(desk)
    response = login("community_worker").get(reverse("services:my_detail", args=[application.code]))
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:application", args=[application.code])


# The public progress page


def test_the_progress_page_shows_status_and_dates_but_nothing_personal(
    client: Client, desk: Desk
) -> None:
    application = move(apply_online(desk), "request_materials", note="张三请补充户口簿")
    response = client.get(reverse("services:progress", args=[application.public_token]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "高龄津贴" in body and application.code in body and "需补正材料" in body
    for personal in ("张三", "138****5678", "6217000000001234", "翠苑路", "请补充户口簿"):
        assert personal not in body


def test_an_unknown_progress_token_is_404(client: Client, db: Any) -> None:
    url = reverse("services:progress", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(url).status_code == 404
