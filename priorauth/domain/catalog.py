"""Products as the rest of the domain sees them: what a vial holds and how it bills."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Route(StrEnum):
    IV = "iv"
    SC = "sc"


class Product(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    manufacturer: str
    route: Route
    concentration_percent: Decimal = Field(gt=0, le=30)
    vial_sizes_g: tuple[Decimal, ...] = Field(min_length=1)
    hcpcs: str
    hcpcs_descriptor: str = ""
    billing_unit_mg: int = Field(gt=0)
    labeled_indications: tuple[str, ...] = ()
    max_g_per_kg_per_day: Decimal | None = None
    iga_content: str = ""
    stabilizer: str = ""
    contains_sugar: str = ""
    # Field names whose values no source confirmed: the app shows them marked.
    unverified: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    note: str = ""

    def is_unverified(self, field: str) -> bool:
        return field in self.unverified
