"""The 好差评 scale (config/ratings.yaml): what each score 1–5 is called, in the same words as the chat's
score buttons, which the gateway and the assistant read from the same file."""

from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError, field_validator

from backend.catalog import CatalogError
from backend.settings import PROJECT_ROOT

# Not a setting: the gateway and the assistant read this very file, and the names must not differ.
RATINGS_FILE = PROJECT_ROOT / "config" / "ratings.yaml"
SCORES = range(1, 6)


class _RatingsFile(BaseModel):
    scores: dict[int, str]

    @field_validator("scores")
    @classmethod
    def _one_name_per_score(cls, scores: dict[int, str]) -> dict[int, str]:
        if sorted(scores) != list(SCORES):
            raise ValueError(f"exactly the scores 1–5 are needed, not {sorted(scores)}")
        if not all(name.strip() for name in scores.values()):
            raise ValueError("every score needs a name")
        return {score: scores[score].strip() for score in SCORES}


def load_rating_scale(path: Path) -> dict[int, str]:
    """Score → its name (1: 非常不满意 … 5: 非常满意)."""
    try:
        return _RatingsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).scores
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise CatalogError(f"{path}: {exc}") from exc
