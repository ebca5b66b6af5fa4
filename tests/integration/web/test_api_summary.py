"""/api/v1/summary: figures from the daily summary table, grouped, filtered and scoped."""

from __future__ import annotations

import pytest

from tests.integration.web.world import MODEL_ID, World

pytestmark = pytest.mark.integration


def test_hospital_level_figures(client, world: World) -> None:
    body = client.get("/api/v1/summary?level=hospital", headers=world.auth("admin")).json
    groups = {g["key"]: g for g in body["groups"]}
    assert set(groups) == {"NORTH", "SOUTH", "HILL"}
    north = groups["NORTH"]  # two days of (10 screened: 5/3/2, 3 referred, 2 of 12 files rejected)
    assert north["screened"] == 20 and north["classes"] == {"normal": 10, "osteopenia": 6, "osteoporosis": 4}
    assert north["distribution"] == {"normal": 0.5, "osteopenia": 0.3, "osteoporosis": 0.2}
    assert north["referral_rate"] == 0.3 and north["rejection_rate"] == round(4 / 24, 4)
    assert body["total"]["screened"] == 68 and body["total"]["hospitals"] == 3
    assert [row["day"] for row in body["trend"]] == ["2024-03-01", "2024-03-02"]
    assert body["model_versions"] == [MODEL_ID] and "DXA" in body["disclaimer"]


def test_district_and_region_levels_and_filters(client, world: World) -> None:
    regions = client.get("/api/v1/summary?level=region", headers=world.auth("admin")).json
    assert {g["key"]: g["screened"] for g in regions["groups"]} == {"Coast": 60, "Highlands": 8}
    districts = client.get("/api/v1/summary?level=district&region=Coast", headers=world.auth("admin")).json
    assert {g["key"]: g["hospitals"] for g in districts["groups"]} == {"North": 1, "South": 1}
    one_day = client.get("/api/v1/summary?from=2024-03-02&to=2024-03-02&district=South",
                         headers=world.auth("admin")).json
    assert one_day["total"]["screened"] == 20 and len(one_day["trend"]) == 1
    empty = client.get("/api/v1/summary?from=2023-01-01&to=2023-01-31", headers=world.auth("admin")).json
    assert empty["total"]["screened"] == 0 and empty["total"]["referral_rate"] is None


def test_officials_see_only_their_area(client, world: World) -> None:
    north = client.get("/api/v1/summary", headers=world.auth("official_north")).json
    assert [g["key"] for g in north["groups"]] == ["NORTH"]
    coast = client.get("/api/v1/summary?level=region", headers=world.auth("official_coast")).json
    assert [g["key"] for g in coast["groups"]] == ["Coast"]
    staff = client.get("/api/v1/summary?region=Highlands", headers=world.auth("staff_north")).json
    assert staff["groups"] == [] and staff["total"]["screened"] == 0


@pytest.mark.parametrize("query", ["level=planet", "from=yesterday", "to=2024-13-01", "from=2024-03-05&to=2024-03-01"])
def test_bad_parameters_are_400(client, world: World, query: str) -> None:
    response = client.get(f"/api/v1/summary?{query}", headers=world.auth("admin"))
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.json["detail"]
