"""The reference data every service needs, loaded and validated once at start-up."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from backend.catalog import Catalog, HolidayCalendar, load_catalog, load_holidays
from backend.lifecycle import LifecycleMaterials, load_lifecycle
from backend.rating_scale import RATINGS_FILE, load_rating_scale
from backend.settings import Settings


@dataclass(frozen=True)
class Domain:
    settings: Settings
    catalog: Catalog
    calendar: HolidayCalendar
    lifecycle: LifecycleMaterials
    rating_scale: dict[int, str]  # 好差评 score → its name

    def today(self) -> date:
        # Due dates and 容缺 deadlines are working days in the service centre's own time zone.
        return datetime.now(ZoneInfo(self.settings.timezone)).date()


def load_domain(settings: Settings) -> Domain:
    return Domain(
        settings=settings,
        catalog=load_catalog(settings.catalog_dir),
        calendar=load_holidays(settings.holidays_file),
        lifecycle=load_lifecycle(settings.lifecycle_file),
        rating_scale=load_rating_scale(RATINGS_FILE),
    )
