"""docs/readme/alerts.md: every GraphQL example is valid against the schema, and the
signature check it gives receivers accepts what the worker signs (and nothing else)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from alerts.webhook import sign
from graph.schema import schema

DOC = (Path(__file__).resolve().parent.parent / "docs" / "readme" / "alerts.md").read_text()
GRAPHQL = re.findall(r"```graphql\n(.*?)```", DOC, re.S)
PYTHON = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_the_alerts_doc_has_its_examples() -> None:
    assert (len(GRAPHQL), len(PYTHON)) == (4, 1)


@pytest.mark.parametrize("document", GRAPHQL)
def test_documented_graphql_is_valid(document: str) -> None:
    assert validate(schema._schema, parse(document)) == []


def test_the_documented_signature_check_accepts_what_the_worker_signs() -> None:
    namespace: dict[str, object] = {}
    exec(PYTHON[0], namespace)
    is_from_aize = namespace["is_from_aize"]
    assert callable(is_from_aize)
    body = b'{"id":"QWxlcnRFdmVudDo0Mg","kind":"BUDGET"}'

    assert is_from_aize("whsec_secret_for_tests", body, sign("whsec_secret_for_tests", body))
    assert not is_from_aize("another_secret_entirely", body, sign("whsec_secret_for_tests", body))
    assert not is_from_aize(
        "whsec_secret_for_tests", body + b" ", sign("whsec_secret_for_tests", body)
    )
