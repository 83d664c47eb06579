"""Demo catalogue: 20 partner merchants across the 16 categories with stores in Beijing's
districts, a manager account each (``merchant_<n>``; the first merchant also has the clerk
``clerk_1``), a mall operator (``mall_op``), 27 exclusive services and 40 coupons approved and
valid around today, three proposals waiting for review and one rejected. A few offers are
targeted at one district union or at a member group (when the demo has groups).

Everything goes through :mod:`.service`, so the data passes the same checks as the pages
(credit codes, encrypted settlement accounts, audit entries, search queue).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from random import Random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.demo import DEMO_PASSWORD
from unionhub.groups.models import MemberGroup
from unionhub.identity.admin import create_officer
from unionhub.identity.models import Account
from unionhub.orgs.models import Org, OrgLevel

from ..models import BenefitsMallMerchant, BenefitsMallOffer, OfferKind, StaffRole
from . import service

S, C = OfferKind.SERVICE, OfferKind.COUPON

#: (kind, title, summary, price, member price, subsidy, stock, per-member limit, period)
Offer = tuple[str, str, str, str, str, str, int | None, int | None, str]

#: name, category, description, contact, phone, region code, stores (name, district, address),
#: offers
MERCHANTS: list[tuple[str, str, str, str, str, str, list[tuple[str, str, str]], list[Offer]]] = [
    ("北京仁和健康体检中心", "medical", "市卫健委批准的专业体检机构，职工体检定点单位。",
     "周明", "010-65871234", "110105",
     [("朝阳门店", "朝阳区", "朝阳区东三环中路 39 号 2 层"),
      ("海淀门店", "海淀区", "海淀区中关村南大街 12 号")],
     [(S, "职工年度深度体检套餐", "含胃肠镜麻醉评估、低剂量肺 CT", "1680", "980", "120", 200, 1,
       "year"),
      (S, "中医体质辨识与调理", "三甲中医师一对一", "300", "128", "40", 100, 2, "month"),
      (C, "入职体检 7 折券", "京卡会员专享", "260", "182", "20", 500, 1, "all"),
      (C, "幽门螺杆菌呼气检测 5 折", "", "200", "100", "15", 400, 1, "year")]),
    ("京华口腔门诊部", "medical", "连锁口腔门诊，种植、正畸、儿童齿科。", "刘晓", "010-68012233",
     "110102",
     [("西单店", "西城区", "西城区西单北大街 130 号"),
      ("望京店", "朝阳区", "朝阳区望京街 9 号")],
     [(S, "口腔健康检查与洁牙", "含全景片", "398", "99", "30", 300, 1, "year"),
      (C, "种植牙 500 元抵用券", "单颗种植可用", "500", "0", "50", 200, 1, "all"),
      (C, "儿童涂氟 1 元券", "3–12 岁", "120", "1", "20", 300, 1, "year")]),
    ("北京青旅职工假期旅行社", "travel", "职工疗休养、红色教育线路定点旅行社。", "陈蕾",
     "010-85113366", "110101",
     [("东直门营业部", "东城区", "东城区东直门南大街 5 号")],
     [(S, "京郊两日职工疗休养（古北水镇）", "含往返大巴、一晚住宿", "1280", "860", "200", 80,
       1, "year"),
      (S, "红色教育一日游（香山革命纪念地）", "专业讲解", "380", "198", "60", 120, 1, "year"),
      (C, "国内游线路 300 元立减券", "满 2000 元可用", "300", "0", "30", 400, 1, "year"),
      (S, "职工疗休养定制团（5 天）", "工会组团，线路可选", "4800", "3200", "600", 30, 1,
       "year")]),
    ("京郊田园农庄", "travel", "怀柔生态农庄，亲子采摘与农家餐。", "王建国", "010-69621188",
     "110116",
     [("怀柔庄园", "怀柔区", "怀柔区雁栖镇交界河村 88 号")],
     [(C, "亲子采摘门票 5 折", "周末节假日通用", "120", "60", "15", 600, 2, "month"),
      (C, "农家宴 100 元代金券", "满 300 可用", "100", "0", "10", 500, 1, "month")]),
    ("京韵茶馆", "leisure", "老北京曲艺茶馆，相声、京韵大鼓。", "张德顺", "010-63038899",
     "110102",
     [("前门店", "西城区", "西城区前门西大街 17 号")],
     [(S, "曲艺专场包间（8 人）", "含茶点", "1200", "780", "100", 40, 1, "month"),
      (C, "茶位费 8 折券", "每周一至周四", "80", "64", "5", 1000, 4, "month"),
      (C, "相声专场门票 7 折", "周五、周六晚场", "180", "126", "15", 400, 2, "month")]),
    ("北辰游泳健身馆", "fitness", "50 米标准泳池与综合健身房。", "李娜", "010-84975566",
     "110105",
     [("亚运村馆", "朝阳区", "朝阳区安定路 1 号")],
     [(S, "职工游泳季卡", "季卡 60 次", "1200", "680", "90", 150, 1, "year"),
      (C, "健身体验课 1 元券", "私教体验 1 节", "200", "1", "30", 300, 1, "all"),
      (C, "游泳单次票 6 折", "工作日全天", "60", "36", "5", 2000, 8, "month"),
      (S, "少儿游泳暑期培训班", "10 课时，小班教学", "1500", "980", "150", 60, 1, "year")]),
    ("奥森体育健身中心", "fitness", "羽毛球、乒乓球、瑜伽综合场馆。", "赵磊", "010-64921100",
     "110105",
     [("北苑店", "朝阳区", "朝阳区北苑路 180 号"),
      ("上地店", "海淀区", "海淀区上地信息路 28 号")],
     [(S, "职工羽毛球场地包场（2 小时）", "含灯光", "320", "160", "40", 200, 2, "month"),
      (C, "瑜伽团课 5 次卡 7 折", "", "400", "280", "25", 300, 1, "year"),
      (C, "乒乓球场地 5 折", "工作日 9:00–17:00", "80", "40", "6", 800, 4, "month")]),
    ("京城百货职工购物中心", "shopping", "日用百货、家电、服装一站式购物。", "孙丽",
     "010-65128877", "110101",
     [("王府井店", "东城区", "东城区王府井大街 255 号"),
      ("大兴店", "大兴区", "大兴区兴华大街 3 段 18 号")],
     [(C, "职工专享 50 元购物券", "满 300 元可用", "50", "0", "5", 3000, 1, "month"),
      (C, "家电 9 折券", "大家电可用，最高减 500 元", "500", "0", "20", 500, 1, "year"),
      (C, "节日礼盒 8.5 折", "中秋、春节礼盒", "300", "255", "10", 800, 2, "year"),
      (S, "工会节日慰问品团购", "工会集采、送货到单位", "0", "0", "0", None, None, "all")]),
    ("北京长安职工之家酒店", "lodging", "工会系统职工之家，会议与住宿。", "高红", "010-66071188",
     "110102",
     [("长安街店", "西城区", "西城区复兴门内大街 45 号")],
     [(S, "职工疗养客房（两晚）", "含早餐", "1100", "520", "150", 60, 1, "year"),
      (C, "标准间 6.8 折券", "周日至周四", "580", "394", "30", 300, 2, "year"),
      (C, "会议室半日租用 8 折", "30 人会议室", "1500", "1200", "60", 100, 2, "year")]),
    ("首都剧院票务中心", "ticketing", "话剧、音乐会、京剧演出票务。", "马骏", "010-65250123",
     "110101",
     [("东单售票处", "东城区", "东城区王府井大街 22 号")],
     [(C, "话剧演出票 100 元抵用券", "部分场次", "100", "0", "20", 600, 1, "month"),
      (C, "京剧专场 5 折票", "每月第一个周六", "380", "190", "40", 200, 2, "month"),
      (S, "职工专场包场服务", "200 人以上", "30000", "18000", "2000", 5, 1, "year"),
      (C, "儿童剧亲子票 8 折", "一大一小", "360", "288", "20", 300, 2, "month")]),
    ("百年好合婚庆服务有限公司", "wedding", "婚礼策划、职工集体婚礼承办。", "吴倩",
     "010-87651234", "110106",
     [("丰台店", "丰台区", "丰台区丽泽路 16 号")],
     [(S, "职工集体婚礼报名", "工会组织，统一策划", "8000", "0", "1500", 50, 1, "all"),
      (C, "婚纱摄影 2000 元抵用券", "满 6000 可用", "2000", "0", "100", 100, 1, "all")]),
    ("京安家电燃气维修服务部", "home_repair", "家电清洗维修、燃气灶具安检。", "郭强",
     "010-62345678", "110108",
     [("海淀服务站", "海淀区", "海淀区学院路 35 号"),
      ("通州服务站", "通州区", "通州区新华西街 60 号")],
     [(S, "空调深度清洗（挂机）", "上门服务", "180", "88", "20", 400, 2, "year"),
      (S, "燃气安全上门检测", "免费检测，配件优惠", "100", "0", "25", 500, 1, "year"),
      (C, "家电维修 50 元券", "人工费可用", "50", "0", "10", 800, 2, "year"),
      (C, "油烟机清洗 6 折", "上门拆洗", "260", "156", "15", 500, 1, "year")]),
    ("胡同人家涮肉馆", "dining", "铜锅涮肉，老北京风味。", "韩福", "010-64045566", "110102",
     [("护国寺店", "西城区", "西城区护国寺街 93 号"),
      ("簋街店", "东城区", "东城区东直门内大街 128 号")],
     [(C, "100 元代金券", "满 200 可用", "100", "0", "10", 2000, 2, "month"),
      (C, "双人套餐 7 折", "", "298", "208", "15", 600, 1, "month"),
      (C, "工作日午市 8 折", "11:00–14:00", "0", "0", "5", None, 4, "month")]),
    ("京味斋餐厅", "dining", "京菜与北京小吃。", "唐文", "010-83156677", "110106",
     [("丽泽店", "丰台区", "丰台区丽泽路 18 号")],
     [(C, "烤鸭半只券", "会员价 58 元", "118", "58", "12", 500, 1, "month"),
      (S, "班组聚餐包间预订（10 人）", "含定制菜单", "2000", "1500", "100", 60, 1, "month"),
      (C, "北京小吃拼盘 5 折", "堂食", "88", "44", "6", 1000, 2, "month")]),
    ("京师职工技能培训学校", "education", "职业技能等级认定与学历提升培训。", "杨帆",
     "010-62238899", "110108",
     [("学院路校区", "海淀区", "海淀区学院路 20 号")],
     [(S, "电工职业技能等级培训", "含考证辅导", "3200", "1600", "400", 100, 1, "year"),
      (S, "职工学历提升咨询", "一对一规划", "0", "0", "50", 300, 1, "year"),
      (C, "Python 编程入门课 6 折", "线上 + 线下", "1980", "1188", "80", 200, 1, "year"),
      (C, "会计实务课 500 元券", "初级会计实务", "500", "0", "40", 200, 1, "year")]),
    ("小橡树托育中心", "childcare", "普惠托育机构，职工子女托育。", "林静", "010-84567788",
     "110105",
     [("望京园区", "朝阳区", "朝阳区望京西园 3 区"),
      ("亦庄园区", "大兴区", "大兴区亦庄荣华中路 10 号")],
     [(S, "职工子女暑期托管（两周）", "含午餐", "4200", "2600", "600", 40, 1, "year"),
      (S, "托育一日体验", "家长陪同", "300", "0", "50", 100, 1, "all"),
      (C, "月托费 500 元减免券", "全日托可用", "500", "0", "100", 100, 1, "year")]),
    ("康馨养老照护中心", "elderly", "医养结合养老机构，日间照料与居家上门。", "何平",
     "010-67895566", "110105",
     [("双井中心", "朝阳区", "朝阳区广渠路 21 号")],
     [(S, "居家上门照护（4 小时）", "持证护理员", "400", "200", "60", 200, 4, "month"),
      (S, "日间照料体验周", "含午餐和康复训练", "1000", "500", "120", 50, 1, "year"),
      (C, "老年助餐 10 次券", "社区助餐点", "200", "120", "20", 500, 1, "month")]),
    ("好帮手家政服务有限公司", "housekeeping", "保洁、育儿嫂、月嫂。", "罗敏", "010-65432100",
     "110105",
     [("国贸服务中心", "朝阳区", "朝阳区建国路 89 号"),
      ("回龙观服务中心", "昌平区", "昌平区回龙观西大街 111 号")],
     [(S, "家庭深度保洁（4 小时）", "两名保洁员", "480", "288", "40", 300, 2, "month"),
      (S, "月嫂面试与试工安排", "", "0", "0", "30", 100, 1, "year"),
      (C, "日常保洁 8 折券", "", "200", "160", "10", 1000, 2, "month"),
      (C, "育儿嫂服务费 500 元券", "签约 26 天以上", "500", "0", "50", 100, 1, "year")]),
    ("顺达汽车维修养护中心", "auto", "一类维修企业，保养、钣喷、年检代办。", "梁浩",
     "010-88776655", "110108",
     [("西三旗店", "海淀区", "海淀区西三旗建材城中路 8 号")],
     [(S, "汽车全面检测与保养", "含机油机滤", "680", "399", "50", 200, 1, "year"),
      (C, "洗车 10 次卡 5 折", "", "400", "200", "20", 500, 1, "year"),
      (C, "年检代办 100 元券", "", "100", "0", "10", 300, 1, "year"),
      (C, "四轮定位 5 折", "", "160", "80", "10", 400, 1, "year")]),
    ("京福保险代理有限公司", "finance", "职工意外险、重疾险咨询与代理。", "谢东", "010-66553322",
     "110102",
     [("金融街营业部", "西城区", "西城区金融大街 7 号")],
     [(S, "家庭保障一对一规划", "持证顾问", "0", "0", "50", 200, 1, "year"),
      (C, "职工意外险 50 元立减", "一年期", "150", "100", "10", 1000, 1, "year"),
      (C, "家财险首年 8 折", "自有住房", "300", "240", "15", 500, 1, "year")]),
]

#: merchant index, kind, title, summary, price, member price — waiting for an officer
PROPOSALS: list[tuple[int, str, str, str, str, str]] = [
    (5, C, "夏季游泳月卡 7 折", "7–8 月可用", "600", "420"),
    (12, C, "涮肉店 200 元储值赠 50", "首次储值可用", "200", "150"),
    (16, S, "失能老人家庭照护培训", "家属课程", "600", "300"),
]
REJECTED = (7, C, "全场 1 折秒杀券", "限时", "1000", "100",
            "折扣力度与补贴测算不符，请按实际成本重新报价")


def _org_check(digits: str) -> str:
    """GB 11714 check character of an 8-digit organisation code body."""
    total = sum(int(d) * w for d, w in zip(digits, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def credit_code(rng: Random, region: str) -> str:
    body = f"{rng.randint(10_000_000, 99_999_999)}"
    first17 = "91" + region + body + _org_check(body)
    return first17 + service.credit_check_char(first17)


def _districts(ctx: Any) -> list[Org]:
    return [o for o in ctx.orgs.values() if o.level == OrgLevel.DISTRICT]


def _offer_data(offer: Offer, merchant: BenefitsMallMerchant, on: date, rng: Random,
                category: str) -> dict[str, Any]:
    kind, title, summary, price, member_price, subsidy, stock, limit, period = offer
    start = on - timedelta(days=rng.randint(0, 45))
    #: a voucher (抵用券) or a plain discount has no single price to show
    voucher = Decimal(price) == 0 or (kind == C and Decimal(member_price) == 0)
    return {
        "title": title, "summary": summary, "category_code": category, "kind": kind,
        "price": "" if voucher else price,
        "member_price": "" if voucher else member_price,
        "subsidy": subsidy, "valid_from": start.isoformat(),
        "valid_until": (on + timedelta(days=rng.choice((30, 60, 90, 180, 270)))).isoformat(),
        "coupon_valid_days": str(rng.choice((15, 30, 60))),
        "stock": "" if stock is None else str(stock),
        "per_member_limit": "" if limit is None else str(limit), "per_member_period": period,
        "booking_hold_minutes": str(rng.choice((60, 120, 240))),
        "requires_active_member": "1",
        "requires_jingka": "1" if rng.random() < 0.3 else "",
        "description": (f"{summary or title}\n\n使用说明：\n"
                        "1. 凭京卡会员身份领取，到店出示券码核销。\n"
                        f"2. 适用门店见下方列表，咨询电话 {merchant.contact_phone}。\n"
                        "3. 不与店内其他优惠同享，最终解释权归商户所有。"),
        "store_ids": [], "audience_org": [], "audience_group": [],
    }


def seed(session: Session, ctx: Any) -> None:
    rng = Random(8)
    on = service.today()
    roots = [o for o in ctx.orgs.values() if o.parent_id is None]
    operator = create_officer(session, "mall_op", "福利平台运营 张华", DEMO_PASSWORD,
                              "mall_operator", roots[0])
    session.flush()
    districts = _districts(ctx)
    groups = list(session.scalars(select(MemberGroup).order_by(MemberGroup.id).limit(2)))
    managers: list[Account] = []
    merchants: list[BenefitsMallMerchant] = []
    made = {S: 0, C: 0}
    for n, (name, category, about, contact, phone, region, stores, offers) in enumerate(
            MERCHANTS, start=1):
        merchant = service.create_merchant(session, {
            "name": name, "category_code": category, "description": about,
            "contact_name": contact, "contact_phone": phone,
            "credit_code": credit_code(rng, region), "settlement_bank": "中国工商银行北京分行",
            "settlement_account_name": name,
            "settlement_account": "0200" + "".join(str(rng.randint(0, 9)) for _i in range(15)),
            "status": "active"}, actor=operator)
        for store_name, district, address in stores:
            service.create_store(session, merchant, {
                "name": store_name, "district": district, "address": address,
                "phone": f"010-{rng.randint(60000000, 89999999)}",
                "hours": rng.choice(("9:00–21:00", "10:00–22:00", "8:30–17:30"))},
                actor=operator)
        made_staff = service.create_staff(session, merchant, {
            "username": f"merchant_{n}", "display_name": f"{contact}（{name}）",
            "role": StaffRole.MANAGER}, actor=operator, password=DEMO_PASSWORD)
        managers.append(session.get(Account, made_staff.staff.account_id))  # type: ignore[arg-type]
        if n == 1:
            service.create_staff(session, merchant, {
                "username": "clerk_1", "display_name": f"店员 {rng.choice('王李张刘陈')}晓",
                "role": StaffRole.CLERK, "store_id": str(merchant.stores[0].id)},
                actor=operator, password=DEMO_PASSWORD)
        merchants.append(merchant)
        for offer in offers:
            data = _offer_data(offer, merchant, on, rng, category)
            if len(stores) > 1 and rng.random() < 0.4:
                data["store_ids"] = [str(merchant.stores[0].id)]
            service.create_offer(session, merchant, data, actor=operator, officer=True)
            made[offer[0]] += 1
    _target(session, operator, districts, groups)
    for index, kind, title, summary, price, member_price in PROPOSALS:
        merchant = merchants[index]
        service.create_offer(session, merchant, _offer_data(
            (kind, title, summary, price, member_price, "0", 100, 1, "month"), merchant, on, rng,
            merchant.category_code), actor=managers[index], officer=False)
    index, kind, title, summary, price, member_price, note = REJECTED
    merchant = merchants[index]
    rejected = service.create_offer(session, merchant, _offer_data(
        (kind, title, summary, price, member_price, "0", 50, 1, "all"), merchant, on, rng,
        merchant.category_code), actor=managers[index], officer=False)
    service.review_offer(session, rejected, "reject", note, actor=operator)
    session.flush()
    ctx.lines.append("福利云商（用户名登录，密码同上）:")
    ctx.lines.append(f"  mall_op     福利平台运营：审核商户提交的优惠、管理商户与优惠"
                     f"（{len(merchants)} 家商户，{made[S]} 项专属服务，{made[C]} 张优惠券）")
    ctx.lines.append(f"  merchant_1 … merchant_{len(merchants)}  商户管理员：商户工作台、"
                     "提交优惠、门店与店员（merchant_1 为北京仁和健康体检中心）")
    ctx.lines.append("  clerk_1     商户店员（北京仁和健康体检中心）：核销福利券、处理预约")


def _target(session: Session, operator: Account, districts: list[Org],
            groups: list[MemberGroup]) -> None:
    """Narrow a few offers' audience: two to one district union each, one to a member group
    (when the demo has member groups)."""
    offers = list(session.scalars(select(BenefitsMallOffer).order_by(BenefitsMallOffer.id)))
    picks: list[tuple[BenefitsMallOffer, list[int], list[int]]] = [
        (offer, [org.id], []) for offer, org in zip((offers[2], offers[9]), districts[:2],
                                                      strict=False)]
    if groups and len(offers) > 20:
        picks.append((offers[20], [], [groups[0].id]))
    for offer, org_ids, group_ids in picks:
        service.update_audience(session, offer, org_ids, group_ids, actor=operator)
