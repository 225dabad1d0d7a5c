"""The pure helpers: the variable renderer, the mobile check and the code tables."""

from decimal import Decimal

import pytest

from providers.base import ProviderAuthError, ProviderRejected
from providers.contacto_virtual import (
    DELIVERY_ERROR_CODES,
    DELIVERY_ERROR_STATUS,
    RETURN_CODES,
    describe_code,
    mobile_problem,
    render_variables,
)
from providers.contacto_virtual.codes import normalise_code


@pytest.fixture(autouse=True)
def _english():
    """The 1002-1011 descriptions are gettext'd (issue 18); these tests read the English source."""
    from django.utils import translation

    with translation.override("en"):
        yield


# --- render_variables -------------------------------------------------------------


def test_render_variables_matches_the_manuals_example():
    assert render_variables(["Carlos", "$100", "miércoles"]) == "[Carlos] [$100] [miércoles]"


def test_render_variables_matches_the_postman_example():
    values = ("Carlos", "$100", "miércoles", "Davivienda", "bancolombia")

    assert render_variables(values) == "[Carlos] [$100] [miércoles] [Davivienda] [bancolombia]"


def test_render_variables_keeps_values_as_given():
    assert render_variables(["", " a b ", "{1}", 5, Decimal("1.50")]) == "[] [ a b ] [{1}] [5] [1.50]"


def test_render_variables_of_nothing_is_empty():
    assert render_variables([]) == ""
    assert render_variables(iter(())) == ""


@pytest.mark.parametrize(
    ("values", "position"),
    [(["[x"], 1), (["a", "b]"], 2), (["a", "b", "c [d] e"], 3)],
)


def test_render_variables_refuses_brackets_naming_the_position(values, position):
    with pytest.raises(ValueError) as caught:
        render_variables(values)

    assert f"Template variable {position} (placeholder {{{position}}})" in str(caught.value)
    assert repr(values[position - 1]) in str(caught.value)


def test_render_variables_refuses_a_single_string():
    # A lone string would otherwise render one variable per character.
    with pytest.raises(TypeError):
        render_variables("Carlos")


# --- mobile_problem -------------------------------------------------------------


@pytest.mark.parametrize("mobile", ["573102334455", "573102111111", "576015551234"])
def test_mobile_problem_accepts_colombian_numbers(mobile):
    assert mobile_problem(mobile) is None


@pytest.mark.parametrize(
    ("mobile", "phrase"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("+573102334455", "digits only"),
        ("57 310 233 4455", "digits only"),
        ("57-310-233-4455", "digits only"),
        ("５７３１０２３３４４５５", "digits only"),
        ("3102334455", "put 57 in front of it (573102334455)"),
        ("5215512345678", "does not start with 57"),
        ("13105550101", "does not start with 57"),
        ("57300222222", "has 11 digits"),
        ("5731023344551", "has 13 digits"),
    ],
)
def test_mobile_problem_explains_what_is_wrong(mobile, phrase):
    problem = mobile_problem(mobile)

    assert problem is not None
    assert phrase in problem


def test_mobile_problem_of_a_non_string_is_a_problem_not_a_crash():
    assert mobile_problem(None) is not None  # type: ignore[arg-type]


# --- codes ----------------------------------------------------------------------


def test_the_return_code_table_follows_the_manual():
    assert sorted(RETURN_CODES) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert RETURN_CODES[1].error is None
    assert RETURN_CODES[2].error is ProviderAuthError
    assert all(RETURN_CODES[code].error is ProviderRejected for code in range(3, 9))
    assert {code: entry.field for code, entry in RETURN_CODES.items() if entry.field} == {
        4: "mobile",
        7: "id_template",
        8: "template_variables",
    }


def test_the_delivery_error_table_has_every_code_of_the_manual():
    assert sorted(DELIVERY_ERROR_CODES) == ["1002", "1003", "1004", "1005", "1006", "1007", "1008", "1010", "1011"]
    assert all(text.endswith(".") and text[0].isupper() for text in DELIVERY_ERROR_CODES.values())
    assert DELIVERY_ERROR_STATUS == "sending error, return balance"


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        ("1002", "not active"),
        (1003, "wallet balance"),
        (" 1004 ", "template messaging is disabled"),
        ("1005", "template did not match"),
        ("1006", "not opted in"),
        ("1007", "has not opted in to template messages, and the template did not match"),
        ("1008", "required template parameters are missing"),
        ("1010", "invalid media URL"),
        ("1011", "invalid message size"),
        (2, "invalid login or token"),
        ("8", "number of variables"),
    ],
)
def test_describe_code(code, phrase):
    assert phrase in describe_code(code)


@pytest.mark.parametrize(("code", "shown"), [("1009", "1009"), (42, "42"), ("E7", "E7")])
def test_describe_code_names_unknown_codes(code, shown):
    assert describe_code(code) == f"Contacto Virtual error code {shown} (not described in the provider's manual)."


@pytest.mark.parametrize("code", [None, "", "  "])
def test_describe_code_without_a_code(code):
    assert describe_code(code) == "Contacto Virtual gave no error code."


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1), ("1", 1), (" 8 ", 8), (4.0, 4), (4.5, None), (True, None), ("x", None), (None, None), ("١", None)],
)
def test_normalise_code(value, expected):
    assert normalise_code(value) == expected
