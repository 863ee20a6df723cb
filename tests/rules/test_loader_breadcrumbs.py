"""A broken definition is reported as file → indication → criterion → key, with a hint."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from priorauth.rules import DefinitionError, load_library

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


@pytest.fixture
def forms_copy(tmp_path: Path) -> Path:
    """A private copy of forms/ that a test may break."""
    target = tmp_path / "forms"
    shutil.copytree(FORMS_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur exactly once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def problems_in(root: Path) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_library(root)
    return caught.value.problems


def cidp(root: Path) -> Path:
    return root / "indications" / "cidp" / "definition.toml"


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "priorauth", "forms", "check", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_forms_check_passes_on_the_shipped_definitions(forms_copy: Path) -> None:
    completed = run_check(str(forms_copy))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith("OK: ")
    assert "indications" in completed.stdout and "products" in completed.stdout


def test_misspelled_key_names_file_indication_criterion_and_key(forms_copy: Path) -> None:
    edit(
        cidp(forms_copy),
        'fact = "demyelination_on_electrodiagnostics"\napplies_to',
        'fcat = "demyelination_on_electrodiagnostics"\napplies_to',
    )
    completed = run_check(str(forms_copy))
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    expected = (
        f"{cidp(forms_copy)} → indication cidp → criteria[3] (demyelination) → "
        "fcat: unknown key; did you mean 'fact'?"
    )
    assert expected in completed.stdout.splitlines()
    assert "problem" in completed.stderr


def test_misspelled_key_in_a_nested_criterion(forms_copy: Path) -> None:
    edit(
        cidp(forms_copy),
        '  id = "baseline_mrc"\n  kind = "number"\n  title = "MRC sum score recorded"\n  fact',
        '  id = "baseline_mrc"\n  kind = "number"\n  title = "MRC sum score recorded"\n  fakt',
    )
    problems = problems_in(forms_copy)
    assert (
        "indication cidp → criteria[6] (baseline_measure) → criteria[1] (baseline_mrc) → "
        "fakt: unknown key; did you mean 'fact'?"
    ) in "\n".join(problems)


def test_unknown_kind_suggests_the_closest_and_lists_them_all(forms_copy: Path) -> None:
    edit(
        cidp(forms_copy),
        'kind = "flag"\ntitle = "Walking',
        'kind = "flg"\ntitle = "Walking',
    )
    [problem] = problems_in(forms_copy)
    assert "indication cidp → criteria[4] (disability)" in problem
    assert "unknown kind 'flg'; did you mean 'flag'?" in problem
    assert "step_therapy" in problem  # the list of kinds


def test_unknown_fact_suggests_the_closest_fact(forms_copy: Path) -> None:
    edit(
        cidp(forms_copy),
        'fact = "symptom_duration_months"\nop',
        'fact = "symptom_duration_month"\nop',
    )
    [problem] = problems_in(forms_copy)
    assert problem.startswith(
        f"{cidp(forms_copy)} → indication cidp → criteria[2] (duration_2_months) → fact:"
    )
    assert (
        "unknown fact 'symptom_duration_month'; did you mean 'symptom_duration_months'?" in problem
    )


def test_fact_of_the_wrong_kind(forms_copy: Path) -> None:
    edit(
        cidp(forms_copy),
        'fact = "demyelination_on_electrodiagnostics"\napplies_to',
        'fact = "disease_course"\napplies_to',
    )
    problems = "\n".join(problems_in(forms_copy))
    assert "criteria[3] (demyelination)" in problems
    assert "'disease_course' is a choice" in problems


def test_every_problem_is_reported_not_only_the_first(forms_copy: Path) -> None:
    edit(cidp(forms_copy), 'kind = "flag"\ntitle = "Walking', 'kind = "flg"\ntitle = "Walking')
    pid = forms_copy / "indications" / "pid" / "definition.toml"
    edit(
        pid,
        'id = "specialist"\nkind = "specialty"',
        'id = "specialist"\nkind = "specialty"\nspeciality = 1',
    )
    problems = problems_in(forms_copy)
    assert any("indication cidp" in p for p in problems)
    assert any("indication pid → criteria[0] (specialist) → speciality" in p for p in problems)


def test_invalid_toml_names_the_file_and_line(forms_copy: Path) -> None:
    edit(cidp(forms_copy), 'short_name = "CIDP"', 'short_name = "CIDP')
    [problem] = problems_in(forms_copy)
    assert problem.startswith(f"{cidp(forms_copy)} → not valid TOML")
    assert "line" in problem


def test_unknown_citation_is_named(forms_copy: Path) -> None:
    edit(cidp(forms_copy), 'citations = ["nba_cidp", "ean_pns_2021"]', 'citations = ["nba_cidpp"]')
    [problem] = problems_in(forms_copy)
    assert "indication cidp" in problem and "nba_cidpp" in problem


def test_payer_override_of_an_unknown_criterion(forms_copy: Path) -> None:
    payer = forms_copy / "payers" / "reference.toml"
    payer.write_text(
        payer.read_text(encoding="utf-8")
        + '\n[[overrides]]\nindication = "cidp"\ncriterion = "demyelinaton"\n'
        'set = { required = false }\nsource = "test"\nas_of = "2026-11-20"\n',
        encoding="utf-8",
    )
    [problem] = problems_in(forms_copy)
    assert "payer reference → overrides[0] (cidp.demyelinaton) → criterion" in problem


def test_folder_that_does_not_exist(tmp_path: Path) -> None:
    completed = run_check(str(tmp_path / "nowhere"))
    assert completed.returncode == 1
    assert "not a folder of definitions" in completed.stdout
    assert "Traceback" not in completed.stderr


def test_condition_on_an_unknown_fact_names_the_question(forms_copy: Path) -> None:
    edit(
        forms_copy / "indications" / "pid" / "definition.toml",
        'enable_when = [{ fact = "icd10_codes"',
        'enable_when = [{ fact = "shoe_size"',
    )
    problems = problems_in(forms_copy)
    assert any(
        "pid" in p and "questions" in p and "unknown fact 'shoe_size'" in p for p in problems
    ), problems


def test_condition_on_a_code_the_indication_does_not_list(forms_copy: Path) -> None:
    edit(forms_copy / "indications" / "pid" / "definition.toml", '"D81.89", "D81.9"]', '"G61.0"]')
    problems = problems_in(forms_copy)
    assert any(
        "genetic_diagnosis_confirmed" in p and "'G61.0' is not one of this indication" in p
        for p in problems
    ), problems
