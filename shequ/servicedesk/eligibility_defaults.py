"""The eligibility rules every district starts with (主动推送), as data.

`install_rules(EligibilityRule, ServiceItem)` creates the missing ones and leaves those a
district admin has edited alone; it takes the model classes so a data migration can call it
with historical models. Item codes are those of `defaults.CATALOGUE`, tag codes those of
`shequ.registry.tags.DEFAULT_TAGS`.
"""

from __future__ import annotations

from typing import Any

# (code, name, expression, receiving, item code, outreach, notice)
DEFAULT_RULES: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    (
        "gaoling-jintie",
        "高龄津贴",
        'age >= 80 and residence_type == "registered"',
        "",
        "gaoling-jintie",
        "告知高龄津贴政策，协助准备身份证、户口簿和银行卡；行动不便的上门代办申请。",
        "您已年满80周岁，可以申请高龄津贴（按月发放）。可在手机上申请，也可到社区服务中心办理；"
        "行动不便的，网格员可上门代办。",
    ),
    (
        "canji-shenghuo-butie",
        "困难残疾人生活补贴",
        'has_tag("disabled") and (has_tag("dibao") or has_tag("tekun"))',
        "",
        "canji-liangxiang-butie",
        "核实残疾人证和低保（特困）身份，协助申请困难残疾人生活补贴。",
        "您是低保（特困）家庭中的残疾人，可以申请困难残疾人生活补贴。请带上身份证和残疾人证到"
        "社区服务中心，或在手机上申请。",
    ),
    (
        "canji-huli-butie",
        "重度残疾人护理补贴",
        'has_tag("disabled") and tag_level("disabled") <= 2',
        "",
        "canji-liangxiang-butie",
        "上门了解照护情况，协助一级、二级残疾人申请护理补贴，可代办。",
        "您的残疾等级为一级或二级，可以申请重度残疾人护理补贴。网格员可上门协助办理。",
    ),
    (
        "duju-tanfang",
        "独居老人定期探访",
        "age >= 70 and lives_alone",
        'has_tag("elderly-alone")',
        "",
        "上门核实是否独居，登记为独居老人，纳入每周探访和紧急呼叫服务。",
        "社区将定期上门探访独居老人。如您需要紧急呼叫设备或助餐、助洁服务，请告诉网格员。",
    ),
    (
        "yanglao-fuwu-butie",
        "经济困难失能老人养老服务补贴",
        'age >= 60 and residence_type == "registered"\n'
        'and (has_tag("elderly-disabled") or has_tag("elderly-semi-disabled"))\n'
        'and (has_tag("dibao") or has_tag("tekun") or has_tag("dibao-edge"))',
        "",
        "yanglao-fuwu-butie",
        "协助预约老年人能力评估，申请养老服务补贴（可用于居家上门服务）。",
        "您符合经济困难失能、半失能老人养老服务补贴的条件，可用于购买助餐、助洁、助浴等上门服务。",
    ),
    (
        "dibao-bianyuan-yiliao",
        "低保边缘家庭医疗救助",
        'has_tag("dibao-edge")',
        "",
        "yiliao-jiuzhu",
        "告知低保边缘家庭可申请医疗救助，了解近期就医和自付费用情况。",
        "低保边缘家庭成员经医保报销后自付的医疗费用，可以申请医疗救助。请保留医疗费用票据。",
    ),
    (
        "laonian-tijian",
        "老年人免费健康体检",
        'age >= 65 and residence_type in ["registered", "floating"]',
        "",
        "laonian-tijian",
        "提醒预约社区卫生服务中心的免费体检，行动不便的协助安排。",
        "65周岁以上常住老年人每年可在社区卫生服务中心免费体检一次，请预约时间。",
    ),
    (
        "laonianren-youdaizheng",
        "老年人优待证",
        'age >= 60 and residence_type in ["registered", "floating"]',
        "",
        "laonianren-youdaizheng",
        "告知老年人优待证的优待项目，协助准备身份证和照片办理。",
        "年满60周岁的老年人可办理老年人优待证，享受公共交通、公园景点等优待。",
    ),
    (
        "youfu-dingqi-fuxu",
        "优抚对象定期抚恤",
        'has_tag("youfu") and residence_type == "registered"',
        "",
        "youfu-dingqi-fuxu",
        "走访优抚对象，核实抚恤补助的领取情况，协助办理。",
        "您是本区优抚对象，可以按规定领取定期抚恤补助，社区可协助办理。",
    ),
    (
        "kunnan-xuesheng-zizhu",
        "困难家庭学生资助",
        "6 <= age <= 22\n"
        'and (has_tag("dibao") or has_tag("tekun") or has_tag("dibao-edge")\n'
        'or has_tag("child-in-difficulty"))',
        "",
        "kunnan-xuesheng-zizhu",
        "告知家长可为在校学生申请资助，协助开具学籍证明。",
        "低保、特困、低保边缘家庭和困境儿童家庭的在校学生可以申请学生资助。",
    ),
)


def install_rules(model: Any, item_model: Any) -> int:
    """Create the default rules that are missing; returns how many were created."""
    existing = set(model.objects.values_list("code", flat=True))
    items = {i.code: i for i in item_model.objects.all()}
    created = 0
    for code, name, expression, receiving, item, outreach, notice in DEFAULT_RULES:
        if code in existing:
            continue
        model.objects.create(
            code=code,
            name=name,
            expression=expression,
            receiving=receiving,
            item=items.get(item),
            outreach=outreach,
            notice=notice,
            active=True,
        )
        created += 1
    return created
