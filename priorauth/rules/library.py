"""Everything under one forms/ folder, loaded once at start-up and read-only after.

Indications, payer profiles, the product catalog, the price tables and the appeal
rules are read and checked together; a problem anywhere is a ``DefinitionError``
listing every breadcrumb. A running app changes definitions only by loading a new
``Library`` (an explicit reload), never by reading a file while it works; the payer
profiles an organization's admin edits in the app are applied on top of it
(``with_payers``), per organization, for the next request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from priorauth.domain.catalog import Product
from priorauth.domain.costs import PriceTable
from priorauth.paths import forms_dir

from .appeals import APPEALS_FILE, AppealRules, load_appeal_rules
from .hcpcs import HCPCS_FILE, HcpcsTable, check_products, load_hcpcs_table
from .loader import DefinitionError, load_definitions
from .prices import load_price_tables
from .schema import IndicationDefinition, PayerProfile


@dataclass(frozen=True)
class Library:
    """Everything loaded from one forms/ folder, read-only."""

    root: Path
    indications: Mapping[str, IndicationDefinition]
    payers: Mapping[str, PayerProfile]
    products: Mapping[str, Product]
    catalog_as_of: str
    # Short content hash per file: a stored document records which versions made it.
    file_versions: Mapping[str, str] = field(default_factory=dict)
    prices: Mapping[str, PriceTable] = field(default_factory=dict)
    # None when the folder has no appeals.toml: appeals cannot be written from it.
    appeals: AppealRules | None = None
    # None when the folder has no hcpcs.toml (a test's minimal folder); the
    # shipped forms/ has one and every product's code is checked against it.
    hcpcs: HcpcsTable | None = None

    def versions_for(self, indication_id: str, payer_id: str) -> dict[str, str]:
        keys = (f"indication:{indication_id}", f"payer:{payer_id}", "products")
        return {key: self.file_versions[key] for key in keys if key in self.file_versions}

    def with_payers(self, edited: Mapping[str, tuple[PayerProfile, str]]) -> Library:
        """This library with some payer profiles replaced: ``{id: (profile, version key)}``.

        An organization's own versions of profiles (kept in the app) are applied this
        way; everything else, and every other organization's library, stays as loaded.
        """
        if not edited:
            return self
        return replace(
            self,
            payers={**self.payers, **{key: profile for key, (profile, _) in edited.items()}},
            file_versions={
                **self.file_versions,
                **{f"payer:{key}": version for key, (_, version) in edited.items()},
            },
        )

    @property
    def appeal_rules(self) -> AppealRules:
        """The appeal rules, or a DefinitionError that says the file is missing."""
        if self.appeals is None:
            raise DefinitionError(
                [
                    f"{self.root / APPEALS_FILE} → missing: appeal letters need it; copy "
                    "appeals.toml from the forms/ folder that ships with priorauth"
                ]
            )
        return self.appeals


def load_library(root: Path | None = None) -> Library:
    """Load every definition, price table and the appeal rules; raise on any problem."""
    root = Path(root) if root is not None else forms_dir()
    if not root.is_dir():
        raise DefinitionError([f"{root} → not a folder of definitions"])
    problems: list[str] = []
    definitions = prices = appeals = None
    try:
        definitions = load_definitions(root)
    except DefinitionError as error:
        problems += error.problems
    try:
        prices = load_price_tables(root)
    except DefinitionError as error:
        problems += error.problems
    if (root / APPEALS_FILE).is_file():
        try:
            appeals = load_appeal_rules(root)
        except DefinitionError as error:
            problems += error.problems
    hcpcs = None
    if (root / HCPCS_FILE).is_file():
        hcpcs = load_hcpcs_table(root, problems)
        if hcpcs is not None and definitions is not None:
            problems += check_products(root / "products.toml", hcpcs, definitions.products)
    if problems or definitions is None or prices is None:
        raise DefinitionError(problems)
    return Library(
        root=root,
        indications=definitions.indications,
        payers=definitions.payers,
        products=definitions.products,
        catalog_as_of=definitions.catalog_as_of,
        file_versions=definitions.file_versions,
        prices=prices,
        appeals=appeals,
        hcpcs=hcpcs,
    )
