"""The catalog: the sample data loads and follows the policy documents, the rules decide the checklist, broken
catalogs fail with a message naming file, entry and problem, and due dates count working days."""

import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from backend.catalog import (
    Catalog,
    CatalogError,
    CatalogLookupError,
    HolidayCalendar,
    InvalidAnswer,
    UnknownPackage,
    load_catalog,
    load_holidays,
)

ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR = ROOT / "config" / "catalog"
HOLIDAYS = ROOT / "config" / "holidays.yaml"
MINIMAL_DIR = Path(__file__).parent / "catalog_fixtures" / "minimal"

# linyi-2018-188 Annex 1 (序号, 事项名称, 许可证名称, 责任部门), as published; the table layout's line-break
# spaces are dropped and brackets are full-width, as in the catalog.
ANNEX_1 = [
    (1, "餐饮服务", {"食品经营许可证"}, {"食品药品监管部门"}),
    (2, "药品经营（零售）", {"药品经营许可证"}, {"食品药品监管部门"}),
    (3, "医疗器械经营", {"第三类医疗器械经营许可证"}, {"食品药品监管部门"}),
    (4, "开办商场超市", {"食品经营许可证", "公共场所卫生许可证"}, {"食品药品监管部门", "卫生计生行政部门"}),
    (5, "开办影剧院", {"公共场所卫生许可证"}, {"卫生计生行政部门"}),
    (6, "开办录像厅（室）", {"公共场所卫生许可证"}, {"卫生计生行政部门"}),
    (7, "开办游艺厅（室）", {"公共场所卫生许可证"}, {"卫生计生行政部门"}),
    (8, "开办书店", {"公共场所卫生许可证"}, {"卫生计生行政部门"}),
    (9, "开办图书馆", {"公共场所卫生许可证"}, {"卫生计生行政部门"}),
    (10, "开办美术馆", {"公共场所卫生许可证"}, {"卫生计生行政部门"}),
    (11, "开办展览馆", {"公共场所卫生许可证"}, {"卫生计生行政部门"}),
    (12, "开办舞厅", {"公共场所卫生许可证"}, {"卫生计生行政部门"}),
    (13, "开办旅行社", {"旅行社业务经营许可证"}, {"旅游主管部门"}),
    (14, "设立道路运输站（场）", {"道路运输站（场）经营许可证"}, {"道路运输管理机构"}),
    (15, "机动车维修", {"机动车维修经营许可证"}, {"道路运输管理机构"}),
    (16, "普通货物运输", {"道路货运经营许可证"}, {"道路运输管理机构"}),
    (17, "印刷经营", {"印刷经营许可证"}, {"出版行政部门"}),
    (18, "人力资源服务", {"人力资源服务许可证"}, {"人力资源和社会保障部门"}),
]
SUIXIAN_PILOTS = {
    "饭店": "restaurant",
    "小经营店": "small_shop",
    "药店": "pharmacy",
    "小作坊": "food_workshop",
    "超市": "supermarket",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


@pytest.fixture(scope="module")
def minimal() -> Catalog:
    return load_catalog(MINIMAL_DIR)


def licence_ids(catalog: Catalog, package_id: str, answers: dict[str, Any]) -> list[str]:
    return [lic.matter_id for lic in catalog.checklist(package_id, answers).licences]


def material_ids(catalog: Catalog, package_id: str, answers: dict[str, Any]) -> list[str]:
    return [m.material_id for m in catalog.checklist(package_id, answers).materials]


def every_answer(catalog: Catalog, package_id: str, pick: int) -> dict[str, Any]:
    """Answer every question of a package, one extreme or the other, round by round as the chat does."""
    answers: dict[str, Any] = {}
    for _ in range(10):
        unanswered = catalog.checklist(package_id, answers).unanswered
        if not unanswered:
            return answers
        for question in unanswered:
            if question.type == "bool":
                answers[question.id] = pick == 0
            elif question.type == "choice":
                answers[question.id] = question.options[-pick].id
            else:
                answers[question.id] = question.min if pick == 0 else question.max
    raise AssertionError("questions never ran out")


# --- the sample catalog and the policy documents --------------------------------------------------------


def test_sample_catalog_loads(catalog: Catalog) -> None:
    assert len(catalog.packages) >= 20
    assert all(package.summary and package.industry for package in catalog.packages.values())


@pytest.mark.parametrize(("row", "name", "licences", "departments"), ANNEX_1)
def test_every_annex_1_row_is_a_matter_with_its_exact_licence(
    catalog: Catalog, row: int, name: str, licences: set[str], departments: set[str]
) -> None:
    matters = [m for m in catalog.matters.values() if m.annex_row == row]
    assert {m.name for m in matters} == {name}
    assert {m.licence_name for m in matters} == licences
    assert {catalog.departments[m.department_id].annex_name for m in matters} <= departments
    reachable = {m for p in catalog.packages.values() for m in p.matters} | {
        m for p in catalog.packages.values() for rule in p.rules for m in rule.add_matters
    }
    assert {m.id for m in matters} <= reachable, "every Annex-1 matter is offered by some package"


def test_suixian_pilot_industries_have_packages(catalog: Catalog) -> None:
    for pilot, package_id in SUIXIAN_PILOTS.items():
        package = catalog.find_package(pilot)
        assert package is not None and package.id == package_id, pilot


def test_business_registration_is_first_and_in_every_package(catalog: Catalog) -> None:
    for package_id in catalog.packages:
        for answers in ({}, every_answer(catalog, package_id, 0), every_answer(catalog, package_id, 1)):
            licences = catalog.checklist(package_id, answers).licences
            assert licences[0].licence_name == "营业执照" and licences[0].registration_first, package_id
            assert sum(lic.registration_first for lic in licences) == 1


@pytest.mark.parametrize("pick", [0, 1])
def test_every_package_answered_either_way_gives_a_consistent_checklist(catalog: Catalog, pick: int) -> None:
    for package_id in catalog.packages:
        checklist = catalog.checklist(package_id, every_answer(catalog, package_id, pick))
        matters = [lic.matter_id for lic in checklist.licences]
        ids = [m.material_id for m in checklist.materials]
        assert len(ids) == len(set(ids)), f"{package_id}: a material is listed twice"
        assert len(matters) == len(set(matters))
        for material in checklist.materials:
            assert material.needed_by and set(material.needed_by) <= set(matters), (package_id, material)
        assert any(m.key for m in checklist.materials)
        [registration, *permits] = checklist.licences
        assert registration.registration_first and not any(p.registration_first for p in permits)
        longest = max((p.promised_days for p in permits), default=0)
        assert checklist.promised_days == registration.promised_days + longest
        longest_by_law = max((p.legal_days for p in permits), default=0)
        assert checklist.legal_days == registration.legal_days + longest_by_law
        assert not checklist.unanswered
        json.dumps(checklist.model_dump(mode="json"), ensure_ascii=False)


def test_promises_are_shorter_than_the_law_and_fees_are_text(catalog: Catalog) -> None:
    for matter in catalog.matters.values():
        assert matter.promised_days <= matter.legal_days
        if matter.legal_days:
            assert matter.promised_days < matter.legal_days, matter.id
        assert matter.fee == "不收费"
    registration = catalog.matters["business_registration"]
    assert registration.registration_first and registration.promised_days == 1


def test_whole_catalog_serialises_to_json(catalog: Catalog) -> None:
    data = catalog.model_dump(mode="json")
    restaurant = data["packages"]["restaurant"]
    assert restaurant["questions"][0]["id"] == "entity_type"
    assert restaurant["rules"] and "饭店" in restaurant["aliases"]
    json.dumps(data, ensure_ascii=False)


# --- checklist -----------------------------------------------------------------------------------------


def test_shared_material_appears_once_with_every_matter_that_needs_it(catalog: Catalog) -> None:
    checklist = catalog.checklist("supermarket", {"area": 500, "prepackaged_only": False, "food_handlers": 4})
    matters = [lic.matter_id for lic in checklist.licences]
    permits = ["mall_food_licence", "mall_hygiene_licence", "fire_safety_check"]
    assert matters == ["business_registration", *permits]
    by_id = {m.material_id: m for m in checklist.materials}
    assert by_id["joint_application_form"].needed_by == matters
    assert by_id["premises_layout"].needed_by == permits
    health = by_id["health_certificates"]
    assert health.needed_by == ["mall_food_licence", "mall_hygiene_licence"]
    assert health.reasons == ["直接接触入口食品的从业人员共4人，每人都需要有效的健康证明。"]


def test_prepackaged_only_gets_a_filing_instead_of_the_food_licence(catalog: Catalog) -> None:
    base = {"entity_type": "individual", "premises": "leased", "area": 80, "food_handlers": 0}
    prepackaged = catalog.checklist("supermarket", {**base, "prepackaged_only": True})
    cooking = catalog.checklist("supermarket", {**base, "prepackaged_only": False, "onsite_processing": True})

    assert [lic.matter_id for lic in prepackaged.licences] == [
        "business_registration",
        "prepackaged_food_filing",
    ]
    assert "备案" in prepackaged.licences[1].reason
    assert prepackaged.promised_days == 1  # the filing is done on the spot: registration's day alone
    assert [lic.licence_name for lic in cooking.licences] == ["营业执照", "食品经营许可证"]
    # The food licence starts when registration's result reaches it (1 day), then takes its own 3.
    assert cooking.promised_days == 1 + 3
    cooking_materials = {m.material_id for m in cooking.materials}
    assert {"food_process_flow", "premises_layout", "food_safety_rules"} <= cooking_materials
    assert not {"food_process_flow", "premises_layout"} & {m.material_id for m in prepackaged.materials}


def test_large_area_adds_the_hygiene_permit_and_fire_check(catalog: Catalog) -> None:
    small = licence_ids(catalog, "supermarket", {"area": 120})
    large = catalog.checklist("supermarket", {"area": 300})
    assert "mall_hygiene_licence" not in small
    hygiene = next(lic for lic in large.licences if lic.matter_id == "mall_hygiene_licence")
    assert hygiene.licence_name == "公共场所卫生许可证" and hygiene.department_name == "卫生健康委员会"
    assert "300平方米" in hygiene.reason
    assert "fire_safety_check" in [lic.matter_id for lic in large.licences]
    assert large.legal_days == 3 + 20  # registration's 3 days by law, then the longest permit's 20


def test_premises_answer_replaces_the_generic_proof(catalog: Catalog) -> None:
    unanswered = material_ids(catalog, "restaurant", {})
    leased = material_ids(catalog, "restaurant", {"premises": "租赁"})
    owned = material_ids(catalog, "restaurant", {"premises": "owned"})
    assert "premises_proof" in unanswered and "lease_contract" not in unanswered
    assert "premises_proof" not in leased
    # The replacement takes the generic proof's place, not the end of the list.
    assert leased.index("lease_contract") == unanswered.index("premises_proof")
    assert leased[leased.index("lease_contract") + 1] == "property_certificate"
    assert "property_certificate" in owned and "lease_contract" not in owned


def test_restaurant_rules_switch_licences_and_materials(catalog: Catalog) -> None:
    small = catalog.checklist(
        "restaurant",
        {
            "entity_type": "individual",
            "area": 40,
            "cold_dishes": True,
            "takeaway": "有",
            "food_handlers": "2人",
        },
    )
    assert [lic.matter_id for lic in small.licences] == [
        "business_registration",
        "food_small_shop_registration",
    ]
    materials = {m.material_id: m for m in small.materials}
    assert materials["special_room_description"].needed_by == ["food_small_shop_registration"]
    assert {"takeaway_management", "online_platform_info"} <= materials.keys()
    assert "food_service" not in {m for item in small.materials for m in item.needed_by}

    company = catalog.checklist("restaurant", {"entity_type": "company", "area": 40, "via_agent": True})
    assert "food_service" in [lic.matter_id for lic in company.licences]
    company_materials = {m.material_id: m for m in company.materials}
    assert company_materials["articles_of_association"].needed_by == ["business_registration"]
    assert company_materials["agent_authorization"].needed_by == ["business_registration", "food_service"]


def test_pharmacy_rules(catalog: Catalog) -> None:
    plain = catalog.checklist("pharmacy", {})
    assert [lic.licence_name for lic in plain.licences] == ["营业执照", "药品经营许可证"]
    assert "pharmacist_registration" in [m.material_id for m in plain.materials]

    full = catalog.checklist(
        "pharmacy", {"otc_b_only": True, "sells_medical_devices": True, "sells_health_food": True}
    )
    filings = ["medical_device_class2_filing", "prepackaged_food_filing"]
    assert [lic.matter_id for lic in full.licences][2:] == filings
    materials = {m.material_id: m for m in full.materials}
    assert "pharmacist_registration" not in materials and "drug_staff_training_proof" in materials
    assert materials["quality_manager_qualification"].needed_by == ["drug_retail", filings[0]]


def test_rules_that_only_take_away_explain_themselves_as_notices(catalog: Catalog) -> None:
    light = catalog.checklist("road_freight", {"light_vehicles_only": True})
    assert [lic.matter_id for lic in light.licences] == ["business_registration"]
    assert light.notices and "4.5吨" in light.notices[0]
    heavy = catalog.checklist("road_freight", {"light_vehicles_only": "否", "vehicle_count": "3"})
    assert not heavy.notices
    vehicles = next(m for m in heavy.materials if m.material_id == "vehicle_documents")
    assert "3辆" in vehicles.reasons[0]
    outbound = catalog.checklist("travel_agency", {"outbound_tourism": True})
    assert any("出境旅游" in notice for notice in outbound.notices)


def test_commitment_covers_a_material_only_if_every_matter_needing_it_allows_commitment(
    catalog: Catalog,
) -> None:
    materials = {m.material_id: m for m in catalog.checklist("pharmacy", {"premises": "owned"}).materials}
    # property_certificate may be replaced by a commitment, but drug retail does not accept 告知承诺.
    assert catalog.materials["property_certificate"].commitment_covers
    assert not materials["property_certificate"].commitment_covers
    food = {m.material_id: m for m in catalog.checklist("restaurant", {}).materials}
    assert food["food_safety_rules"].commitment_covers and not food["food_safety_rules"].key


def test_partial_answers_list_what_is_still_to_ask(catalog: Catalog) -> None:
    empty = catalog.checklist("small_shop", {})
    asked = [q.id for q in empty.unanswered]
    assert "sells_food" in asked
    assert "prepackaged_only" not in asked, "ask_if hides it until sells_food is known"
    assert "entity_type" not in asked, "preset by the package"
    assert empty.answers == {"entity_type": "individual"}

    selling = catalog.checklist("small_shop", {"sells_food": True})
    assert [q.id for q in selling.unanswered][:2] == ["premises", "area"]
    assert "prepackaged_only" in [q.id for q in selling.unanswered]

    # An answer to a question that no longer applies is dropped and fires nothing.
    not_selling = catalog.checklist("small_shop", {"sells_food": False, "prepackaged_only": True})
    assert "prepackaged_only" not in not_selling.answers
    assert [lic.matter_id for lic in not_selling.licences] == ["business_registration"]
    assert any("不销售食品" in notice for notice in not_selling.notices)


def test_answers_are_normalised(catalog: Catalog) -> None:
    checklist = catalog.checklist(
        "supermarket",
        {
            "entity_type": "个体工商户",
            "premises": " leased ",
            "area": "约 １２０ 平方米",
            "prepackaged_only": "是",
            "sells_alcohol": "没有",
            "sells_tobacco": 0,
            "online_sales": None,
        },
    )
    assert checklist.answers == {
        "sells_food": True,
        "entity_type": "individual",
        "premises": "leased",
        "area": 120,
        "prepackaged_only": True,
        "sells_alcohol": False,
        "sells_tobacco": False,
    }
    assert catalog.checklist("supermarket", {"area": 120.5}).answers["area"] == 120.5


@pytest.mark.parametrize(
    ("package_id", "answers", "field", "text"),
    [
        ("restaurant", {"colour": "red"}, "colour", "没有这个问题"),
        ("restaurant", {"prepackaged_only": True}, "prepackaged_only", "没有这个问题"),
        ("restaurant", {"takeaway": "也许"}, "takeaway", "“是”或“否”"),
        ("restaurant", {"takeaway": 2}, "takeaway", "“是”或“否”"),
        ("restaurant", {"area": 0}, "area", "1到100000平方米之间"),
        ("restaurant", {"area": "很大"}, "area", "请填写一个数字"),
        ("restaurant", {"area": True}, "area", "请填写一个数字"),
        ("restaurant", {"area": float("nan")}, "area", "请填写一个数字"),
        ("restaurant", {"premises": "rented"}, "premises", "自有房产、租赁"),
        ("restaurant", {"premises": 1}, "premises", "请从以下选项中选择"),
        ("travel_agency", {"entity_type": "individual"}, "entity_type", "只能选择“公司（企业）”"),
    ],
)
def test_invalid_answers_name_the_field(
    catalog: Catalog, package_id: str, answers: dict[str, Any], field: str, text: str
) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        catalog.checklist(package_id, answers)
    assert caught.value.field == field
    assert text in caught.value.message


def test_a_preset_answer_may_be_echoed_back(catalog: Catalog) -> None:
    answers = catalog.checklist("travel_agency", {"premises": "owned"}).answers
    assert catalog.checklist("travel_agency", answers).answers == answers


def test_unknown_package(catalog: Catalog) -> None:
    with pytest.raises(UnknownPackage) as caught:
        catalog.checklist("spaceport", {})
    assert isinstance(caught.value, CatalogLookupError) and caught.value.package_id == "spaceport"
    assert "spaceport" in caught.value.message
    with pytest.raises(UnknownPackage):
        catalog.package("spaceport")


@pytest.mark.parametrize(
    ("text", "package_id"),
    [
        ("火锅店", "restaurant"),
        ("饭馆", "restaurant"),
        ("小吃店", "restaurant"),
        ("奶茶店", "restaurant"),
        ("我想开一家火锅店", "restaurant"),
        ("大药房", "pharmacy"),
        ("开个药房", "pharmacy"),
        ("pharmacy", "pharmacy"),
        ("药店（药品零售）", "pharmacy"),
        ("超市", "supermarket"),
        ("小超市", "small_shop"),
        ("便利店", "small_shop"),
        ("小卖部", "small_shop"),
        ("豆腐坊", "food_workshop"),
        ("想开货运站", "transport_station"),
        ("ktv", "dance_hall"),
        ("汽修厂", "vehicle_repair"),
    ],
)
def test_find_package(catalog: Catalog, text: str, package_id: str) -> None:
    package = catalog.find_package(text)
    assert package is not None and package.id == package_id


@pytest.mark.parametrize("text", ["", "  ", "宇宙飞船", "店"])
def test_find_package_without_a_match(catalog: Catalog, text: str) -> None:
    assert catalog.find_package(text) is None


# --- rule semantics on the minimal catalog --------------------------------------------------------------


def test_removal_wins_whatever_the_rule_order(minimal: Catalog) -> None:
    both = minimal.checklist("demo", {"big": 200, "simple": True})
    assert [lic.matter_id for lic in both.licences] == ["reg", "permit_a", "filing"]
    assert not both.notices, "the overridden rule says nothing; the removing one explains the filing"
    assert both.licences[2].reason == "简易经营改为备案"
    big = minimal.checklist("demo", {"big": 200, "simple": False})
    assert big.licences[2].matter_id == "permit_b" and big.licences[2].reason == "面积200平方米，需要乙证"


def test_for_matters_and_presets(minimal: Catalog) -> None:
    checklist = minimal.checklist("demo", {"big": 200, "simple": False, "detail": True})
    materials = {m.material_id: m for m in checklist.materials}
    assert materials["extra"].needed_by == ["permit_b"]
    # The preset answer removed permit_a's rules only; permit_b still needs them.
    assert materials["rules"].needed_by == ["permit_b"] and materials["rules"].reasons == []
    assert checklist.answers["fixed"] is True
    assert materials["form"].needed_by == ["reg", "permit_a", "permit_b"]
    assert not materials["place"].commitment_covers, "reg does not allow 告知承诺"


def test_conditions_on_unanswered_questions_do_not_fire(minimal: Catalog) -> None:
    checklist = minimal.checklist("demo", {"big": 5})
    assert [lic.matter_id for lic in checklist.licences] == ["reg", "permit_a"]
    assert [q.id for q in checklist.unanswered] == ["tenure", "simple"]
    removed = minimal.checklist("demo", {"big": 5, "simple": False})
    assert [lic.matter_id for lic in removed.licences] == ["reg"]
    assert removed.notices == ["很小的场所不需要甲证"]
    assert [q.id for q in removed.unanswered] == ["tenure", "detail"]


def test_shared_rule_replaces_for_every_matter_needing_the_material(minimal: Catalog) -> None:
    materials = minimal.checklist("demo", {"tenure": "租赁"}).materials
    assert [m.material_id for m in materials] == ["form", "lease", "deed"]
    assert all(m.needed_by == ["reg", "permit_a"] for m in materials[1:])
    assert materials[1].reasons == ["租赁的带租赁合同和产权证"]


# --- broken catalogs ------------------------------------------------------------------------------------


def copy_catalog(tmp_path: Path) -> Path:
    directory = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, directory)
    return directory


def edit(directory: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = directory / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def entry(data: dict[str, Any], kind: str, ident: str) -> dict[str, Any]:
    found: dict[str, Any] = next(item for item in data[kind] if item["id"] == ident)
    return found


def package_rule(number: int, package_id: str = "supermarket") -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda data: entry(data, "packages", package_id)["rules"][number - 1]


BROKEN: list[tuple[str, str, Callable[[dict[str, Any]], None], list[str]]] = [
    (
        "unknown matter in a package",
        "packages.yaml",
        lambda d: entry(d, "packages", "restaurant")["matters"].append("food_xx"),
        ["package 'restaurant'", "matter 'food_xx' is not defined in matters.yaml"],
    ),
    (
        "duplicate matter id",
        "matters.yaml",
        lambda d: d["matters"].append(dict(entry(d, "matters", "food_service"))),
        ["matter 'food_service'", "duplicate id"],
    ),
    (
        "duplicate package id",
        "packages.yaml",
        lambda d: d["packages"].append(dict(entry(d, "packages", "library"))),
        ["package 'library'", "duplicate id"],
    ),
    (
        "rule on an unknown question",
        "packages.yaml",
        lambda d: package_rule(1)(d)["when"].update(question="aera"),
        ["package 'supermarket': rule 1: when", "question 'aera'", "not defined in questions.yaml"],
    ),
    (
        "rule on a question the package does not ask",
        "packages.yaml",
        lambda d: package_rule(1)(d)["when"].update(question="cold_chain", gte=None, equals=True),
        ["package 'supermarket': rule 1", "'cold_chain'", "the package does not ask it"],
    ),
    (
        "rule on an unknown option",
        "questions.yaml",
        lambda d: d["rules"][2]["when"].update(equals="rented"),
        ["questions.yaml: rule 3: when", "'rented' is not an option of question 'premises'"],
    ),
    (
        "yes/no question compared with text",
        "packages.yaml",
        lambda d: package_rule(2)(d)["when"].update(equals="yes"),
        ["package 'supermarket': rule 2", "'prepackaged_only' is answered yes or no"],
    ),
    (
        "number question with one_of",
        "packages.yaml",
        lambda d: package_rule(1)(d)["when"].update(gte=None, one_of=["big"]),
        ["package 'supermarket': rule 1", "'area' is a number"],
    ),
    (
        "condition with two operators",
        "packages.yaml",
        lambda d: package_rule(1)(d)["when"].update(lt=1000),
        ["package 'supermarket': rule 1: when", "exactly one of"],
    ),
    (
        "ask_if loop",
        "questions.yaml",
        lambda d: entry(d, "questions", "sells_food").update(
            ask_if={"question": "onsite_processing", "equals": True}
        ),
        ["questions.yaml: question 'sells_food'", "ask_if loop", "'prepackaged_only'"],
    ),
    (
        "ask_if on itself",
        "questions.yaml",
        lambda d: entry(d, "questions", "area").update(ask_if={"question": "area", "gt": 1}),
        ["question 'area'", "ask_if refers to the question itself"],
    ),
    (
        "ask_if parent asked later",
        "packages.yaml",
        lambda d: entry(d, "packages", "small_shop")["questions"].remove("sells_food"),
        ["package 'small_shop'", "'prepackaged_only'", "depending on 'sells_food'"],
    ),
    (
        "unknown department",
        "matters.yaml",
        lambda d: entry(d, "matters", "printing").update(department_id="propaganda"),
        ["matter 'printing'", "department 'propaganda' is not defined in departments.yaml"],
    ),
    (
        "unknown material",
        "matters.yaml",
        lambda d: entry(d, "matters", "hr_service")["materials"].append("crystal_ball"),
        ["matter 'hr_service'", "material 'crystal_ball' is not defined in materials.yaml"],
    ),
    (
        "promise longer than the law",
        "matters.yaml",
        lambda d: entry(d, "matters", "travel_agency").update(promised_days=30),
        ["matter 'travel_agency'", "promised_days (30) is longer than legal_days (20)"],
    ),
    (
        "misspelt field",
        "matters.yaml",
        lambda d: entry(d, "matters", "food_service").update(comitment_allowed=True),
        ["matter 'food_service'", "comitment_allowed", "Extra inputs are not permitted"],
    ),
    (
        "annex row out of range",
        "matters.yaml",
        lambda d: entry(d, "matters", "printing").update(annex_row=19),
        ["matter 'printing'", "annex_row"],
    ),
    (
        "package without business registration",
        "packages.yaml",
        lambda d: entry(d, "packages", "bookstore")["matters"].remove("business_registration"),
        ["package 'bookstore'", "must include business registration"],
    ),
    (
        "rule removing business registration",
        "packages.yaml",
        lambda d: package_rule(1)(d).update(remove_matters=["business_registration"]),
        ["package 'supermarket'", "may not remove business registration"],
    ),
    (
        "alias used by two packages",
        "packages.yaml",
        lambda d: entry(d, "packages", "supermarket")["aliases"].append("饭店"),
        ["package", "alias '饭店' is already used by package"],
    ),
    (
        "two materials with one name",
        "materials.yaml",
        lambda d: entry(d, "materials", "lease_contract").update(name="房屋产权证明"),
        ["material 'lease_contract'", "'房屋产权证明' is already used by material 'property_certificate'"],
    ),
    (
        "reason quoting an answer the rule does not ask",
        "packages.yaml",
        lambda d: package_rule(2)(d).update(reason="面积{area}平方米"),
        ["package 'supermarket': rule 2", "'{area}'"],
    ),
    (
        "invalid preset answer",
        "packages.yaml",
        lambda d: entry(d, "packages", "travel_agency")["preset_answers"].update(entity_type="group"),
        ["package 'travel_agency': preset_answers", "'entity_type'"],
    ),
    (
        "question asked twice",
        "packages.yaml",
        lambda d: entry(d, "packages", "library")["questions"].append("premises"),
        ["package 'library'", "questions lists the same question twice"],
    ),
    (
        "undefined question in a package",
        "packages.yaml",
        lambda d: entry(d, "packages", "library")["questions"].append("colour"),
        ["package 'library': questions", "question 'colour' is not defined in questions.yaml"],
    ),
    (
        "choice with one option",
        "questions.yaml",
        lambda d: entry(d, "questions", "station_type")["options"].pop(),
        ["question 'station_type'", "at least two options"],
    ),
    (
        "identifier with capitals",
        "departments.yaml",
        lambda d: d["departments"][0].update(id="Market"),
        ["departments.yaml: department 'Market': id", "pattern"],
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "expected"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN]
)
def test_broken_catalog_names_file_entry_and_problem(
    tmp_path: Path, name: str, change: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    directory = copy_catalog(tmp_path)
    edit(directory, name, change)
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    message = str(caught.value)
    assert message.startswith(str(directory / name)), message
    for text in expected:
        assert text in message, message


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path)
    path = directory / "departments.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "    name: 卫生健康委员会\n", "    name: 卫生健康委员会\n    name: 卫生局\n"
        ),
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match=r"departments\.yaml: invalid YAML: .*key 'name' appears twice"):
        load_catalog(directory)


def test_invalid_yaml_and_missing_files(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path)
    (directory / "packages.yaml").write_text("packages: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"packages\.yaml: invalid YAML"):
        load_catalog(directory)
    (directory / "matters.yaml").unlink()
    with pytest.raises(CatalogError, match=r"matters\.yaml: file not found"):
        load_catalog(directory)


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    directory = copy_catalog(tmp_path)
    (directory / "materials.yaml").write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"materials\.yaml: .*valid dictionary"):
        load_catalog(directory)


# --- working days ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def calendar() -> HolidayCalendar:
    return load_holidays(HOLIDAYS)


def test_holiday_file_covers_2025_to_2027(calendar: HolidayCalendar) -> None:
    assert calendar.years == [2025, 2026, 2027]
    assert calendar.provisional_years == [2027], "2027 is an estimate until the State Council publishes it"
    assert calendar.holiday_name(date(2026, 2, 17)) == "春节"
    assert calendar.holiday_name(date(2025, 10, 6)) == "国庆节、中秋节"


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2025, 3, 7), 1, date(2025, 3, 10)),  # Friday + 1 skips the weekend
        (date(2025, 3, 3), 5, date(2025, 3, 10)),
        (date(2025, 9, 30), 1, date(2025, 10, 9)),  # over the National Day / Mid-Autumn holiday
        (date(2025, 9, 26), 1, date(2025, 9, 28)),  # Sunday 28 September is an adjusted working day
        (date(2025, 10, 10), 1, date(2025, 10, 11)),  # so is Saturday 11 October
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Saturday before the Spring Festival
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # Spring Festival 15-23 February
        (date(2026, 4, 30), 3, date(2026, 5, 8)),  # Labour Day 1-5 May
        (date(2026, 5, 8), 1, date(2026, 5, 9)),  # Saturday 9 May is a working day
        (date(2025, 1, 27), 0, date(2025, 1, 27)),  # 0 = the same day (当场办结)
        (date(2030, 10, 1), 1, date(2030, 10, 2)),  # a year the file does not cover: weekends only
    ],
)
def test_add_working_days(calendar: HolidayCalendar, start: date, days: int, due: date) -> None:
    assert calendar.add_working_days(start, days) == due


def test_is_working_day(calendar: HolidayCalendar) -> None:
    assert calendar.is_working_day(date(2025, 4, 27))  # Sunday, 调休
    assert not calendar.is_working_day(date(2025, 5, 2))  # Friday, Labour Day
    assert not calendar.is_working_day(date(2025, 3, 8))  # plain Saturday
    assert calendar.is_working_day(date(2025, 3, 10))
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_days(date(2025, 3, 10), -1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "years:\n  - {year: 2025, holidays: [{name: 假, start: 2025-03-03,\n"
            "    working_days: [2025-03-04]}]}\n",
            ["year 2025: holiday '假'", "2025-03-04 is not a Saturday or Sunday"],
        ),
        (
            "years:\n  - {year: 2025, holidays: [{name: 假, start: 2025-03-05, end: 2025-03-03}]}\n",
            ["year 2025: holiday '假'", "end 2025-03-03 is before start 2025-03-05"],
        ),
        (
            "years:\n  - {year: 2025, holidays: []}\n  - {year: 2025, holidays: []}\n",
            ["year 2025", "listed twice"],
        ),
        (
            "years:\n  - {year: 2025, holidays: [{name: 甲, start: 2025-03-03},\n"
            "    {name: 乙, start: 2025-03-03}]}\n",
            ["holiday '乙'", "2025-03-03 is already a holiday (甲)"],
        ),
        (
            "years:\n  - {year: 2025, holidays: [{name: 假, start: 2025-13-01}]}\n",
            ["year 2025", "holidays.0.start"],
        ),
    ],
)
def test_broken_holiday_file(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_holidays(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message, message
