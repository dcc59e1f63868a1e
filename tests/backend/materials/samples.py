"""Realistic inputs for the renderers: a small restaurant (饭店) in Linyi, as the lead's records would map."""

from datetime import UTC, date, datetime

from backend.materials.render import (
    CardPermit,
    LicenceCardData,
    MaterialStatus,
    NoticeData,
    NoticeLicence,
    NoticeMaterial,
    PermitStatus,
    SubmissionInfo,
    VerificationData,
    VerificationPermit,
)
from backend.materials.tokens import verification_url

KEY = b"test-signing-key-0123456789"
NUMBER = "XK-2026-7K3M9Q"
URL = verification_url("https://zzlb.linyi.example.gov.cn", NUMBER, KEY)

LICENCES = ["营业执照", "食品经营许可证", "公众聚集场所投入使用、营业前消防安全检查", "户外广告设施设置许可"]


def notice_data() -> NoticeData:
    def material(id_: str, name: str, key: bool, status: MaterialStatus, needed_by: list[str], **extra):
        return NoticeMaterial(id=id_, name=name, key=key, status=status, needed_by=needed_by, **extra)

    return NoticeData(
        package_name="饭店（餐饮服务）",
        application_code="ZL-20261122-4HBX0R",
        operator_name="临沂市兰山区好味道餐饮有限公司",
        issued_on=date(2026, 11, 22),
        licences=[
            NoticeLicence(name=LICENCES[0], department="兰山区市场监督管理局", promised_days=1),
            NoticeLicence(name=LICENCES[1], department="兰山区市场监督管理局", promised_days=5),
            NoticeLicence(name=LICENCES[2], department="兰山区消防救援大队", promised_days=7),
            NoticeLicence(name=LICENCES[3], department="兰山区综合行政执法局", promised_days=5),
        ],
        materials=[
            material(
                "id_card", "法定代表人身份证", True, MaterialStatus.PROVIDED, LICENCES[:2], hint="正反面照片"
            ),
            material(
                "premises", "经营场所使用证明（房产证或租赁合同）", True, MaterialStatus.MISSING, LICENCES[:3]
            ),
            material(
                "layout",
                "经营场所平面布局图及设备布局图",
                True,
                MaterialStatus.NEEDS_CORRECTION,
                [LICENCES[1]],
                problem="未标注操作间和库房的面积",
            ),
            material(
                "health",
                "从业人员健康证明",
                False,
                MaterialStatus.DEFERRED,
                [LICENCES[1]],
                due_date=date(2026, 12, 6),
            ),
            material("fire_commit", "消防安全承诺书", False, MaterialStatus.COMMITTED, [LICENCES[2]]),
            # the same material listed again by another licence: shown once, licences merged
            material(
                "premises",
                "经营场所使用证明（房产证或租赁合同）",
                True,
                MaterialStatus.MISSING,
                [LICENCES[3]],
            ),
            material(
                "sign_design", "招牌设计效果图（标明尺寸、材质）", True, MaterialStatus.MISSING, [LICENCES[3]]
            ),
        ],
        submission=SubmissionInfo(
            where="临沂市兰山区政务服务中心一楼 证照联办综合窗口（8–12 号）",
            how=["在本公众号上传照片或扫描件（推荐）", "或携带原件到综合窗口现场提交"],
            hours="工作日 9:00–12:00，13:30–17:00",
            phone="0539-1234567",
        ),
    )


PERMITS = [
    (LICENCES[0], "兰山区市场监督管理局", date(2026, 11, 23), None),
    (LICENCES[1], "兰山区市场监督管理局", date(2026, 11, 28), date(2031, 11, 27)),
    (LICENCES[2], "兰山区消防救援大队", date(2026, 12, 1), None),
    (LICENCES[3], "兰山区综合行政执法局", date(2026, 11, 28), date(2029, 11, 27)),
]


def card_data(**changes) -> LicenceCardData:
    data = LicenceCardData(
        licence_number=NUMBER,
        industry="餐饮服务（饭店）",
        operator_name="临沂市兰山区好味道餐饮有限公司",
        legal_representative="王建国",
        address="山东省临沂市兰山区金雀山街道沂蒙路 188 号 1 号楼 101 室",
        permits=[CardPermit(name=n, department=d, valid_from=f, valid_until=u) for n, d, f, u in PERMITS],
        issued_on=date(2026, 12, 1),
        issuer="临沂市兰山区行政审批服务局",
        verification_url=URL,
    )
    return data.model_copy(update=changes)


def verification_data(statuses: list[PermitStatus] | None = None) -> VerificationData:
    statuses = statuses or [PermitStatus.VALID] * len(PERMITS)
    changed = datetime(2027, 3, 15, 2, 30, tzinfo=UTC)
    return VerificationData(
        licence_number=NUMBER,
        status=PermitStatus.VALID,
        industry="餐饮服务（饭店）",
        operator_name="临沂市兰山区好味道餐饮有限公司",
        legal_representative="王建国",
        address="山东省临沂市兰山区金雀山街道沂蒙路 188 号 1 号楼 101 室",
        issued_on=date(2026, 12, 1),
        issuer="临沂市兰山区行政审批服务局",
        permits=[
            VerificationPermit(
                name=n, department=d, status=s, valid_from=f, valid_until=u, updated_at=changed
            )
            for (n, d, f, u), s in zip(PERMITS, statuses, strict=True)
        ],
        updated_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
    )
