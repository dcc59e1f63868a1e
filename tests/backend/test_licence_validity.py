"""How long a permit is valid: printed as its first and last day."""

from datetime import date
from pathlib import Path

import pytest

from backend.domain import Domain, load_domain
from backend.licences import valid_until
from backend.settings import Settings


@pytest.fixture(scope="module")
def domain(tmp_path_factory: pytest.TempPathFactory) -> Domain:
    data_dir: Path = tmp_path_factory.mktemp("data")
    return load_domain(Settings(data_dir=data_dir))


@pytest.mark.parametrize(
    ("start", "last_day"),
    [
        (date(2026, 12, 3), date(2031, 12, 2)),  # five years, ending the day before the anniversary
        (date(2027, 1, 1), date(2031, 12, 31)),
        (date(2028, 2, 29), date(2033, 2, 28)),  # from a leap day into a year without one
    ],
)
def test_a_five_year_permit_ends_the_day_before_its_anniversary(domain, start: date, last_day: date) -> None:
    assert domain.catalog.matters["food_service"].validity_years == 5
    assert valid_until(domain, "food_service", start) == last_day


def test_a_permit_without_a_term_has_no_last_day(domain) -> None:
    unlimited = next(m.id for m in domain.catalog.matters.values() if not m.validity_years)
    assert valid_until(domain, unlimited, date(2026, 12, 3)) is None
