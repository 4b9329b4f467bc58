"""The environment helpers refuse bad values naming the variable; URLs switch the backends."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from flowbench.env import env_bool, env_int, env_secret, parse_database_url, parse_redis_url


def test_env_bool_reads_the_usual_spellings(monkeypatch):
    monkeypatch.setenv("FB_FLAG", "yes")
    assert env_bool("FB_FLAG") is True
    monkeypatch.setenv("FB_FLAG", "0")
    assert env_bool("FB_FLAG", True) is False


def test_env_bool_names_the_variable_it_refuses(monkeypatch):
    monkeypatch.setenv("FB_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FB_FLAG"):
        env_bool("FB_FLAG")


def test_env_int_checks_type_and_range(monkeypatch):
    monkeypatch.setenv("FB_N", "12")
    assert env_int("FB_N", 1, minimum=1, maximum=20) == 12
    monkeypatch.setenv("FB_N", "twelve")
    with pytest.raises(ImproperlyConfigured, match="FB_N must be an integer"):
        env_int("FB_N", 1)
    monkeypatch.setenv("FB_N", "99")
    with pytest.raises(ImproperlyConfigured, match="FB_N must be at most 20"):
        env_int("FB_N", 1, maximum=20)


def test_env_secret_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("FB_SECRET", raising=False)
    keep = tmp_path / "data" / "secret"
    first = env_secret("FB_SECRET", keep)
    assert len(first) >= 32
    assert env_secret("FB_SECRET", keep) == first
    assert oct(keep.stat().st_mode & 0o777) == "0o600"


def test_env_secret_refuses_a_short_value(monkeypatch, tmp_path):
    monkeypatch.setenv("FB_SECRET", "short")
    with pytest.raises(ImproperlyConfigured, match="FB_SECRET"):
        env_secret("FB_SECRET", tmp_path / "s")


def test_database_url_becomes_a_postgresql_entry():
    entry = parse_database_url("DATABASE_URL", "postgres://fb:p%40ss@db.local:5433/flowbench?sslmode=require")
    assert entry["ENGINE"] == "django.db.backends.postgresql"
    assert (entry["NAME"], entry["USER"], entry["PASSWORD"], entry["HOST"], entry["PORT"]) == (
        "flowbench", "fb", "p@ss", "db.local", "5433")
    assert entry["OPTIONS"]["sslmode"] == "require"
    # Threads share a pool of connections (at most 16 per process by default), none kept open.
    assert entry["OPTIONS"]["pool"]["max_size"] == 16 and entry["CONN_MAX_AGE"] == 0


def test_database_url_refuses_unknown_schemes_naming_the_variable():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        parse_database_url("DATABASE_URL", "mysql://x/y")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must name a database"):
        parse_database_url("DATABASE_URL", "postgres://host:5432/")


def test_redis_url_is_checked():
    assert parse_redis_url("REDIS_URL", "redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        parse_redis_url("REDIS_URL", "http://127.0.0.1")


def test_settings_refuse_an_account_id_that_is_not_twelve_digits(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "FLOWBENCH_ACCOUNT_ID": "12345", "FLOWBENCH_DATA_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "flowbench.settings"}
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                          capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(
                              os.path.dirname(os.path.abspath(__file__)))))

    assert done.returncode != 0
    assert "FLOWBENCH_ACCOUNT_ID must be 12 digits" in done.stderr


@pytest.mark.parametrize("name, value, said", [
    ("FLOWBENCH_OBJECT_STORAGE", "s3", "FLOWBENCH_OBJECT_STORAGE must be 'filesystem', 'database'"),
    ("FLOWBENCH_OBJECT_STORAGE_OPTIONS", "[1]", "FLOWBENCH_OBJECT_STORAGE_OPTIONS must be a JSON object"),
    ("FLOWBENCH_OBJECT_MAX_REQUEST_BYTES", "12", "FLOWBENCH_OBJECT_MAX_REQUEST_BYTES must be at least 1024"),
])
def test_settings_refuse_a_bad_object_store_naming_the_variable(tmp_path, name, value, said):
    import os
    import subprocess
    import sys

    env = {**os.environ, name: value, "FLOWBENCH_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "flowbench.settings"}
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True,
                          text=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert done.returncode != 0 and said in done.stderr


def test_private_paths_are_for_their_owner_only_sqlites_companions_too(tmp_path):
    from flowbench.env import private_dir, private_file

    data = private_dir(tmp_path / "data")
    (data / "db.sqlite3-wal").write_text("")
    (data / "db.sqlite3-wal").chmod(0o644)
    database = private_file(data / "db.sqlite3")
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    assert oct(database.stat().st_mode & 0o777) == "0o600"
    assert oct((data / "db.sqlite3-wal").stat().st_mode & 0o777) == "0o600"
    data.chmod(0o755)
    database.chmod(0o644)
    private_dir(data)   # existing ones are made private too
    private_file(database)
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    assert oct(database.stat().st_mode & 0o777) == "0o600"
