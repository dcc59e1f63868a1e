import pytest

from backend.materials.tokens import (
    CROCKFORD,
    MAX_NOTICE_PAYLOAD,
    sign_application_notice,
    sign_checklist_notice,
    sign_file_token,
    sign_licence,
    verification_url,
    verify_file_token,
    verify_licence,
    verify_notice_token,
)

KEY = b"k" * 32
NUMBER = "XK-2026-7K3M9Q"


def test_licence_token_round_trip():
    token = sign_licence(NUMBER, KEY)
    assert token.startswith(NUMBER + "-")
    assert len(token) == len(NUMBER) + 1 + 24
    assert verify_licence(token, KEY) == NUMBER


def test_token_is_stable_so_printed_codes_keep_working():
    assert sign_licence(NUMBER, KEY) == sign_licence(NUMBER, KEY)


def test_every_changed_byte_invalidates_the_token():
    token = sign_licence(NUMBER, KEY)
    for i in range(len(token)):
        for replacement in {"0", "Z", "-", "a", token[i].lower()} - {token[i]}:
            tampered = token[:i] + replacement + token[i + 1 :]
            assert verify_licence(tampered, KEY) is None, tampered


def test_the_licence_number_alone_or_with_a_guess_opens_nothing():
    assert verify_licence(NUMBER, KEY) is None
    assert verify_licence(NUMBER + "-" + "0" * 24, KEY) is None
    assert verify_licence(sign_licence("XK-2026-7K3M9R", KEY).replace("7K3M9R", "7K3M9Q"), KEY) is None


def test_other_key_and_rotation():
    token = sign_licence(NUMBER, b"old-key-0123456789abcdef")
    assert verify_licence(token, KEY) is None
    assert verify_licence(token, KEY, previous_keys=[b"old-key-0123456789abcdef"]) == NUMBER


@pytest.mark.parametrize(
    "junk", ["", "-", "XK-2026-7K3M9Q-", "x" * 500, "XK-2026-7K3M9Q-" + "I" * 24, "../../etc"]
)
def test_junk_is_not_a_token(junk):
    assert verify_licence(junk, KEY) is None


def test_token_uses_the_qr_alphanumeric_set():
    qr_alphanumeric = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert set(sign_licence(NUMBER, KEY)) <= qr_alphanumeric
    assert set(sign_licence(NUMBER, KEY)[len(NUMBER) + 1 :]) <= set(CROCKFORD)


def test_short_keys_and_odd_numbers_are_refused():
    with pytest.raises(ValueError):
        sign_licence(NUMBER, b"short")
    for bad in ("xk-2026-7k3m9q", "XK 2026", "XK--1", ""):
        with pytest.raises(ValueError):
            sign_licence(bad, KEY)


def test_verification_url():
    url = verification_url("https://zz.example.gov.cn/", NUMBER, KEY)
    assert url == "https://zz.example.gov.cn/v/" + sign_licence(NUMBER, KEY)


def test_file_token_round_trip_and_expiry():
    token = sign_file_token(
        "f-123", KEY, subject="staff:7", ttl_seconds=600, variant="thumbnail", now=1_000_000
    )
    grant = verify_file_token(token, KEY, now=1_000_100)
    assert grant is not None
    assert (grant.file_id, grant.variant, grant.subject, grant.expires_at) == (
        "f-123",
        "thumbnail",
        "staff:7",
        1_000_600,
    )
    assert verify_file_token(token, KEY, now=1_000_600) is None


def test_file_token_tampering_and_cross_use():
    token = sign_file_token("f-123", KEY, subject="wechat:oAbC", now=1_000_000)
    for i in range(len(token)):
        flipped = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        assert verify_file_token(flipped, KEY, now=1_000_001) is None
    assert verify_file_token(token, b"x" * 32, now=1_000_001) is None
    # A licence token is never a file token, and the other way round.
    assert verify_licence(token, KEY) is None
    assert verify_file_token(sign_licence(NUMBER, KEY), KEY) is None


CODE = "ZL-20260312-7K3M9Q"


def test_notice_tokens_round_trip_until_they_expire():
    token = sign_application_notice(CODE, KEY, expires_at=1_000_600)
    grant = verify_notice_token(token, KEY, now=1_000_599)
    assert grant is not None
    assert (grant.application_code, grant.package_id, grant.answers, grant.expires_at) == (
        CODE,
        None,
        {},
        1_000_600,
    )
    assert verify_notice_token(token, KEY, now=1_000_600) is None

    answers = {"area": 320, "takeaway": True, "entity_type": "individual"}
    checklist = sign_checklist_notice("restaurant", answers, KEY, expires_at=1_000_600)
    grant = verify_notice_token(checklist, KEY, now=1_000_000)
    assert grant is not None and grant.application_code is None
    assert (grant.package_id, grant.answers) == ("restaurant", answers)


def test_notice_tokens_refuse_tampering_other_keys_and_other_purposes():
    token = sign_application_notice(CODE, KEY, expires_at=1_000_600)
    for i in range(len(token)):
        flipped = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        assert verify_notice_token(flipped, KEY, now=1_000_000) is None
    assert verify_notice_token(token, b"x" * 32, now=1_000_000) is None
    assert verify_notice_token(token, b"x" * 32, now=1_000_000, previous_keys=[KEY]) is not None
    # Same key, same shape, other purpose: a file link never opens a notice, nor the other way round.
    assert verify_notice_token(sign_file_token(CODE, KEY, subject="web:u", now=1_000_000), KEY) is None
    assert verify_file_token(token, KEY, now=1_000_000) is None


def test_answers_too_long_for_a_url_are_refused_when_signing():
    with pytest.raises(ValueError):
        sign_checklist_notice("restaurant", {"note": "长" * MAX_NOTICE_PAYLOAD}, KEY, expires_at=1)
