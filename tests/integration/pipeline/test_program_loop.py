"""From follow-up to a better model (issue 15, item 6), on PostgreSQL through the real pipeline and CLI.

A hospital screens a batch with model A; staff record DXA results; ``osteo export-training``
writes them as a manifest ``osteo train`` reads (stored hand crops, used whole; pseudonyms
only; only what the caller may see); ``osteo evaluate-candidate`` compares candidate B with
the active model on it; ``osteo model add`` puts B in the object store and an admin
promotes it (audited). The same worker process then screens the next batch with B, while
the first batch, its referrals and its pages keep A.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from screening.accounts import add_hospital, add_user, get_hospital
from screening.cli import cli
from screening.config import load_settings
from screening.db import AuditEvent, Batch, BatchStatus, Image, ModelVersion, Prediction, session_scope
from screening.db.models import Referral, Role, User
from screening.followup.dxa import DxaResult
from screening.followup.referrals import record_dxa
from screening.local_runner import LocalRunner
from screening.model_registry import load_active_predictor
from screening.storage import open_store
from tests.factories import make_tiny_bundle, set_patient_ids, write_phantom_archive
from tests.integration.web.world import PASSWORD, login
from training.manifest import read_manifest
from web import create_app

pytestmark = [pytest.mark.integration, pytest.mark.slow]
T_SCORES = [-3.1, -1.8, 0.4, -2.6]  # osteoporosis, osteopenia, normal, osteoporosis


def test_dxa_results_become_training_data_and_a_promoted_model_screens_the_next_batch(
        postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle_a = make_tiny_bundle(tmp_path / "a", refer_threshold=0.0)
    bundle_b = make_tiny_bundle(tmp_path / "b", refer_threshold=0.0)
    env = {"OSTEO_DATABASE_URL": postgres_url, "OSTEO_VAR_DIR": str(tmp_path / "var"),
           "OSTEO_STORAGE_DIR": str(tmp_path / "objects"), "OSTEO_MODEL_BUNDLE": str(bundle_a),
           "OSTEO_CHUNK_SIZE": "4", "OSTEO_REPORTS_ENABLED": "false"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    from screening.db import schema

    schema.upgrade(postgres_url)
    with session_scope(postgres_url) as session:
        add_hospital(session, "DH1", "District Hospital One", "North", "Coast")
        add_hospital(session, "DH9", "Far Hospital", "Far", "Inland")
        for email, role, scope in (("admin@example.org", Role.ADMIN, {}),
                                   ("nurse@example.org", Role.STAFF, {"hospital_code": "DH1"}),
                                   ("officer@example.org", Role.OFFICIAL, {"region": "Coast"}),
                                   ("far@example.org", Role.OFFICIAL, {"region": "Inland"})):
            add_user(session, email, role, password=PASSWORD, **scope)
        hospital = get_hospital(session, "DH1")
    runner = LocalRunner(settings, open_store(settings), lambda: load_active_predictor(settings), reports=False)

    def screen(name: str, seed: int, ids: list[str]) -> Batch:
        archive = write_phantom_archive(tmp_path / name, len(ids), seed=seed)
        set_patient_ids(archive, ids)
        return runner.run(runner.submit(hospital, archive))

    first = screen("monday.zip", 31, ["MRN-1", "MRN-2", "MRN-3", "MRN-4"])
    assert first.status is BatchStatus.COMPLETE, first.error
    version_a = first.model_version_id
    with session_scope(postgres_url) as session:
        nurse = session.scalar(select(User).where(User.email == "nurse@example.org"))
        referrals = session.scalars(select(Referral).where(Referral.batch_id == first.id).order_by(Referral.id)).all()
        assert len(referrals) == 4 and {r.model_version_id for r in referrals} == {version_a}
        for referral, t in zip(referrals, T_SCORES):
            record_dxa(session, referral, DxaResult(datetime.now(UTC).date(), "Lunar", t, None, None), nurse)

    cli_runner = CliRunner()
    out = tmp_path / "dxa-labelled"
    exported = cli_runner.invoke(cli, ["export-training", str(out), "--user", "officer@example.org"],
                                 catch_exceptions=False)
    assert exported.exit_code == 0, exported.output
    assert "4 images of 4 people (4 DXA-confirmed referrals): normal 1, osteopenia 1, osteoporosis 2" in exported.output
    manifest = read_manifest(out / "manifest.csv", min_per_class=1)
    assert sorted(row.label for row in manifest.rows) == ["normal", "osteopenia", "osteoporosis", "osteoporosis"]
    assert all(row.hand_crop and row.patient_id.startswith("P") for row in manifest.rows)
    text = (out / "manifest.csv").read_text()
    assert "MRN-" not in text and "fusion-" in text  # pseudonyms only; the screening model is named
    store = open_store(settings)
    with session_scope(postgres_url) as session:
        stored = {image.id: store.get_bytes(image.storage_key)
                  for image in session.scalars(select(Image).where(Image.batch_id == first.id))}
    with (out / "manifest.csv").open() as fh:
        for row in csv.DictReader(fh):
            assert (out / row["file"]).read_bytes() == stored[int(Path(row["file"]).stem)]
    elsewhere = cli_runner.invoke(cli, ["export-training", str(tmp_path / "none"), "--user", "far@example.org"],
                                  catch_exceptions=False)
    assert elsewhere.exit_code == 0 and "0 images of 0 people" in elsewhere.output

    compared = cli_runner.invoke(cli, ["evaluate-candidate", str(bundle_b), "--manifest", str(out / "manifest.csv"),
                                       "--bootstrap", "50"], catch_exceptions=False)
    assert compared.exit_code == 0, compared.output
    assert "4 images of 4 people" in compared.output

    added = cli_runner.invoke(cli, ["model", "add", str(bundle_b)], catch_exceptions=False)
    assert added.exit_code == 0 and "inactive" in added.output, added.output
    refused = cli_runner.invoke(cli, ["model", "promote", "nope", "--user", "admin@example.org"])
    assert refused.exit_code != 0 and "no model version 'nope'" in refused.output
    not_admin = cli_runner.invoke(cli, ["model", "promote", "x", "--user", "nurse@example.org"])
    assert not_admin.exit_code != 0 and "only admins" in not_admin.output
    with session_scope(postgres_url) as session:
        version_b = session.scalar(select(ModelVersion.id).where(ModelVersion.bundle_key.is_not(None)))
    assert version_b and version_b != version_a
    promoted = cli_runner.invoke(cli, ["model", "promote", version_b, "--user", "admin@example.org",
                                       "--reason", "better on our DXA cases"], catch_exceptions=False)
    assert promoted.exit_code == 0 and "active for new batches" in promoted.output

    second = screen("tuesday.zip", 32, ["MRN-5", "MRN-6"])  # the same worker context, model A loaded
    assert second.status is BatchStatus.COMPLETE and second.model_version_id == version_b
    with session_scope(postgres_url) as session:
        versions = {batch: set(session.scalars(select(Prediction.model_version_id)
                                               .where(Prediction.batch_id == batch)))
                    for batch in (first.id, second.id)}
        assert session.get_one(Batch, first.id).model_version_id == version_a
        second_referrals = set(session.scalars(select(Referral.model_version_id)
                                               .where(Referral.batch_id == second.id)))
        promotion = session.scalar(select(AuditEvent).where(AuditEvent.action == "model.promote"))
    assert versions == {first.id: {version_a}, second.id: {version_b}} and second_referrals == {version_b}
    assert promotion.details["reason"] == "better on our DXA cases" and promotion.details["previous"] == version_a
    assert promotion.target_id == version_b

    client = create_app(settings, enqueue=lambda name, args: None).test_client()
    login(client, "nurse@example.org")
    assert version_a in client.get(f"/batches/{first.id}").get_data(as_text=True)
    page = client.get(f"/batches/{second.id}").get_data(as_text=True)
    assert version_b in page and version_a not in page
