"""Schemathesis against intake's served OpenAPI: no 5xx, no response that breaks the schema;
on the Open311 routes (both formats), every error is the spec's error list.

Runs Schemathesis's own command line (its pytest plugin does not follow pytest 9 yet)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.infra import Endpoints
from devkit.processes import Platform

CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


def test_intake_api_never_fails_and_keeps_its_schema(
    servers: Endpoints, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    logs = Path(tmp_path_factory.mktemp("logs"))
    platform = Platform(
        servers, namespace, logs,
        extra_env={"HUIYIN_INTAKE_PUBLIC_RATE_LIMIT": "1000000/minute"},
    )  # fmt: skip
    platform.start()
    try:
        token = platform.token("operator")
        run = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "run",
                f"{platform['intake'].url}/openapi.json",
                "--checks", CHECKS, "--header", f"Authorization: Bearer {token}",
                "--max-examples", "15", "--seed", "12345", "--no-color",
                "--report", "junit", "--report-dir", str(logs),
            ],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    finally:
        platform.stop()
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary + run.stderr[-2000:]
    assert "passed" in summary
    print(summary)


def test_open311_errors_are_the_specs_list_in_both_formats(
    servers: Endpoints, namespace: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    logs = Path(tmp_path_factory.mktemp("logs"))
    platform = Platform(
        servers, namespace, logs,
        extra_env={"HUIYIN_INTAKE_PUBLIC_RATE_LIMIT": "1000000/minute"},
    )  # fmt: skip
    platform.start()
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.e2e.open311_checks",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}  # fmt: skip
    try:
        token = platform.token("supervisor", region_code="411905")
        run = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "run",
                f"{platform['intake'].url}/openapi.json", "--include-path-regex", "^/open311/",
                "--checks", f"{CHECKS},open311_error_format",
                "--header", f"Authorization: Bearer {token}",
                "--max-examples", "25", "--seed", "12345", "--no-color",
                "--report", "junit", "--report-dir", str(logs),
            ],
            capture_output=True, text=True, timeout=600, env=env,
        )  # fmt: skip
    finally:
        platform.stop()
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary + run.stderr[-2000:]
    assert "passed" in summary and "open311" in run.stdout
    print(summary)
