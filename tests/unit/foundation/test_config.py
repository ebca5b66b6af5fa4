import pytest

from screening.config import SettingsError, load_settings


def test_embedded_defaults_need_no_server(tmp_path):
    settings = load_settings({"OSTEO_VAR_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path}/osteo.db"
    assert settings.storage_backend == "local"
    assert settings.storage_dir == str(tmp_path / "objects")
    assert settings.embedded_broker
    assert settings.chunk_size == 32


def test_production_values_are_read():
    settings = load_settings({
        "OSTEO_DATABASE_URL": "postgresql://osteo@db/osteo",
        "OSTEO_REDIS_URL": "redis://redis:6379/0",
        "OSTEO_STORAGE_BACKEND": "s3",
        "OSTEO_S3_ENDPOINT_URL": "http://minio:9000",
        "OSTEO_S3_BUCKET": "screening",
        "OSTEO_CHUNK_SIZE": "64",
    })
    assert settings.database_url == "postgresql://osteo@db/osteo"
    assert not settings.embedded_broker
    assert (settings.storage_backend, settings.s3_bucket, settings.chunk_size) == ("s3", "screening", 64)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"OSTEO_CHUNK_SIZE": "many"}, "OSTEO_CHUNK_SIZE"),
        ({"OSTEO_CHUNK_SIZE": "0"}, "OSTEO_CHUNK_SIZE"),
        ({"OSTEO_DATABASE_URL": "mysql://x/y"}, "OSTEO_DATABASE_URL"),
        ({"OSTEO_REDIS_URL": "http://redis"}, "OSTEO_REDIS_URL"),
        ({"OSTEO_STORAGE_BACKEND": "ftp"}, "OSTEO_STORAGE_BACKEND"),
        ({"OSTEO_PRODUCTION": "maybe"}, "OSTEO_PRODUCTION"),
        ({"OSTEO_PRODUCTION": "true"}, "OSTEO_PSEUDONYM_SECRET"),
    ],
)
def test_invalid_settings_name_the_variable(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env)


def _production(**extra: str) -> dict[str, str]:
    return {"OSTEO_PRODUCTION": "true", "OSTEO_PSEUDONYM_SECRET": "a-real-pseudonym-secret",
            "OSTEO_SECRET_KEY": "a-real-session-secret", **extra}


def test_production_refuses_the_development_identifier_key_even_as_an_old_one():
    from screening.config import Settings

    development = Settings().identifier_key
    with pytest.raises(SettingsError, match="OSTEO_IDENTIFIER_KEY"):
        load_settings(_production(OSTEO_IDENTIFIER_KEY=f"a-new-real-secret,{development}"))
    assert load_settings(_production(OSTEO_IDENTIFIER_KEY=" new-secret , old-secret ")).identifier_key


def test_an_empty_identifier_key_names_the_variable():
    with pytest.raises(SettingsError, match="OSTEO_IDENTIFIER_KEY must hold a secret"):
        load_settings({"OSTEO_IDENTIFIER_KEY": " , "})


def test_identifiers_open_with_any_listed_key_and_seal_with_the_first():
    from screening.identity import UNREADABLE, IdentityCipher
    from screening.sealing import Sealer

    token = IdentityCipher(Sealer("old-secret")).encrypt("MRN-1")
    both = IdentityCipher(Sealer("new-secret,old-secret"))
    assert both.decrypt(token) == "MRN-1"
    rotated = both.sealer.rotate(token)
    assert IdentityCipher(Sealer("new-secret")).decrypt(rotated) == "MRN-1"
    assert IdentityCipher(Sealer("new-secret")).decrypt(token) == UNREADABLE  # the old key was dropped too soon
    assert both.encrypt("MRN-1") != both.encrypt("MRN-1")  # randomised: equal ids do not look equal
