"""The default category tree shipped with the platform (a district admin edits it after)."""

from __future__ import annotations

from typing import Any

# (code, name, urgency, sla unit, accept, dispatch, handle, verify, on the spot)
H, D = "hours", "days"
CATEGORIES: list[tuple[str, str, list[tuple[str, str, str, str, int, int, int, int, bool]]]] = [
    ("01", "市容环境", [
        ("0101", "占道经营", "normal", H, 2, 4, 24, 8, True),
        ("0102", "乱堆乱放", "normal", H, 2, 4, 24, 8, True),
        ("0103", "违规广告", "normal", H, 2, 4, 24, 8, True),
        ("0104", "违法建设", "normal", D, 1, 1, 10, 2, False),
    ]),
    ("02", "街面秩序", [
        ("0201", "乱停车", "normal", H, 2, 4, 8, 8, True),
        ("0202", "流动摊贩", "normal", H, 2, 4, 8, 8, True),
        ("0203", "噪声扰民", "normal", H, 2, 4, 24, 8, False),
    ]),
    ("03", "设施损坏", [
        ("0301", "道路破损", "normal", D, 1, 1, 5, 2, False),
        ("0302", "路灯损坏", "normal", D, 1, 1, 3, 2, False),
        ("0303", "井盖缺失", "critical", H, 1, 1, 4, 4, False),
        ("0304", "健身器材损坏", "normal", D, 1, 1, 5, 2, False),
    ]),
    ("04", "安全隐患", [
        ("0401", "消防通道堵塞", "urgent", H, 1, 1, 4, 4, True),
        ("0402", "电动车违规充电", "urgent", H, 1, 2, 8, 4, True),
        ("0403", "高空坠物隐患", "critical", H, 1, 1, 4, 4, False),
        ("0404", "燃气隐患", "critical", H, 1, 1, 2, 4, False),
    ]),
    ("05", "矛盾纠纷", [
        ("0501", "邻里纠纷", "normal", D, 1, 1, 5, 2, False),
        ("0502", "物业纠纷", "normal", D, 1, 1, 10, 2, False),
        ("0503", "劳资纠纷", "urgent", D, 1, 1, 5, 2, False),
        ("0504", "家庭纠纷", "normal", D, 1, 1, 5, 2, False),
    ]),
    ("06", "治安", [
        ("0601", "可疑人员", "urgent", H, 1, 1, 4, 8, False),
        ("0602", "盗窃线索", "normal", H, 2, 2, 24, 8, False),
    ]),
    ("07", "民生服务", [
        ("0701", "困难帮扶", "normal", D, 1, 1, 5, 2, False),
        ("0702", "独居老人关爱", "urgent", H, 2, 2, 24, 8, True),
        ("0703", "政策咨询", "normal", D, 1, 1, 3, 2, True),
    ]),
    ("08", "物业管理", [
        ("0801", "电梯故障", "urgent", H, 1, 1, 8, 4, False),
        ("0802", "二次供水", "urgent", H, 1, 2, 24, 8, False),
        ("0803", "小区绿化", "normal", D, 1, 1, 5, 2, False),
    ]),
    ("09", "环境卫生", [
        ("0901", "垃圾堆积", "normal", H, 2, 4, 24, 8, True),
        ("0902", "垃圾分类", "normal", H, 2, 4, 24, 8, True),
        ("0903", "污水外溢", "urgent", H, 1, 2, 8, 4, False),
        ("0904", "病媒生物", "normal", D, 1, 1, 3, 2, False),
    ]),
    ("99", "其他", [
        ("9901", "其他问题", "normal", D, 1, 1, 5, 2, False),
    ]),
]  # fmt: skip


# Disputes, public security and welfare concern named people: never offered through Open311.
PRIVATE = ("05", "06", "07")


def install_categories(category_model: Any) -> int:
    """Create the default tree (idempotent: existing codes are left as the admin edited them)."""
    created = 0
    for order, (code, name, children) in enumerate(CATEGORIES):
        parent, made = category_model.objects.get_or_create(
            code=code, defaults={"name": name, "sort": order}
        )
        created += made
        for sub_order, (sub, sub_name, urgency, unit, acc, dis, han, ver, spot) in enumerate(
            children
        ):
            _obj, made = category_model.objects.get_or_create(
                code=sub,
                defaults={
                    "name": sub_name,
                    "parent": parent,
                    "urgency": urgency,
                    "sla_unit": unit,
                    "accept_sla": acc,
                    "dispatch_sla": dis,
                    "handle_sla": han,
                    "verify_sla": ver,
                    "on_spot": spot,
                    "sort": sub_order,
                    "public": code not in PRIVATE,
                    # Hours-based categories escalate every working day overdue; day-based
                    # ones every two working days (16 office hours).
                    "escalate_after": 8 if unit == H else 16,
                },
            )
            created += made
    return created
