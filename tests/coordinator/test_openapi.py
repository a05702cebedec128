"""The OpenAPI 3.1 document: it validates (openapi-spec-validator), it is what `kura serve` serves, its
routes are exactly the server's (every documented operation is routed, an undocumented path is not), and
live responses match its schemas (openapi-schema-validator)."""
import json
import pathlib

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from coordinator_server import ROOT, Server

DOC = ROOT / "Sources" / "CoordinatorServer" / "openapi.json"


def test_the_document_validates():
    doc = json.loads(DOC.read_text())
    validate(doc)  # raises on any violation of OpenAPI 3.1
    assert doc["openapi"] == "3.1.0"


def test_an_invalid_document_is_refused():
    # Positive control for the validator: a broken document does not pass.
    doc = json.loads(DOC.read_text())
    doc["paths"]["/health"]["get"]["responses"] = "nothing"
    with pytest.raises(Exception):
        validate(doc)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("openapi"), "sqlite")
    yield s
    assert s.stop() == 0


def test_served_document_is_the_repository_file(server):
    status, served, _ = server.request("GET", "/openapi.json")
    assert status == 200 and served == json.loads(DOC.read_text())


def test_every_documented_operation_is_routed_and_nothing_else(server):
    doc = json.loads(DOC.read_text())
    values = {"org": "acme", "intent": "i-0", "wallet": "w", "version": "1", "token": "0" * 16}
    for path, methods in doc["paths"].items():
        concrete = path
        for k, v in values.items():
            concrete = concrete.replace("{" + k + "}", v)
        for method in methods:
            status, body, _ = server.request(method.upper(), concrete, {} if method in ("post", "put") else None)
            # Routed: the answer is the route's own (auth, validation, or success), never "no such route".
            assert not (status == 404 and body.get("error", {}).get("message") == "no such route"), (method, path)
    for method, path in [("GET", "/v1/orgs/acme/secrets"), ("PUT", "/v1/orgs/acme/intents"), ("GET", "/v2/health")]:
        status, body, _ = server.request(method, path)
        assert status == 404 and body["error"]["code"] == "not_found", (method, path, status)


def test_error_and_health_bodies_match_their_schemas(server):
    doc = json.loads(DOC.read_text())
    schemas = doc["components"]["schemas"]

    def check(schema_name, value):
        OAS31Validator({**schemas[schema_name], "components": {"schemas": schemas}}).validate(value)

    status, body, _ = server.request("GET", "/v1/orgs/acme/intents")
    check("Error", body)
    with pytest.raises(Exception):
        check("Error", {"error": {"code": "made_up", "message": "x", "requestId": "r"}})
    status, body, _ = server.request("GET", "/health")
    health = doc["paths"]["/health"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    OAS31Validator(health).validate(body)
