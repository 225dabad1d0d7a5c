"""The published schema says what the API does: nullable ids, and every operation's error answers."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_waba_id_may_be_null_where_contacto_virtual_has_none(schema):
    components = schema["components"]["schemas"]
    assert components["PhoneNumber"]["properties"]["waba_id"].get("nullable") is True
    assert components["Template"]["properties"]["waba_id"].get("nullable") is True


def test_every_operation_documents_its_error_answers_with_their_shape(schema):
    ref = {"$ref": "#/components/schemas/Error"}
    assert "detail" in schema["components"]["schemas"]["Error"]["oneOf"][0]["properties"]
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) > 30
    for path, method, operation in operations:
        for code in ("400", "401", "403", "404", "429", "500"):
            assert code in operation["responses"], (method, path, code)
        if method in ("post", "patch", "put", "delete"):
            for code in ("409", "413", "502"):
                assert code in operation["responses"], (method, path, code)
    provider_delete = schema["paths"]["/api/v1/provider-accounts/{id}/"]["delete"]["responses"]["409"]
    assert provider_delete["content"]["application/json"]["schema"] == ref
