"""The default catalogue of public services (公共服务事项清单) shipped with the platform.

A district admin edits it afterwards; installing is idempotent and never overwrites an item
an admin has changed. Legal bases cite regulations by name (and document number only where it
is the well-known one); local rules differ and are added by each district.

`extra_fields` are what the applicant adds beyond the register (最多录一次): the register's
name, ID, address, household and tags are never asked again.
"""

from __future__ import annotations

from typing import Any

# Materials used by many items.
IDCARD = {"code": "idcard", "name": "居民身份证", "required": True}
HUKOU = {"code": "hukou", "name": "居民户口簿", "required": True}
PHOTO = {"code": "photo", "name": "近期免冠彩色照片", "required": True}
BANKCARD = {"code": "bankcard", "name": "本人社会保障卡或银行卡", "required": True}
DISABILITY_CARD = {"code": "disability_card", "name": "中华人民共和国残疾人证", "required": True}
CONSENT = {
    "code": "consent",
    "name": "家庭经济状况核对授权书（共同生活家庭成员签字）",
    "required": True,
}


def _opt(material: dict[str, Any]) -> dict[str, Any]:
    return {**material, "required": False}


def _field(
    code: str,
    label: str,
    kind: str = "text",
    *,
    required: bool = True,
    choices: list[str] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"code": code, "label": label, "type": kind, "required": required}
    if choices:
        spec["choices"] = choices
    return spec


BANK_ACCOUNT = _field("bank_account", "收款社会保障卡或银行账号")
REASON = _field("reason", "申请事由", "textarea")

CIVIL = "区民政局"
DISABLED = "区残疾人联合会"
HRSS = "区人力资源和社会保障局"
HEALTH = "区卫生健康委员会"
VETERANS = "区退役军人事务局"
EDUCATION = "区教育局"
JUSTICE = "区司法局"
POLICE = "区公安分局（派出所）"

# Each item: the fields of ServiceItem. Order within a category is the order listed.
CATALOGUE: list[dict[str, Any]] = [
    # 养老 ------------------------------------------------------------------------------------
    {
        "code": "gaoling-jintie",
        "name": "高龄津贴",
        "category": "elderly",
        "department": CIVIL,
        "description": "向本区户籍高龄老年人按月发放津贴。",
        "conditions": "年满80周岁、具有本区户籍的老年人。",
        "materials": [IDCARD, HUKOU, _opt(BANKCARD)],
        "legal_basis": "《中华人民共和国老年人权益保障法》及本地高龄津贴制度实施办法",
        "time_limit_days": 20,
        "extra_fields": [BANK_ACCOUNT],
    },
    {
        "code": "yanglao-fuwu-butie",
        "name": "养老服务补贴",
        "category": "elderly",
        "department": CIVIL,
        "description": "为经济困难的失能、半失能、高龄老年人购买养老服务提供补贴。",
        "conditions": "本区户籍、经济困难且经评估为失能、半失能或高龄的老年人。",
        "materials": [
            IDCARD,
            HUKOU,
            _opt({"code": "care_assessment", "name": "老年人能力评估结果", "required": True}),
            CONSENT,
        ],
        "legal_basis": "《中华人民共和国老年人权益保障法》；《财政部 民政部 全国老龄办关于建立健全"
        "经济困难的高龄 失能等老年人补贴制度的通知》",
        "time_limit_days": 20,
        "extra_fields": [
            _field("care_level", "自理能力", "choice", choices=["失能", "半失能", "能自理"]),
            BANK_ACCOUNT,
        ],
    },
    {
        "code": "jujia-yanglao",
        "name": "居家养老服务申请",
        "category": "elderly",
        "department": "街道养老服务中心",
        "description": "为居家老年人提供助餐、助洁、助浴、助医、陪护等上门服务。",
        "conditions": "居住在本区、年满60周岁、有居家养老服务需求的老年人。",
        "materials": [IDCARD],
        "legal_basis": "《中华人民共和国老年人权益保障法》",
        "time_limit_days": 5,
        "extra_fields": [
            _field(
                "services",
                "需要的服务",
                "choice",
                choices=["助餐", "助洁", "助浴", "助医", "陪护", "精神慰藉"],
            ),
            _field("preferred_time", "希望的上门时间", required=False),
        ],
    },
    {
        "code": "laonianren-youdaizheng",
        "name": "老年人优待证",
        "category": "elderly",
        "department": "区民政局（老龄工作委员会办公室）",
        "description": "凭证享受公共交通、文体场馆、公园景点等优待。",
        "conditions": "年满60周岁的本区户籍或持本区居住证的老年人。",
        "materials": [IDCARD, PHOTO],
        "legal_basis": "《中华人民共和国老年人权益保障法》",
        "time_limit_days": 5,
    },
    {
        "code": "laonian-zhucan",
        "name": "老年助餐服务登记",
        "category": "elderly",
        "department": "社区养老服务驿站",
        "description": "登记在社区老年餐桌就餐或送餐上门，符合条件的享受就餐补贴。",
        "conditions": "居住在本社区、年满60周岁的老年人；高龄、独居、失能老人优先。",
        "materials": [IDCARD],
        "legal_basis": "《中华人民共和国老年人权益保障法》",
        "time_limit_days": 0,
        "extra_fields": [
            _field("delivery", "就餐方式", "choice", choices=["到餐桌就餐", "送餐上门"]),
            _field("diet", "饮食禁忌", required=False),
        ],
    },
    {
        "code": "jumin-yanglao-daiyu",
        "name": "城乡居民基本养老保险待遇领取",
        "category": "elderly",
        "department": HRSS,
        "description": "参加城乡居民基本养老保险、达到领取年龄的，按月领取养老金。",
        "conditions": "年满60周岁、累计缴费满15年且未领取其他基本养老保险待遇的参保人员。",
        "materials": [IDCARD, HUKOU, _opt(BANKCARD)],
        "legal_basis": "《中华人民共和国社会保险法》；"
        "《国务院关于建立统一的城乡居民基本养老保险制度的意见》",
        "time_limit_days": 15,
        "extra_fields": [BANK_ACCOUNT],
    },
    # 助残 ------------------------------------------------------------------------------------
    {
        "code": "canji-liangxiang-butie",
        "name": "残疾人两项补贴",
        "category": "disability",
        "department": "区民政局、区残疾人联合会",
        "description": "困难残疾人生活补贴和重度残疾人护理补贴。",
        "conditions": "持有第二代残疾人证：低保家庭中的残疾人可申请生活补贴；残疾等级为一级、二级"
        "且需要长期照护的重度残疾人可申请护理补贴。",
        "materials": [IDCARD, DISABILITY_CARD, HUKOU, _opt(BANKCARD)],
        "legal_basis": "《中华人民共和国残疾人保障法》；《国务院关于全面建立困难残疾人生活补贴和"
        "重度残疾人护理补贴制度的意见》（国发〔2015〕52号）",
        "time_limit_days": 20,
        "extra_fields": [
            _field(
                "subsidy",
                "申请的补贴",
                "choice",
                choices=["困难残疾人生活补贴", "重度残疾人护理补贴", "两项都申请"],
            ),
            BANK_ACCOUNT,
        ],
    },
    {
        "code": "canjirenzheng-daiban",
        "name": "残疾人证办理（代办）",
        "category": "disability",
        "department": DISABLED,
        "description": "社区代为申请残疾评定和残疾人证，行动不便的可预约上门评残。",
        "conditions": "符合残疾标准的本区户籍居民。",
        "materials": [
            IDCARD,
            HUKOU,
            PHOTO,
            _opt({"code": "diagnosis", "name": "医院诊断证明或病历", "required": True}),
        ],
        "legal_basis": "《中华人民共和国残疾人保障法》；《残疾人残疾分类和分级》国家标准",
        "time_limit_days": 20,
        "online": False,
        "extra_fields": [
            _field(
                "disability_type",
                "残疾类别",
                "choice",
                choices=["视力", "听力", "言语", "肢体", "智力", "精神", "多重"],
            ),
            _field("home_visit", "需要上门评残", "choice", choices=["否", "是"]),
        ],
    },
    {
        "code": "fuzhu-qiju",
        "name": "辅助器具申领",
        "category": "disability",
        "department": DISABLED,
        "description": "为有需求的残疾人适配轮椅、助听器、助行器等基本型辅助器具。",
        "conditions": "持有残疾人证、经评估有辅助器具适配需求的本区户籍残疾人。",
        "materials": [IDCARD, DISABILITY_CARD],
        "legal_basis": "《中华人民共和国残疾人保障法》",
        "time_limit_days": 15,
        "extra_fields": [
            _field(
                "device",
                "需要的辅助器具",
                "choice",
                choices=["轮椅", "助行器", "助听器", "盲杖", "坐便椅", "其他"],
            ),
        ],
    },
    {
        "code": "wuzhangai-gaizao",
        "name": "困难重度残疾人家庭无障碍改造",
        "category": "disability",
        "department": DISABLED,
        "description": "为困难重度残疾人家庭进行扶手、坡道、卫浴等无障碍改造。",
        "conditions": "本区户籍、持残疾人证的困难重度残疾人家庭。",
        "materials": [IDCARD, DISABILITY_CARD],
        "legal_basis": "《中华人民共和国无障碍环境建设法》；《中华人民共和国残疾人保障法》",
        "time_limit_days": 20,
        "extra_fields": [_field("needs", "需要改造的部位", "textarea")],
    },
    # 社会救助 --------------------------------------------------------------------------------
    {
        "code": "dibao",
        "name": "最低生活保障",
        "category": "assistance",
        "department": "街道办事处（区民政局审核确认）",
        "description": "对共同生活家庭成员人均收入低于当地最低生活保障标准的家庭给予生活保障。",
        "conditions": "本区户籍，共同生活的家庭成员人均收入低于当地低保标准，且家庭财产状况符合"
        "当地规定。",
        "materials": [
            IDCARD,
            HUKOU,
            {"code": "income", "name": "家庭成员收入情况说明", "required": True},
            CONSENT,
        ],
        "legal_basis": "《社会救助暂行办法》；《最低生活保障审核确认办法》",
        "time_limit_days": 30,
        "extra_fields": [
            _field("household_size", "共同生活家庭成员人数", "number"),
            _field("monthly_income", "家庭月总收入（元）", "number"),
            REASON,
        ],
    },
    {
        "code": "tekun-gongyang",
        "name": "特困人员供养",
        "category": "assistance",
        "department": "街道办事处（区民政局审核确认）",
        "description": "对无劳动能力、无生活来源、无法定赡养抚养扶养义务人的老年人、残疾人和"
        "未成年人给予救助供养。",
        "conditions": "同时具备无劳动能力、无生活来源、无法定赡养抚养扶养义务人或者其法定义务人"
        "无履行义务能力的本区户籍老年人、残疾人以及未满16周岁的未成年人。",
        "materials": [IDCARD, HUKOU, CONSENT],
        "legal_basis": "《社会救助暂行办法》；《特困人员认定办法》",
        "time_limit_days": 20,
        "extra_fields": [
            _field("care_mode", "供养方式", "choice", choices=["分散供养", "集中供养"]),
            REASON,
        ],
    },
    {
        "code": "linshi-jiuzhu",
        "name": "临时救助",
        "category": "assistance",
        "department": "街道办事处",
        "description": "对因火灾、交通事故、突发重大疾病等导致基本生活暂时出现严重困难的家庭或"
        "个人给予应急性、过渡性救助；情况紧急的先行救助。",
        "conditions": "因意外事件、突发重大疾病或生活必需支出突然增加，基本生活暂时出现严重困难的"
        "家庭或个人。",
        "materials": [
            IDCARD,
            _opt(
                {"code": "evidence", "name": "困难情况证明（诊断、事故认定等）", "required": True}
            ),
        ],
        "legal_basis": "《社会救助暂行办法》；《国务院关于全面建立临时救助制度的通知》"
        "（国发〔2014〕47号）",
        "time_limit_days": 10,
        "extra_fields": [
            REASON,
            _field("amount", "申请救助金额（元）", "number", required=False),
        ],
    },
    {
        "code": "yiliao-jiuzhu",
        "name": "医疗救助",
        "category": "assistance",
        "department": "区医疗保障局",
        "description": "对救助对象经基本医保、大病保险报销后的个人自付医疗费用给予救助。",
        "conditions": "低保对象、特困人员、低保边缘家庭成员、返贫致贫人口及因病致贫重病患者等。",
        "materials": [
            IDCARD,
            {"code": "invoices", "name": "医疗费用票据及结算单", "required": True},
            _opt({"code": "diagnosis", "name": "诊断证明或出院小结", "required": True}),
        ],
        "legal_basis": "《社会救助暂行办法》；《国务院办公厅关于健全重特大疾病医疗保险和救助制度"
        "的意见》",
        "time_limit_days": 20,
        "extra_fields": [
            _field("hospital", "就诊医院"),
            _field("expense", "个人自付费用（元）", "number"),
        ],
    },
    {
        "code": "gongzu-fang",
        "name": "公共租赁住房申请",
        "category": "assistance",
        "department": "区住房和城乡建设局",
        "description": "为城镇中等偏下收入住房困难家庭、新就业无房职工和外来务工人员提供公共租赁"
        "住房或租赁补贴。",
        "conditions": "在本区无自有住房或住房面积低于规定标准、收入和财产符合规定的家庭。",
        "materials": [IDCARD, HUKOU, CONSENT],
        "legal_basis": "《公共租赁住房管理办法》",
        "time_limit_days": 20,
        "extra_fields": [
            _field("household_size", "申请家庭人数", "number"),
            _field("current_housing", "现住房情况", "textarea"),
        ],
    },
    # 就业 ------------------------------------------------------------------------------------
    {
        "code": "shiye-dengji",
        "name": "失业登记",
        "category": "employment",
        "department": HRSS,
        "description": "在法定劳动年龄内、有劳动能力和就业要求、处于无业状态的人员办理失业登记，"
        "享受公共就业服务。",
        "conditions": "法定劳动年龄内、有劳动能力和就业要求、处于无业状态的城乡劳动者。",
        "materials": [IDCARD],
        "legal_basis": "《中华人民共和国就业促进法》；《就业服务与就业管理规定》",
        "time_limit_days": 0,
        "proxy_allowed": False,
        "extra_fields": [
            _field("last_employer", "原工作单位", required=False),
            _field("left_on", "离职日期", "date", required=False),
        ],
    },
    {
        "code": "jiuye-kunnan-rending",
        "name": "就业困难人员认定",
        "category": "employment",
        "department": HRSS,
        "description": "对因身体状况、技能水平、家庭因素、失去土地等原因难以实现就业的人员进行"
        "认定，享受就业援助。",
        "conditions": "已办理失业登记，且属于大龄、残疾、低保家庭、长期失业等就业困难情形之一。",
        "materials": [IDCARD],
        "legal_basis": "《中华人民共和国就业促进法》",
        "time_limit_days": 15,
        "proxy_allowed": False,
        "extra_fields": [
            _field(
                "difficulty",
                "就业困难情形",
                "choice",
                choices=["大龄失业人员", "残疾人", "低保家庭成员", "连续失业一年以上", "其他"],
            ),
        ],
    },
    {
        "code": "linghuo-jiuye-shebao-butie",
        "name": "灵活就业社保补贴",
        "category": "employment",
        "department": HRSS,
        "description": "就业困难人员灵活就业并缴纳社会保险费的，给予一定比例的社会保险补贴。",
        "conditions": "经认定的就业困难人员及离校2年内未就业高校毕业生，灵活就业后按规定缴纳"
        "社会保险费。",
        "materials": [
            IDCARD,
            {"code": "contributions", "name": "社会保险缴费凭证", "required": True},
            _opt({"code": "flexible_work", "name": "灵活就业情况说明", "required": True}),
        ],
        "legal_basis": "《中华人民共和国就业促进法》；《中华人民共和国社会保险法》",
        "time_limit_days": 20,
        "extra_fields": [_field("work", "灵活就业形式"), BANK_ACCOUNT],
    },
    {
        "code": "zhiye-peixun",
        "name": "职业技能培训报名",
        "category": "employment",
        "department": HRSS,
        "description": "参加政府补贴的职业技能培训，考核合格的按规定享受培训补贴。",
        "conditions": "有培训需求的城乡劳动者。",
        "materials": [IDCARD],
        "legal_basis": "《中华人民共和国就业促进法》",
        "time_limit_days": 5,
        "extra_fields": [
            _field(
                "course",
                "培训项目",
                "choice",
                choices=["养老护理员", "家政服务员", "育婴员", "电工", "中式烹调师", "其他"],
            ),
        ],
    },
    # 医疗卫生 --------------------------------------------------------------------------------
    {
        "code": "jiating-yisheng",
        "name": "家庭医生签约",
        "category": "health",
        "department": "社区卫生服务中心",
        "description": "与家庭医生团队签约，享受基本医疗、公共卫生和健康管理服务。",
        "conditions": "本区常住居民；老年人、孕产妇、儿童、残疾人及慢性病患者优先。",
        "materials": [IDCARD],
        "legal_basis": "《关于推进家庭医生签约服务的指导意见》；《国家基本公共卫生服务规范》",
        "time_limit_days": 0,
        "extra_fields": [_field("team", "希望签约的医生团队", required=False)],
    },
    {
        "code": "jumin-yibao-canbao",
        "name": "城乡居民医保参保",
        "category": "health",
        "department": "区医疗保障局",
        "description": "未参加职工医保的城乡居民参加城乡居民基本医疗保险。",
        "conditions": "本区户籍或持本区居住证、未参加职工基本医疗保险的居民。",
        "materials": [IDCARD],
        "legal_basis": "《中华人民共和国社会保险法》",
        "time_limit_days": 0,
        "fee": "按年度个人缴费标准缴纳",
    },
    {
        "code": "laonian-tijian",
        "name": "老年人免费健康体检预约",
        "category": "health",
        "department": "社区卫生服务中心",
        "description": "65周岁以上老年人每年一次免费健康体检。",
        "conditions": "年满65周岁的本区常住老年人。",
        "materials": [IDCARD],
        "legal_basis": "《国家基本公共卫生服务规范》",
        "time_limit_days": 0,
        "extra_fields": [_field("date", "希望的体检日期", "date", required=False)],
    },
    # 计生 ------------------------------------------------------------------------------------
    {
        "code": "shengyu-dengji",
        "name": "生育登记",
        "category": "family",
        "department": HEALTH,
        "description": "生育子女的家庭办理生育登记，享受孕产期保健等服务。",
        "conditions": "夫妻一方户籍在本区或在本区居住。",
        "materials": [IDCARD, _opt({"code": "marriage", "name": "结婚证", "required": True})],
        "legal_basis": "《中华人民共和国人口与计划生育法》",
        "time_limit_days": 0,
        "extra_fields": [
            _field("spouse_name", "配偶姓名"),
            _field("child_order", "本次生育为第几孩", "number"),
            _field("due_date", "预产期", "date", required=False),
        ],
    },
    {
        "code": "dushengzinv-fumu-jiangli",
        "name": "独生子女父母奖励",
        "category": "family",
        "department": HEALTH,
        "description": "对符合条件的独生子女父母按规定发放奖励或年老后的奖励扶助金。",
        "conditions": "领取独生子女父母光荣证、符合当地奖励扶助条件的夫妻。",
        "materials": [
            IDCARD,
            HUKOU,
            {"code": "glory_card", "name": "独生子女父母光荣证", "required": True},
        ],
        "legal_basis": "《中华人民共和国人口与计划生育法》及本地人口与计划生育条例",
        "time_limit_days": 20,
        "extra_fields": [BANK_ACCOUNT],
    },
    {
        "code": "jisheng-teshu-jiating",
        "name": "计划生育特殊家庭扶助",
        "category": "family",
        "department": HEALTH,
        "description": "对独生子女伤残、死亡的计划生育特殊家庭给予扶助和关怀。",
        "conditions": "独生子女伤残或死亡、未再生育或收养子女、女方年满49周岁的夫妻。",
        "materials": [IDCARD, HUKOU],
        "legal_basis": "《中华人民共和国人口与计划生育法》",
        "time_limit_days": 20,
        "extra_fields": [BANK_ACCOUNT],
    },
    # 优抚 ------------------------------------------------------------------------------------
    {
        "code": "youdaizheng",
        "name": "退役军人和其他优抚对象优待证",
        "category": "veterans",
        "department": VETERANS,
        "description": "为退役军人、烈士遗属、因公牺牲军人遗属、病故军人遗属等申领优待证。",
        "conditions": "本区户籍的退役军人和其他优抚对象。",
        "materials": [
            IDCARD,
            PHOTO,
            {"code": "discharge", "name": "退役证件或优抚对象证件", "required": True},
        ],
        "legal_basis": "《中华人民共和国退役军人保障法》；《军人抚恤优待条例》",
        "time_limit_days": 20,
    },
    {
        "code": "youfu-dingqi-fuxu",
        "name": "优抚对象定期抚恤",
        "category": "veterans",
        "department": VETERANS,
        "description": "对符合条件的烈士遗属、因公牺牲军人遗属、病故军人遗属、残疾军人等发放定期"
        "抚恤金。",
        "conditions": "经认定的本区户籍优抚对象。",
        "materials": [
            IDCARD,
            HUKOU,
            {"code": "youfu_card", "name": "优抚对象身份证件", "required": True},
        ],
        "legal_basis": "《军人抚恤优待条例》；《中华人民共和国退役军人保障法》",
        "time_limit_days": 20,
        "extra_fields": [BANK_ACCOUNT],
    },
    # 教育 ------------------------------------------------------------------------------------
    {
        "code": "ruxue-juzhu-hezhen",
        "name": "入学居住信息核验",
        "category": "education",
        "department": f"{EDUCATION}（社区协助核验）",
        "description": "义务教育阶段入学前，社区依据实有人口登记核验儿童及监护人的实际居住情况。",
        "conditions": "适龄儿童的监护人，实际居住在本社区。",
        "materials": [
            HUKOU,
            _opt({"code": "housing", "name": "房屋产权证明或租赁合同", "required": True}),
        ],
        "legal_basis": "《中华人民共和国义务教育法》",
        "time_limit_days": 3,
        "extra_fields": [
            _field("child_name", "儿童姓名"),
            _field("child_birth_date", "儿童出生日期", "date"),
            _field("school", "拟就读学校", required=False),
        ],
    },
    {
        "code": "kunnan-xuesheng-zizhu",
        "name": "困难学生资助",
        "category": "education",
        "department": EDUCATION,
        "description": "对家庭经济困难的在校学生给予生活补助、助学金或免除学费。",
        "conditions": "低保、特困、低保边缘家庭及其他家庭经济困难的在校学生。",
        "materials": [
            _opt({"code": "student_card", "name": "学籍证明或学生证", "required": True}),
            _opt({"code": "hardship", "name": "家庭经济困难情况说明", "required": True}),
        ],
        "legal_basis": "《中华人民共和国义务教育法》；《学生资助资金管理办法》",
        "time_limit_days": 15,
        "extra_fields": [
            _field("student_name", "学生姓名"),
            _field("school", "就读学校"),
            _field("grade", "年级"),
        ],
    },
    # 法律 ------------------------------------------------------------------------------------
    {
        "code": "falv-yuanzhu",
        "name": "法律援助申请",
        "category": "legal",
        "department": f"{JUSTICE}法律援助中心",
        "description": "经济困难公民和符合法定条件的当事人申请免费的法律咨询、代理、刑事辩护等"
        "法律服务。",
        "conditions": "因经济困难没有委托代理人，且属于法律援助法规定的事项；部分情形不受经济困难"
        "条件限制。",
        "materials": [
            IDCARD,
            {"code": "case_papers", "name": "与所申请事项有关的材料", "required": True},
        ],
        "legal_basis": "《中华人民共和国法律援助法》",
        "time_limit_days": 5,
        "extra_fields": [
            _field("summary", "案情简述", "textarea"),
            _field("other_party", "对方当事人", required=False),
        ],
    },
    {
        "code": "renmin-tiaojie",
        "name": "人民调解申请",
        "category": "legal",
        "department": "社区人民调解委员会",
        "description": "邻里、婚姻家庭、物业等民间纠纷，申请人民调解委员会调解。",
        "conditions": "纠纷当事人自愿申请调解。",
        "materials": [],
        "legal_basis": "《中华人民共和国人民调解法》",
        "time_limit_days": 10,
        "proxy_allowed": False,
        "extra_fields": [
            _field("summary", "纠纷情况", "textarea"),
            _field("other_party", "对方当事人"),
        ],
    },
    # 便民 ------------------------------------------------------------------------------------
    {
        "code": "juzhuzheng-daiban",
        "name": "居住证办理（代办）",
        "category": "convenience",
        "department": POLICE,
        "description": "在本区居住半年以上、符合条件的非本区户籍人员申领居住证，社区代收材料。",
        "conditions": "离开常住户口所在地，在本区居住半年以上，且有合法稳定就业、合法稳定住所或"
        "连续就读条件之一。",
        "materials": [
            IDCARD,
            PHOTO,
            {"code": "housing", "name": "住所证明（房产证明或租赁合同）", "required": True},
        ],
        "legal_basis": "《居住证暂行条例》",
        "time_limit_days": 15,
        "fee": "首次申领免费",
    },
    {
        "code": "laonian-gongjiaoka",
        "name": "老年人公交卡",
        "category": "convenience",
        "department": "区交通运输局（公交卡服务网点）",
        "description": "老年人乘坐本市公交享受免费或优惠乘车。",
        "conditions": "年满65周岁的本区户籍或持本区居住证的老年人（各地年龄标准不同）。",
        "materials": [IDCARD, PHOTO],
        "legal_basis": "《中华人民共和国老年人权益保障法》",
        "time_limit_days": 5,
    },
    {
        "code": "menpai-shenqing",
        "name": "门牌号申请",
        "category": "convenience",
        "department": "区民政局（地名管理）",
        "description": "新建、改建建筑物或门牌缺失、损坏的，申请编制或补换门牌。",
        "conditions": "房屋所有权人或使用人。",
        "materials": [
            _opt({"code": "property", "name": "房屋产权证明或建设审批文件", "required": True}),
        ],
        "legal_basis": "《地名管理条例》",
        "time_limit_days": 10,
        "extra_fields": [
            _field("kind", "申请类型", "choice", choices=["新编门牌", "补换门牌"]),
            _field("place", "建筑物位置说明", "textarea"),
        ],
    },
    {
        "code": "chongdianzhuang-tingchewei",
        "name": "停车位、充电桩申请",
        "category": "convenience",
        "department": "社区居民委员会（会同物业服务企业）",
        "description": "申请小区内的停车位或在自有、租用车位安装电动汽车充电桩，社区协调物业出具"
        "意见。",
        "conditions": "居住在本小区的居民；安装充电桩须有固定车位。",
        "materials": [
            _opt({"code": "vehicle", "name": "机动车行驶证", "required": True}),
            _opt({"code": "parking", "name": "车位产权或租赁证明", "required": True}),
        ],
        "legal_basis": "《中华人民共和国民法典》（物权编）；《物业管理条例》",
        "time_limit_days": 5,
        "extra_fields": [
            _field("kind", "申请事项", "choice", choices=["停车位", "充电桩", "两项都申请"]),
            _field("plate", "车牌号"),
        ],
    },
    {
        "code": "chuzu-fangwu-dengji",
        "name": "出租房屋登记",
        "category": "convenience",
        "department": POLICE,
        "description": "出租人将房屋出租情况和承租人信息向社区、派出所登记备案。",
        "conditions": "在本社区出租房屋的出租人。",
        "materials": [
            {"code": "lease", "name": "房屋租赁合同", "required": True},
            _opt({"code": "property", "name": "房屋产权证明", "required": True}),
        ],
        "legal_basis": "《商品房屋租赁管理办法》",
        "time_limit_days": 3,
        "extra_fields": [
            _field("tenants", "承租人姓名及人数", "textarea"),
            _field("lease_until", "租期至", "date"),
        ],
    },
]

# Which of the register's tags each item shows on its form (what the applicant need not prove
# again); items not listed show none. Codes of `registry.tags.DEFAULT_TAGS`.
REGISTER_TAGS: dict[str, tuple[str, ...]] = {
    "gaoling-jintie": ("elderly-80",),
    "yanglao-fuwu-butie": ("elderly-80", "elderly-disabled", "elderly-semi-disabled", "dibao"),
    "jujia-yanglao": ("elderly-alone", "elderly-empty-nest", "elderly-80", "elderly-disabled"),
    "laonian-zhucan": ("elderly-alone", "elderly-80", "elderly-disabled"),
    "canji-liangxiang-butie": ("disabled", "dibao", "dibao-edge"),
    "fuzhu-qiju": ("disabled",),
    "wuzhangai-gaizao": ("disabled", "dibao", "dibao-edge"),
    "dibao": ("dibao", "dibao-edge"),
    "tekun-gongyang": ("tekun", "disabled"),
    "linshi-jiuzhu": ("dibao", "tekun", "dibao-edge"),
    "yiliao-jiuzhu": ("dibao", "tekun", "dibao-edge"),
    "gongzu-fang": ("dibao", "dibao-edge"),
    "jiuye-kunnan-rending": ("disabled", "dibao"),
    "youdaizheng": ("veteran", "youfu"),
    "youfu-dingqi-fuxu": ("veteran", "youfu"),
    "kunnan-xuesheng-zizhu": ("dibao", "tekun", "dibao-edge", "child-in-difficulty"),
}

DEFAULTS = {
    "description": "",
    "conditions": "",
    "materials": [],
    "legal_basis": "",
    "fee": "免费",
    "proxy_allowed": True,
    "online": True,
    "desk": True,
    "extra_fields": [],
}


def item_fields(spec: dict[str, Any], order: int) -> dict[str, Any]:
    """The model fields of one catalogue entry (defaults filled in)."""
    fields = {**DEFAULTS, **{k: v for k, v in spec.items() if k != "code"}, "sort": order}
    fields["materials"] = [
        {"code": m["code"], "name": m["name"], "required": bool(m["required"])}
        for m in fields["materials"]
    ]
    return fields


def install_catalogue(item_model: Any) -> int:
    """Create the default items (idempotent: existing codes are left as the admin edited them)."""
    created = 0
    for order, spec in enumerate(CATALOGUE):
        _obj, made = item_model.objects.get_or_create(
            code=spec["code"], defaults=item_fields(spec, order)
        )
        created += made
    return created


from shequ.servicedesk.certificate_defaults import install_certificate_types  # noqa: E402, F401
