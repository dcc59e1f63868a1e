"""Satisfaction ratings through the HTTP API: own applications and conversations only, scores 1–5."""

from pathlib import Path

import pytest

from backend.catalog import CatalogError
from backend.rating_scale import RATINGS_FILE, load_rating_scale
from tests.backend.conftest import SERVICE_KEY, Api
from tests.backend.test_lifecycle import INFO, restaurant_package

APPLICANT = "miniprogram:oRatingApplicant00001"
OTHER = "wechat:oSomeoneElse000000000001"


async def test_rating_own_application_and_conversation(api: Api) -> None:
    package = await restaurant_package(api)
    application = await api.call(
        "POST",
        "/applications",
        applicant=APPLICANT,
        expect=201,
        json={"package_id": package["id"], "applicant": INFO},
    )
    handoff = await api.call("POST", "/handoffs", applicant=APPLICANT, expect=201, json={"reason": "asked"})
    code = application["code"]
    loose_code = code.lower().replace("-", "")  # people type codes any way

    rated = await api.call(
        "POST",
        "/ratings",
        applicant=APPLICANT,
        expect=201,
        json={"score": 5, "comment": " 办事很快 ", "application_code": loose_code},
    )
    assert rated["score"] == 5 and rated["comment"] == "办事很快" and rated["application_code"] == code
    by_handoff = await api.call(
        "POST", "/ratings", applicant=APPLICANT, expect=201, json={"score": 4, "handoff_id": handoff["id"]}
    )
    assert by_handoff["handoff_id"] == handoff["id"] and by_handoff["comment"] is None
    plain = await api.call("POST", "/ratings", applicant=APPLICANT, expect=201, json={"score": 3})
    assert plain["application_code"] is None

    # Once per application and per conversation.
    again = await api.call(
        "POST", "/ratings", applicant=APPLICANT, expect=409, json={"score": 1, "application_code": code}
    )
    assert again["error"]["code"] == "already_rated"
    await api.call(
        "POST", "/ratings", applicant=APPLICANT, expect=409, json={"score": 1, "handoff_id": handoff["id"]}
    )

    events = (await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY}))["events"]
    created = [e for e in events if e["type"] == "rating.created"]
    assert [e["payload"]["score"] for e in created] == [5, 4, 3]
    assert created[0]["application_code"] == code and created[0]["applicant"] == APPLICANT
    assert (
        created[0]["payload"]["comment"] == "办事很快" and created[0]["payload"]["score_label"] == "非常满意"
    )
    assert created[1]["payload"]["handoff_id"] == handoff["id"]


async def test_someone_elses_targets_and_bad_scores(api: Api) -> None:
    package = await restaurant_package(api)
    theirs = await api.call(
        "POST",
        "/applications",
        applicant=OTHER,
        expect=201,
        json={"package_id": package["id"], "applicant": INFO},
    )
    their_handoff = await api.call("POST", "/handoffs", applicant=OTHER, expect=201, json={"reason": "asked"})
    for target in (
        {"application_code": theirs["code"]},
        {"handoff_id": their_handoff["id"]},
        {"application_code": "ZL-20260101-ZZZZZZ"},
        {"application_code": "not a code"},
        {"handoff_id": 999999},
    ):
        await api.call("POST", "/ratings", applicant=APPLICANT, expect=404, json={"score": 5, **target})

    for body in (
        {"score": 0},
        {"score": 6},
        {"score": -1},
        {"score": 4.5},
        {"score": "5"},
        {"score": True},
        {},
        {"score": 5, "comment": "长" * 1001},
        {"score": 5, "handoff_id": 0},
        {"score": 5, "stars": 5},
    ):
        await api.call("POST", "/ratings", applicant=APPLICANT, expect=422, json=body)
    await api.call("POST", "/ratings", expect=401, json={"score": 5})
    await api.call("POST", "/ratings", headers={"X-Service-Key": SERVICE_KEY}, expect=401, json={"score": 5})


def test_the_score_names_come_from_the_file_the_chat_buttons_read(tmp_path: Path) -> None:
    # The national 好差评 grades; the gateway's and the assistant's score buttons read the same file.
    assert load_rating_scale(RATINGS_FILE) == {
        1: "非常不满意",
        2: "不满意",
        3: "基本满意",
        4: "满意",
        5: "非常满意",
    }
    for broken in (
        "scores: {1: 差, 2: 好}",
        "scores: {0: a, 1: b, 2: c, 3: d, 4: e, 5: f}",
        "scores: {1: ' '}",
    ):
        path = tmp_path / "ratings.yaml"
        path.write_text(broken, encoding="utf-8")
        with pytest.raises(CatalogError, match=r"ratings\.yaml"):
            load_rating_scale(path)


async def test_a_rating_event_names_the_score_as_the_chat_did(api: Api) -> None:
    await api.call("POST", "/ratings", applicant=APPLICANT, expect=201, json={"score": 1})
    events = (await api.call("GET", "/events?limit=1000", headers={"X-Service-Key": SERVICE_KEY}))["events"]
    [created] = [e for e in events if e["type"] == "rating.created"]
    assert created["payload"]["score_label"] == load_rating_scale(RATINGS_FILE)[1]
