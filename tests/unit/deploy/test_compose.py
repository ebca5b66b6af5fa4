"""docker-compose.yml runs exactly the commands the process-based tests run."""

from pathlib import Path

import yaml

from worker.topology import SERVICES

COMPOSE = Path(__file__).resolve().parents[3] / "docker-compose.yml"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_every_project_service_runs_the_topology_command():
    services = _compose()["services"]
    project = {name: svc for name, svc in services.items() if str(svc.get("image", "")).startswith("osteo-ai")}
    assert set(project) == set(SERVICES)
    for name, command in SERVICES.items():
        assert project[name]["command"] == command, name


def test_infrastructure_has_health_checks_and_volumes():
    compose = _compose()
    services = compose["services"]
    for name in ("postgres", "redis", "minio", "web"):
        assert "healthcheck" in services[name], name
    assert {"postgres-data", "redis-data", "minio-data"} <= set(compose["volumes"])
    gpu = services["inference-gpu"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["driver"] == "nvidia" and "gpu" in gpu["capabilities"]
    assert services["inference-cpu"]["profiles"] == ["cpu"]


def test_no_secrets_in_the_compose_file():
    text = COMPOSE.read_text()
    env = _compose()["x-osteo-env"]
    for key in ("OSTEO_PSEUDONYM_SECRET", "OSTEO_SECRET_KEY", "OSTEO_S3_SECRET_KEY", "OSTEO_IDENTIFIER_KEY"):
        assert env[key].startswith("${"), key
    assert "change-me" not in text
    example = (COMPOSE.parent / ".env.example").read_text()
    for variable in ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "OSTEO_PSEUDONYM_SECRET", "OSTEO_SECRET_KEY",
                     "OSTEO_IDENTIFIER_KEY"):
        assert f"{variable}=" in example
