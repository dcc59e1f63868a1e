"""Human-friendly identifiers: `ZL-YYYYMMDD-XXXXXX` (application) and `XK-YYYY-XXXXXX` (licence).

Six Crockford base32 characters (no I, L, O, U, so nothing reads as 1 or 0) give 32**6 ≈ 1.07e9 values
per day or year: unguessable enough that a code alone reveals nothing (access is still checked), short
enough to read out over the phone. Input is accepted in any case, with or without dashes."""

import re
import secrets
from datetime import date

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
APPLICATION_CODE = re.compile(r"^ZL-?(\d{8})-?([0-9A-HJKMNP-TV-Z]{6})$")
LICENCE_NUMBER = re.compile(r"^XK-?(\d{4})-?([0-9A-HJKMNP-TV-Z]{6})$")


def _random_part() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(6))


def new_application_code(day: date) -> str:
    return f"ZL-{day:%Y%m%d}-{_random_part()}"


def new_licence_number(day: date) -> str:
    return f"XK-{day:%Y}-{_random_part()}"


def normalise_application_code(text: str) -> str | None:
    match = APPLICATION_CODE.match(text.strip().upper())
    return f"ZL-{match[1]}-{match[2]}" if match else None


def normalise_licence_number(text: str) -> str | None:
    match = LICENCE_NUMBER.match(text.strip().upper())
    return f"XK-{match[1]}-{match[2]}" if match else None
