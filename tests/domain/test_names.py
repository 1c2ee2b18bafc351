"""Names: one normal form, and no look-alike of someone already in the directory."""

from __future__ import annotations

import pytest

from domain import errors
from domain.errors import RuleViolation, excerpt
from domain.models import Person
from domain.names import MAX_NAME_LENGTH, display_name, normalize_name, require_distinct_name, skeleton

DIEGO = Person("diego", "Diego Siciliani", "diegos@contoso.com")
ALEX = Person("alex", "Alex Wilber", "alexw@contoso.com")


@pytest.mark.parametrize(("raw", "clean"), [
    ("Diego\u200b Siciliani", "Diego Siciliani"),
    ("  Lee \t\n Gu  ", "Lee Gu"),
    ("Ｍｅｇａｎ　Ｂｏｗｅｎ", "Megan Bowen"),
    ("Pat\x00\x07 Lee\u202e", "Pat Lee"),
    ("张\u200d伟", "张伟"),
    ("[Reset your password](https://evil.example/login)", "[Reset your password](https://evil.example/login)"),
])
def test_names_are_normalized(raw: str, clean: str) -> None:
    assert normalize_name(raw) == clean


@pytest.mark.parametrize(("raw", "code"), [
    ("", errors.MISSING_FIELD), ("\u200b\u200d \n", errors.MISSING_FIELD),
    ("x" * (MAX_NAME_LENGTH + 1), errors.TOO_LONG), ("!!! 123", errors.INVALID_NAME),
])
def test_unusable_names_are_refused(raw: str, code: str) -> None:
    with pytest.raises(RuleViolation) as info:
        normalize_name(raw)
    assert info.value.code == code


@pytest.mark.parametrize("lookalike", [
    "Diego Siciliani", "diego siciliani", "Diego  Sicilianl", "Dіego Siciliani",  # Cyrillic і
    "DIEGO SICILIANI", "Diégo Siciliani", "Diego Sici1iani", "Diego-Siciliani", "Dieg0 Siciliani",
])
def test_look_alikes_of_someone_listed_are_refused(lookalike: str) -> None:
    with pytest.raises(RuleViolation) as info:
        require_distinct_name(normalize_name(lookalike), [ALEX, DIEGO])
    assert info.value.code == errors.NAME_LOOKS_LIKE
    assert info.value.params["existing"] == "Diego Siciliani" and info.value.params["email"] == DIEGO.email


@pytest.mark.parametrize("name", ["Diego Silva", "Alex Wilbur", "Adele Vance", "李 雷"])
def test_different_names_pass(name: str) -> None:
    require_distinct_name(normalize_name(name), [ALEX, DIEGO])


def test_a_person_does_not_look_like_themselves() -> None:
    require_distinct_name("Diego Siciliani", [ALEX, DIEGO], person_id="diego")
    assert skeleton("Аlex Wilber") == skeleton("Alex Wilber")  # Cyrillic А


def test_trusted_names_are_cleaned_but_never_refused() -> None:
    assert display_name("Lee\u200b  Gu\n") == "Lee Gu"
    assert len(display_name("y" * 500)) == MAX_NAME_LENGTH


def test_refusals_quote_only_an_excerpt() -> None:
    pasted = "[x](https://evil.example) " + "A" * 200_000
    violation = RuleViolation(errors.INVALID_EMAIL, value=pasted, count=3)
    assert len(violation.params["value"]) <= 60 and violation.params["value"].endswith("…")
    assert violation.params["count"] == 3
    assert excerpt("short") == "short"
