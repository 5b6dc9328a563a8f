"""The certificate types shipped with the platform: the national list of certificates residents'
and villagers' committees must not issue, each with the route that serves the need instead, and
a short positive list the community may issue, with the template filled from the register.

The negative list is the first batch annexed to 民发〔2020〕20号; the positive list is deliberately
short (local lists add to it). Installing is idempotent and never overwrites a type a district
admin has changed. Template placeholders are the keys of `certificates.FIELDS`.
"""

from __future__ import annotations

from typing import Any

NOTICE = (
    "民政部、国家发展改革委、公安部、司法部、人力资源社会保障部、国家卫生健康委"
    "《关于改进和规范基层群众性自治组织出具证明工作的指导意见》（民发〔2020〕20号）"
)
NEGATIVE_LIST = f"{NOTICE}附件《不应由基层群众性自治组织出具证明事项清单（第一批）》"
FORBIDDEN_PROCEDURE = "社区（村）不出具此证明，也不加盖印章。请按“替代途径”到相关部门办理。"


def _forbidden(
    code: str, name: str, purpose: str, alternative: str, basis: str = ""
) -> dict[str, Any]:
    legal = f"{NEGATIVE_LIST}。" + (f"相关依据：{basis}。" if basis else "")
    return {
        "code": code,
        "name": name,
        "allowed": False,
        "legal_basis": legal,
        "purpose": purpose,
        "procedure": FORBIDDEN_PROCEDURE,
        "alternative": alternative,
    }


# The 20 certificates of the first batch, in the order of the list.
FORBIDDEN: list[dict[str, Any]] = [
    _forbidden(
        "qinshu-guanxi",
        "亲属关系证明",
        "办理继承、保险理赔、探视、出入境、社会保障待遇等需要证明亲属关系的事项。",
        "以居民户口簿、结婚证、《出生医学证明》等能够证明亲属关系的材料证明；材料不能证明的，"
        "由户籍所在地公安派出所（户籍管理部门）依据户籍档案出具户籍信息证明，或到公证机构办理"
        "亲属关系公证。",
        "户籍档案由公安机关户籍管理部门管理",
    ),
    _forbidden(
        "shenfen-xinxi",
        "居民身份信息证明",
        "又称户籍证明；用于证明姓名、公民身份号码、户籍等身份信息。",
        "以居民身份证、居民户口簿证明；确需户籍证明的，由户籍所在地公安派出所（户籍管理部门）"
        "出具，不少地方可通过公安政务服务平台在线申请。",
        "《中华人民共和国居民身份证法》《中华人民共和国户口登记条例》",
    ),
    _forbidden(
        "hukou-biangeng",
        "户口登记项目内容变更申请证明",
        "申请变更、更正姓名、出生日期、民族等户口登记项目。",
        "由本人（或户主）持能够证明变更、更正事实的材料向户籍所在地公安派出所申报，"
        "由公安机关审查核实后办理，无需社区出具证明。",
        "《中华人民共和国户口登记条例》第十七条",
    ),
    _forbidden(
        "yangquan",
        "居民养犬证明",
        "办理犬只登记、年检等。",
        "养犬人凭动物诊疗机构出具的狂犬病免疫证明，向本地养犬登记机关（多为公安机关）办理"
        "养犬登记，按本地养犬管理规定办理，无需社区出具证明。",
        "《中华人民共和国动物防疫法》第三十条及本地养犬管理规定",
    ),
    _forbidden(
        "wufanzui-jilu",
        "无犯罪记录证明",
        "入职、出国（境）、资格审查等需要证明本人无犯罪记录。",
        "由公安机关出具：本人向户籍地或居住地公安派出所（或公安机关政务服务窗口、网上平台）"
        "申请犯罪记录查询，由公安机关开具查询结果。",
        "公安部《公安机关办理犯罪记录查询工作规定》",
    ),
    _forbidden(
        "jiedu-kangfu",
        "社区戒毒社区康复人员情况证明",
        "又称表现证明；说明社区戒毒、社区康复人员的执行情况。",
        "由负责社区戒毒、社区康复工作的乡镇人民政府、街道办事处（社区戒毒社区康复工作机构）"
        "依据执行情况出具。",
        "《中华人民共和国禁毒法》第三十四条、《戒毒条例》",
    ),
    _forbidden(
        "shizong",
        "人员失踪证明",
        "家庭成员下落不明，办理财产代管、社会保障待遇停发等。",
        "人员下落不明的，及时向公安机关报案，由公安机关出具报案（接处警）证明；需要确认失踪的，"
        "由利害关系人向人民法院申请宣告失踪，以人民法院判决为准。",
        "《中华人民共和国民法典》第四十条",
    ),
    _forbidden(
        "hunyin-zhuangkuang",
        "婚姻状况证明",
        "包括婚姻关系证明、分居证明、单身（未婚）证明等。",
        "以结婚证、离婚证或人民法院生效的离婚判决书、调解书证明；需要查询婚姻登记记录的，"
        "本人向婚姻登记机关（县级民政部门）申请查询婚姻登记档案；办事部门可通过婚姻登记信息"
        "共享核查，或由当事人书面承诺。",
        "《婚姻登记条例》、民政部婚姻登记档案管理规定",
    ),
    _forbidden(
        "chusheng",
        "出生证明",
        "新生儿落户、办理社会保障卡等需要证明出生。",
        "由接生的医疗机构出具《出生医学证明》；遗失或未取得的，向出生地的签发机构"
        "（县级卫生健康部门指定的医疗机构）申请补发或办理。",
        "《中华人民共和国母婴保健法》第二十三条",
    ),
    _forbidden(
        "jianzai",
        "健在证明",
        "领取养老金等社会保险待遇、抚恤金时证明本人在世。",
        "领取社会保险待遇的资格认证由社会保险经办机构通过人脸识别、部门数据比对等方式进行，"
        "无需社区开具健在证明；居住在国（境）外的，可由我国驻外使领馆或当地公证机构出具"
        "生存证明。",
        "人力资源社会保障部关于领取社会保险待遇资格认证的规定",
    ),
    _forbidden(
        "siwang",
        "死亡证明",
        "办理户口注销、殡葬、继承、待遇停发等。",
        "正常死亡的，由负责救治或正常死亡调查的医疗卫生机构出具《居民死亡医学证明（推断）书》；"
        "非正常死亡或无法确定死亡性质的，由公安机关出具死亡证明；凭上述证明到公安派出所注销户口。",
        "国家卫生计生委、公安部、民政部《关于进一步规范人口死亡医学证明和信息登记管理工作的通知》",
    ),
    _forbidden(
        "jibing-zhuangkuang",
        "疾病状况证明",
        "包括急诊证明、意外伤害证明等；用于请假、保险理赔、救助申请等。",
        "由就诊的医疗机构出具诊断证明书、病历或急诊记录；意外伤害涉及事故的，"
        "由处理事故的公安机关等部门出具事故认定等材料。",
    ),
    _forbidden(
        "canji-zhuangkuang",
        "残疾状况证明",
        "申请残疾人补贴、减免、优待等需要证明残疾状况。",
        "以残疾人联合会核发的《中华人民共和国残疾人证》证明；尚未办证的，向户籍所在地县级"
        "残疾人联合会申请，经指定医疗机构评定残疾类别、等级后办理残疾人证。",
        "《中华人民共和国残疾人保障法》、中国残联残疾人证管理规定",
    ),
    _forbidden(
        "hunyu-zhuangkuang",
        "婚育状况证明",
        "又称生育状况证明；用于生育登记、落户、入学等。",
        "生育登记由当事人向乡镇人民政府（街道办事处）或卫生健康部门如实申报办理；"
        "办事部门通过卫生健康部门的生育登记信息核查，或由当事人书面承诺，无需社区出具证明。",
        "《中华人民共和国人口与计划生育法》",
    ),
    _forbidden(
        "jiuye-zhuangkuang",
        "居民就业状况证明",
        "证明在职、失业或未就业状况，用于申领补贴、救助、贷款等。",
        "在职的，由用人单位出具或以劳动合同、社会保险缴费记录证明；失业的，向公共就业服务机构"
        "办理失业登记，以就业失业登记信息、《就业创业证》为准。",
        "《中华人民共和国就业促进法》、人力资源社会保障部《就业服务与就业管理规定》",
    ),
    _forbidden(
        "geren-dangan",
        "居民个人档案证明",
        "证明人事档案、学籍档案等的内容或存放情况。",
        "由保管档案的单位出具：流动人员人事档案由公共就业和人才服务机构管理，在职人员档案由"
        "所在单位管理，学籍档案由学校或教育行政部门管理。",
    ),
    _forbidden(
        "caichan",
        "居民财产证明",
        "包括经济状况、收入、偿还能力、房产、银行存款、投资情况、车辆所有权等证明。",
        "收入由工作单位出具证明，或以个人所得税纳税记录（税务部门）、银行流水为证；房产由"
        "不动产登记机构查询出具；存款由开户银行出具；车辆由公安机关交通管理部门出具；"
        "申请社会救助的家庭经济状况，由民政部门通过居民家庭经济状况核对机制核对。",
    ),
    _forbidden(
        "yichan-jicheng",
        "遗产继承权证明",
        "办理存款、房产、车辆等遗产的继承过户。",
        "继承权可到公证机构办理继承公证，或由人民法院依法确认；办理不动产继承登记的，"
        "按不动产登记机构要求提交继承材料。",
        "《中华人民共和国民法典》第六编（继承）",
    ),
    _forbidden(
        "zhusuo",
        "市场主体住所证明",
        "包括经营场所证明、同意住宅改变为经营性用房证明、社区经营性用房无扰民证明。",
        "住所（经营场所）以不动产权属证明、租赁合同等证明，或按本地规定实行住所申报承诺制，"
        "由市场监督管理部门登记；将住宅改变为经营性用房的，应当经有利害关系的业主一致同意，"
        "不由社区出具同意或无扰民证明。",
        "《中华人民共和国市场主体登记管理条例》、《中华人民共和国民法典》第二百七十九条",
    ),
    _forbidden(
        "zhengjian-yishi",
        "证件遗失证明",
        "补办身份证、户口簿、学历证书等证件时证明原证件遗失。",
        "直接向原发证机关申请补领、补办（如居民身份证向公安机关申请补领），由发证机关核实身份；"
        "需要声明作废的，按发证机关要求登报或书面声明。",
    ),
]

_POSITIVE_BASIS = (
    f"{NOTICE}：基层群众性自治组织出具证明的事项，必须有明确法律法规依据或经国务院批准列入保留"
    "证明事项清单、属于其职责范围；具体以本地公布的村（居）民委员会出具证明事项清单为准。"
    "本证明只陈述本社区实有人口和房屋登记信息。"
)

# The positive list: only what the register itself can attest.
ALLOWED: list[dict[str, Any]] = [
    {
        "code": "juzhu",
        "name": "居住证明",
        "allowed": True,
        "legal_basis": _POSITIVE_BASIS + "申领居住证等需要居住地住址证明而无其他材料的，参照"
        "《居住证暂行条例》。",
        "purpose": "申领居住证、子女入学、办理社会保障等，办事部门确需证明在本社区居住且申请人"
        "无房屋产权证明、租赁合同等其他材料可证明时使用。",
        "procedure": "1. 居民本人或受托人持身份证件到社区服务站申请；2. 工作人员核对实有人口"
        "登记信息；3. 当场打印证明并加盖居（村）民委员会印章；4. 办事部门可扫描二维码核验。",
        "template": "兹证明{name}（身份证件号码：{id_number}），{gender}，{birth_date}出生，"
        "{residence_type}。经核查本社区实有人口登记信息，该居民自{since}起登记居住于{address}。\n"
        "本证明仅用于{purpose}，有效期至{valid_until}。\n特此证明。",
        "valid_days": 90,
        "time_limit_days": 0,
    },
    {
        "code": "zuzhu",
        "name": "租住证明",
        "allowed": True,
        "legal_basis": _POSITIVE_BASIS,
        "purpose": "证明在本社区租住并实际居住，用于申领居住证、子女入学、公租房资格审核等，"
        "以办事部门确有要求且租赁合同不足以证明为限。",
        "procedure": "1. 居民本人或受托人持身份证件到社区服务站申请；2. 工作人员核对实有人口和"
        "房屋登记信息（房屋须登记为出租）；需要入户核实实际居住的，由网格员3个工作日内核实；"
        "3. 打印证明并加盖居（村）民委员会印章；4. 办事部门可扫描二维码核验。",
        "template": "兹证明{name}（身份证件号码：{id_number}），{gender}，{birth_date}出生，"
        "{residence_type}。经核查本社区实有人口和房屋登记信息，该居民自{since}起租住并实际居住于"
        "{rented_address}。\n本证明仅用于{purpose}，有效期至{valid_until}。\n特此证明。",
        "valid_days": 90,
        "time_limit_days": 3,
    },
]

DEFAULT_TYPES: list[dict[str, Any]] = ALLOWED + FORBIDDEN


def install_certificate_types(model: Any) -> int:
    """Create the default types (idempotent: existing codes are left as an admin edited them)."""
    created = 0
    for order, spec in enumerate(DEFAULT_TYPES):
        defaults = {k: v for k, v in spec.items() if k != "code"}
        _obj, made = model.objects.get_or_create(
            code=spec["code"], defaults={**defaults, "sort": order}
        )
        created += made
    return created
