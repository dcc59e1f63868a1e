"""What a change (联合变更) or cancellation (联合注销) of an issued licence asks the applicant for."""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError

from backend.catalog import CatalogError


class LifecycleMaterial(BaseModel):
    id: str
    name: str
    description: str
    key: bool
    commitment_covers: bool


class LifecycleMaterials(BaseModel):
    change: list[LifecycleMaterial]
    cancel: list[LifecycleMaterial]

    def for_operation(self, operation: Literal["change", "cancel"]) -> list[LifecycleMaterial]:
        return self.change if operation == "change" else self.cancel


def load_lifecycle(path: Path) -> LifecycleMaterials:
    try:
        return LifecycleMaterials.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise CatalogError(f"{path}: {exc}") from exc
