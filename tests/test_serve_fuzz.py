"""Fuzz `tk serve` from its own OpenAPI schema (schemathesis): whatever a client sends that the
schema allows (and much that it does not), the server never answers 500, and no body carries a
traceback or a file path.

Every operation x 40 examples: over 200 requests in all (checked).
The server runs on 127.0.0.1 on a free port with the offline test hub's copy models.
"""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from translate_kit.options import RunOptions  # noqa: E402
from translate_kit.serve.app import Settings  # noqa: E402
from translate_kit.serve.testing import running  # noqa: E402

EXAMPLES = 40
LEAKS = ("Traceback", "File \"", "/site-packages/", "/tmp/", "/home/", "hub/models--")


def operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def check(case) -> None:
    response = case.call(timeout=60)
    assert response.status_code < 500, (case.method, case.path, case.body, response.text[:300])
    assert not any(leak in response.text for leak in LEAKS), response.text[:300]
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and isinstance(body["error"], str)


def test_fuzz_every_operation_from_the_openapi_schema(offline_hub, tmp_path):
    sent = []
    with running(Settings(run=RunOptions.from_env(cache_dir=tmp_path / "cache"), char_limit=2000)) as url:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        found = operations(schema)
        assert {op.path for op in found} >= {"/translate", "/detect", "/languages", "/translate_file", "/frontend/settings"}
        for operation in found:

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def fuzz(case):
                sent.append(case.path)
                check(case)

            fuzz()
    assert len(sent) >= 200
