"""The admin CLI on the embedded default (SQLite in a temporary directory)."""

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from screening.accounts import hash_token
from screening.cli import cli
from screening.config import load_settings
from screening.db import ApiToken, AuditEvent, User, schema, session_scope


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("OSTEO_VAR_DIR", str(tmp_path))
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result

    invoke("db", "upgrade")
    return invoke


def test_help_lists_the_commands():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("db", "hospital", "user", "token", "init", "synth", "train", "evaluate"):
        assert f"  {name} " in result.output


def test_upgrade_is_repeatable(run):
    assert f"database at revision {schema.head_revision()}" in run("db", "upgrade").output


def test_hospital_user_token_flow(run):
    run("hospital", "add", "dh-north", "--name", "North District Hospital", "--district", "North", "--region", "Coast")
    assert "DH-NORTH" in run("hospital", "list").output
    run("user", "add", "Nurse@Example.org", "--role", "staff", "--hospital", "DH-NORTH", "--password", "longenough")
    secret = run("token", "create", "nurse@example.org", "--name", "pacs").stdout.strip().splitlines()[0]
    assert secret.startswith("osteo_")
    with session_scope(load_settings().database_url) as session:
        token = session.query(ApiToken).one()
        assert token.token_hash == hash_token(secret) and secret not in token.token_hash
        assert session.query(User).one().password_hash != "longenough"
        actions = {e.action for e in session.query(AuditEvent)}
    assert {"hospital.add", "user.add", "token.create"} <= actions


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "add", "a@b.org", "--role", "staff", "--password", "longenough"), "must belong to a hospital"),
        (("user", "add", "a@b.org", "--role", "official", "--password", "longenough"), "--district or a --region"),
        (("user", "add", "a@b.org", "--role", "staff", "--hospital", "NOPE", "--password", "longenough"), "no hospital"),
        (("token", "create", "ghost@b.org"), "no user"),
        (("hospital", "add", "bad code!", "--name", "x", "--district", "d", "--region", "r"), "letters, digits"),
    ],
)
def test_bad_requests_give_one_clear_line_and_write_nothing(run, args, message):
    result = run(*args, ok=False)
    assert message in result.output
    with session_scope(load_settings().database_url) as session:
        assert session.query(User).count() == 0


def test_duplicate_hospital_is_refused(run):
    args = ("hospital", "add", "DH1", "--name", "x", "--district", "d", "--region", "r")
    run(*args)
    assert "already exists" in run(*args, ok=False).output


def test_init_creates_database_and_store(tmp_path, monkeypatch):
    monkeypatch.setenv("OSTEO_VAR_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"revision {schema.head_revision()}" in result.output
    assert (tmp_path / "osteo.db").exists() and (tmp_path / "objects").is_dir()


def test_init_with_unreachable_object_store_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("OSTEO_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("OSTEO_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("OSTEO_S3_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("OSTEO_S3_ACCESS_KEY", "k")
    monkeypatch.setenv("OSTEO_S3_SECRET_KEY", "s")
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code != 0
    assert "object store" in result.output and "127.0.0.1:1" in result.output


def test_identifier_key_rotation(run, tmp_path, monkeypatch):
    from screening.db import Patient
    from screening.identity import IdentityCipher, identity_cipher
    from screening.sealing import Sealer

    run("hospital", "add", "DH1", "--name", "One", "--district", "North", "--region", "Coast")
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        session.add(Patient(hospital_id=1, pseudonym="PX", identifier=identity_cipher(settings).encrypt("MRN-9")))
    new = run("identifiers", "new-key").output.strip()
    assert len(new) >= 40
    monkeypatch.setenv("OSTEO_IDENTIFIER_KEY", f"{new},{settings.identifier_key}")
    assert "patients: re-encrypted 1 with the newest key" in run("identifiers", "rotate").output
    with session_scope(settings.database_url) as session:
        token = session.scalar(select(Patient.identifier))
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "identifiers.rotate"))
    assert IdentityCipher(Sealer(new)).decrypt(token) == "MRN-9"
    monkeypatch.setenv("OSTEO_IDENTIFIER_KEY", "another-secret")  # the key the ids were written with is gone
    failed = run("identifiers", "rotate", ok=False)
    assert "1 identifiers could not be decrypted" in failed.output


def test_figures_rebuild_counts_people_on_sqlite(run):
    """The figure tables fill on SQLite too (julianday arithmetic), from rows written before they existed."""
    from datetime import UTC, datetime

    from screening.db import Batch, BatchStatus, Hospital, Image, ModelVersion, Patient, Prediction, Quality, RiskClass
    from screening.db.models import FollowUpState, Referral, dxa_waits, people_daily

    run("hospital", "add", "DH1", "--name", "One", "--district", "North", "--region", "Coast")
    settings = load_settings()
    moment = datetime(2024, 5, 6, 9, tzinfo=UTC)
    with session_scope(settings.database_url) as session:
        session.add(ModelVersion(id="mv", name="m", card={}, active=True))
        hospital = session.scalar(select(Hospital))
        batch = Batch(hospital_id=hospital.id, status=BatchStatus.COMPLETE, model_version_id="mv", created_at=moment)
        patient = Patient(hospital_id=hospital.id, pseudonym="PX", sex="F")
        session.add_all([batch, patient])
        session.flush()
        image = Image(batch_id=batch.id, hospital_id=hospital.id, patient_id=patient.id, filename="a.png",
                      age_months=71 * 12, quality=Quality.ACCEPTED)
        session.add(image)
        session.flush()
        prediction = Prediction(image_id=image.id, batch_id=batch.id, hospital_id=hospital.id, patient_id=patient.id,
                                model_version_id="mv", predicted_class=RiskClass.OSTEOPOROSIS, p_normal=0.1,
                                p_osteopenia=0.2, p_osteoporosis=0.7, referred=True)
        session.add(prediction)
        session.flush()
        session.add(Referral(hospital_id=hospital.id, patient_id=patient.id, batch_id=batch.id, image_id=image.id,
                             prediction_id=prediction.id, referred_at=moment, referred_on=moment.date(),
                             predicted_class=RiskClass.OSTEOPOROSIS, p_osteoporosis=0.7, age_months=71 * 12, sex="F",
                             state=FollowUpState.DXA_DONE, state_on=moment.date(), dxa_date=datetime(2024, 5, 20).date(),
                             t_lowest=-2.8))
    output = run("figures", "rebuild").output
    assert "patient_screenings: 1 rows" in output and "dxa_waits: 1 rows" in output
    with session_scope(settings.database_url) as session:
        day = session.execute(select(people_daily)).one()
        wait = session.execute(select(dxa_waits)).one()
    assert (day.screened, day.osteoporosis, day.screened_f, day.screened_70) == (1, 1, 1, 1)
    assert (wait.days, wait.waited, wait.waited_f, wait.waited_70) == (14, 1, 1, 1)
