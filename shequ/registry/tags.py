"""The default special-group tags (重点人群) as data, and the service that installs them.

A district admin may add more tags later; these are the ones every district starts with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from shequ.core import audit
from shequ.registry.models import TagType

DISABILITY_CATEGORIES = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
DISABILITY_LEVELS = ("一级", "二级", "三级", "四级")


@dataclass(frozen=True)
class TagSpec:
    code: str
    name: str
    category: str
    sensitive: bool = False
    attributes: list[str] = field(default_factory=list)


# `PersonTag.details` keys of a disability tag; values from the two tuples above.
DISABILITY_ATTRIBUTES = ["category", "level"]

DEFAULT_TAGS: tuple[TagSpec, ...] = (
    TagSpec("elderly-alone", "独居老人", "养老"),
    TagSpec("elderly-empty-nest", "空巢老人", "养老"),
    TagSpec("elderly-80", "高龄老人", "养老"),
    TagSpec("elderly-disabled", "失能老人", "养老", sensitive=True),
    TagSpec("elderly-semi-disabled", "半失能老人", "养老", sensitive=True),
    TagSpec("disabled", "残疾人", "助残", sensitive=True, attributes=DISABILITY_ATTRIBUTES),
    TagSpec("dibao", "低保对象", "救助"),
    TagSpec("tekun", "特困人员", "救助"),
    TagSpec("dibao-edge", "低保边缘", "救助"),
    TagSpec("youfu", "优抚对象", "优抚"),
    TagSpec("veteran", "退役军人", "优抚"),
    TagSpec("left-behind-child", "留守儿童", "儿童"),
    TagSpec("child-in-difficulty", "困境儿童", "儿童"),
    TagSpec("maternal", "孕产妇", "健康", sensitive=True),
    TagSpec("community-correction", "社区矫正对象", "平安", sensitive=True),
    TagSpec("released-prisoner", "刑满释放人员", "平安", sensitive=True),
    TagSpec("severe-mental-illness", "严重精神障碍患者", "健康", sensitive=True),
    TagSpec("key-youth", "重点青少年", "平安", sensitive=True),
    TagSpec("party-member-in-community", "下沉党员", "党建"),
    TagSpec("volunteer", "志愿者", "党建"),
)

CATEGORIES = ("养老", "助残", "救助", "优抚", "儿童", "健康", "平安", "党建")


@transaction.atomic
def tags_ensure_defaults(*, actor: Any) -> int:
    """Create whichever default tags are missing (existing ones are left as an admin set them).

    Returns how many were created; one audit entry per call records that count.
    """
    existing = set(TagType.objects.values_list("code", flat=True))
    missing = [spec for spec in DEFAULT_TAGS if spec.code not in existing]
    TagType.objects.bulk_create(
        [
            TagType(
                code=spec.code,
                name=spec.name,
                category=spec.category,
                sensitive=spec.sensitive,
                attributes=list(spec.attributes),
            )
            for spec in missing
        ]
    )
    audit.record(
        actor=actor,
        action="tag.defaults_ensured",
        object_type="registry.tagtype",
        changes={"created": len(missing), "codes": [spec.code for spec in missing]},
    )
    return len(missing)
