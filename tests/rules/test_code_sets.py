"""Codes from official code sets: ICD-10-CM from the package, HCPCS from the catalog table."""

from __future__ import annotations

import importlib.resources
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from priorauth.domain.case import Case
from priorauth.rules import DefinitionError, load_library
from priorauth.rules.codesets import (
    ICD10CM_RELEASE,
    ICD10CM_RELEASE_YEAR,
    icd10cm_entry,
    icd10cm_problem,
)
from priorauth.rules.engine import case_problems

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
CIDP_CODE_BLOCK = 'code = "G61.81"\ndescription = "Chronic inflammatory demyelinating polyneuritis"'


@pytest.fixture
def forms_copy(tmp_path: Path) -> Path:
    target = tmp_path / "forms"
    shutil.copytree(FORMS_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur exactly once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_release_named_is_the_one_the_package_ships() -> None:
    data = importlib.resources.files("simple_icd_10_cm") / "data"
    names = [item.name for item in data.iterdir()]
    month, day_year = ICD10CM_RELEASE.split(" ", 1)
    day = day_year.split(",")[0]
    assert f"code-list-{month}-{ICD10CM_RELEASE_YEAR}.txt" in names
    assert f"icd10c-tabular-{month}-{day}-{ICD10CM_RELEASE_YEAR}.xml" in names


def test_lookup_tells_billable_category_and_unknown_apart() -> None:
    entry = icd10cm_entry("g6181")
    assert entry is not None and entry.billable and entry.code == "G61.81"
    assert icd10cm_problem("G61.81") is None
    assert icd10cm_problem("B20") is None  # a category with no children is billable
    category = icd10cm_problem("G35")
    assert category is not None and "not a billable" in category and "G35.A" in category
    unknown = icd10cm_problem("G61.99")
    assert unknown is not None and "not in the ICD-10-CM code set" in unknown


def test_forms_check_refuses_a_nonexistent_and_a_non_billable_code(forms_copy: Path) -> None:
    cidp = forms_copy / "indications" / "cidp" / "definition.toml"
    edit(cidp, CIDP_CODE_BLOCK, 'code = "G61.99"\ndescription = "Typed by hand"')
    pid = forms_copy / "indications" / "pid" / "definition.toml"
    edit(pid, 'code = "D80.0"', 'code = "D80"')
    completed = subprocess.run(
        [sys.executable, "-m", "priorauth", "forms", "check", str(forms_copy)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1
    lines = completed.stdout.splitlines()
    assert any(
        "indication cidp → codes[0] (G61.99) → code: G61.99 is not in the ICD-10-CM code set"
        in line
        for line in lines
    ), completed.stdout
    assert any(
        "indication pid → codes[" in line
        and "(D80) → code: D80 (" in line
        and "not a billable" in line
        for line in lines
    ), completed.stdout


def test_descriptions_come_from_the_code_set_and_confirmed_codes_are_verified(
    forms_copy: Path,
) -> None:
    cidp = forms_copy / "indications" / "cidp" / "definition.toml"
    edit(
        cidp,
        CIDP_CODE_BLOCK + "\nverified = true",
        'code = "G61.81"\ndescription = "hand-typed words"\nverified = false',
    )
    code = load_library(forms_copy).indications["cidp"].codes[0]
    assert code.description == "Chronic inflammatory demyelinating polyneuritis"
    assert code.verified


def test_every_shipped_code_is_confirmed_with_the_code_sets_words() -> None:
    library = load_library()
    for definition in library.indications.values():
        for code in definition.codes:
            entry = icd10cm_entry(code.code)
            assert entry is not None and entry.billable, code.code
            assert code.verified, code.code
    # The files say what the loader would: no hand-typed description left behind.
    for path in FORMS_DIR.glob("indications/*/definition.toml"):
        text = path.read_text(encoding="utf-8")
        for definition in library.indications.values():
            if path.parent.name != definition.id:
                continue
            for code in definition.codes:
                assert f'code = "{code.code}"\ndescription = "{code.description}"' in text


def test_a_cases_code_is_checked_against_the_code_set() -> None:
    library = load_library()
    example = FORMS_DIR / "indications" / "cidp" / "examples"
    data = json.loads(sorted(example.glob("*.json"))[0].read_text(encoding="utf-8"))
    case = Case.model_validate(data["case"])
    problems = case_problems(case.model_copy(update={"icd10_codes": ["G61.99"]}), library)
    assert any(
        p.field == "icd10_codes.0" and "not in the ICD-10-CM code set" in p.message
        for p in problems
    )
    problems = case_problems(case.model_copy(update={"icd10_codes": ["G61.8"]}), library)
    assert any(p.field == "icd10_codes.0" and "not a billable" in p.message for p in problems)


def test_every_products_hcpcs_code_is_in_the_catalogs_table_with_a_source() -> None:
    library = load_library()
    assert library.hcpcs is not None
    for product in library.products.values():
        entry = library.hcpcs.get(product.hcpcs)
        assert entry is not None, product.id
        assert library.hcpcs.source_of(entry)
        assert entry.year is not None or entry.unverified


def test_a_product_code_missing_from_the_table_or_in_another_unit_is_refused(
    forms_copy: Path,
) -> None:
    edit(forms_copy / "products.toml", 'hcpcs = "J1459"', 'hcpcs = "J1460"')
    edit(
        forms_copy / "hcpcs.toml",
        'code = "J1555"\ndescriptor = "Immune globulin (Cuvitru), 100 mg"\nunit_mg = 100',
        'code = "J1555"\ndescriptor = "Immune globulin (Cuvitru), 100 mg"\nunit_mg = 500',
    )
    with pytest.raises(DefinitionError) as caught:
        load_library(forms_copy)
    problems = caught.value.problems
    assert any("product privigen → hcpcs (J1460): not in the HCPCS table" in p for p in problems)
    assert any("product cuvitru → hcpcs (J1555) → billing_unit_mg" in p for p in problems)
