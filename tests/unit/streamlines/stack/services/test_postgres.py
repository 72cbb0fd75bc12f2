"""The `postgres` service's pure parts: which installed server it picks, where its data live as
root and as a user, its initdb and server command lines, the one-time initdb (a fake initdb
here), installing Debian's package, and its health probe against nothing."""

from __future__ import annotations

import os
import signal
import socket
import stat
from pathlib import Path

import pytest
from rich.console import Console

from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack import apt as apt_module
from streamlines.stack.manager import SERVICE_NAMES
from streamlines.stack.services import postgres
from streamlines.stack.services.postgres import (
    PostgresService,
    cluster_dir,
    find_bin_dir,
    socket_dir,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("STREAMLINES_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env of the repository


@pytest.fixture
def as_user(monkeypatch):
    monkeypatch.setattr(postgres, "_running_as_root", lambda: False)


@pytest.fixture
def as_root(monkeypatch):
    monkeypatch.setattr(postgres, "_running_as_root", lambda: True)


def _install_server(root: Path, version: str, *programs: str) -> Path:
    bin_dir = root / version / "bin"
    bin_dir.mkdir(parents=True)
    for program in programs:
        (bin_dir / program).write_text("")
    return bin_dir


def test_it_starts_after_aws_and_before_flink():
    assert SERVICE_NAMES.index("aws") < SERVICE_NAMES.index("postgres")
    assert SERVICE_NAMES.index("postgres") < SERVICE_NAMES.index("flink")


def test_the_highest_installed_server_version_wins_numerically(tmp_path):
    for version in ("9.6", "10", "15"):
        _install_server(tmp_path, version, "postgres", "initdb")
    _install_server(tmp_path, "17", "psql")  # only the client of 17: no server
    _install_server(tmp_path, "common", "postgres")  # not a version
    assert find_bin_dir(tmp_path) == tmp_path / "15" / "bin"


def test_no_server_installed_is_none(tmp_path):
    _install_server(tmp_path, "16", "psql")
    assert find_bin_dir(tmp_path) is None
    assert find_bin_dir(tmp_path / "missing") is None


def test_as_a_user_its_data_are_in_the_stack_directory_and_it_runs_as_us(tmp_path, as_user):
    service = PostgresService(Settings(home=tmp_path, postgres_port=15433))
    assert service.data_dir == tmp_path / "stack" / "data" / "postgres"
    assert service.run_as is None


def test_as_root_its_data_are_where_the_postgres_user_can_reach(tmp_path, as_root):
    service = PostgresService(Settings(home=tmp_path, postgres_port=15433))
    assert service.data_dir == Path("/var/lib/postgresql/streamlines-15433")
    assert service.run_as == "postgres"
    assert cluster_dir(tmp_path, 5433, as_root=False) == tmp_path


def test_port_log_and_fast_shutdown(tmp_path):
    service = PostgresService(Settings(home=tmp_path, postgres_port=15433))
    [port] = service.ports()
    assert (port.port, port.env_var) == (15433, "STREAMLINES_POSTGRES_PORT")
    assert service.process().log_file == tmp_path / "stack" / "logs" / "postgres.log"
    assert service.process().stop_signal == signal.SIGINT


def test_initdb_sets_the_superuser_and_password_auth_over_tcp(tmp_path, as_user):
    settings = Settings(home=tmp_path, postgres_user="owner")
    command = PostgresService(settings).initdb_command(
        Path("/pg/15/bin"), tmp_path / "scratch", tmp_path / "pw"
    )
    assert command == [
        "/pg/15/bin/initdb",
        "-D", str(tmp_path / "scratch"),
        "-U", "owner",
        f"--pwfile={tmp_path / 'pw'}",
        "--auth-host=scram-sha-256",
        "--auth-local=trust",
        "-E", "UTF8",
        "--locale=C",
    ]  # fmt: skip


def test_the_server_listens_on_the_stack_host_and_port_its_socket_in_its_data(tmp_path, as_user):
    service = PostgresService(Settings(home=tmp_path, postgres_port=15433))
    data = str(service.data_dir)
    assert service.command(Path("/pg/15/bin")) == [
        "/pg/15/bin/postgres", "-D", data, "-p", "15433", "-h", "127.0.0.1", "-k", data,
    ]  # fmt: skip


def test_a_data_directory_too_long_for_a_socket_path_gets_no_socket(tmp_path):
    assert socket_dir(Path("/var/lib/postgresql/streamlines-5433"), 5433).endswith("5433")
    assert socket_dir(Path("/" + "d" * 100), 5433) == ""


_FAKE_INITDB = """#!/bin/sh
# Records its arguments and the password it was given; creates PG_VERSION in -D's directory.
echo "$@" > {record}
for arg in "$@"; do case "$arg" in --pwfile=*) cat "${{arg#--pwfile=}}" >> {record};; esac; done
[ -n "$FAIL_INITDB" ] && {{ echo "initdb: error: out of disk"; exit 1; }}
echo 15 > "$2/PG_VERSION"
"""


def _fake_initdb(tmp_path: Path) -> tuple[Path, Path]:
    record = tmp_path / "initdb-args"
    bin_dir = _install_server(tmp_path / "pg", "15")
    initdb = bin_dir / "initdb"
    initdb.write_text(_FAKE_INITDB.format(record=record))
    initdb.chmod(initdb.stat().st_mode | stat.S_IEXEC)
    return bin_dir, record


def test_initdb_runs_once_into_a_scratch_directory_then_moved_into_place(tmp_path, as_user):
    service = PostgresService(Settings(home=tmp_path, postgres_password="s3cret"))
    bin_dir, record = _fake_initdb(tmp_path)
    service._init_cluster_once(bin_dir)
    assert (service.data_dir / "PG_VERSION").read_text() == "15\n"
    args, password = record.read_text().splitlines()
    assert args.split()[1] == str(service.data_dir.with_name("postgres.initdb"))
    assert password == "s3cret"
    # Neither the scratch directory nor the password file are left behind.
    assert sorted(p.name for p in service.data_dir.parent.iterdir()) == ["postgres"]
    record.unlink()
    service._init_cluster_once(bin_dir)
    assert not record.exists()  # initialised already: initdb is not run again


def test_a_failed_initdb_says_why_and_leaves_no_data_directory(tmp_path, monkeypatch, as_user):
    monkeypatch.setenv("FAIL_INITDB", "1")
    service = PostgresService(Settings(home=tmp_path))
    bin_dir, _ = _fake_initdb(tmp_path)
    with pytest.raises(UserError, match="out of disk"):
        service._init_cluster_once(bin_dir)
    assert not service.data_dir.exists()


def test_data_of_another_server_version_are_refused_with_what_to_do(tmp_path, as_user):
    service = PostgresService(Settings(home=tmp_path))
    service.data_dir.mkdir(parents=True)
    (service.data_dir / "PG_VERSION").write_text("14\n")
    with pytest.raises(UserError, match=r"PostgreSQL 14's.*PostgreSQL 15") as error:
        service._check_cluster_version(Path("/usr/lib/postgresql/15/bin"))
    assert "pg_upgrade" in str(error.value)


def test_without_the_server_a_user_is_told_which_package_to_install(tmp_path, monkeypatch, as_user):
    monkeypatch.setattr(postgres, "find_bin_dir", lambda: None)
    with pytest.raises(UserError, match="sudo apt-get install postgresql"):
        PostgresService(Settings(home=tmp_path)).install(Console(quiet=True))


class FakeApt:
    """run_step for apt-get: records each command; ``install`` fails until lists are updated."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []
        self.updated = False

    def __call__(self, console, description, command, log_file, env=None, cwd=None) -> None:
        self.commands.append([str(part) for part in command])
        assert env == {"DEBIAN_FRONTEND": "noninteractive"}
        if command[1] == "update":
            self.updated = True
        elif not self.updated:
            raise UserError("E: Unable to locate package postgresql")


def test_as_root_it_installs_the_package_updating_the_lists_if_need_be(
    tmp_path, monkeypatch, as_root
):
    apt = FakeApt()
    monkeypatch.setattr(apt_module, "run_step", apt)
    monkeypatch.setattr(apt_module, "require_tool", lambda tool, why: tool)
    monkeypatch.setattr(
        postgres, "find_bin_dir", lambda: Path("/pg/15/bin") if apt.updated else None
    )
    monkeypatch.setattr(PostgresService, "_require_system_user", lambda self: None)
    PostgresService(Settings(home=tmp_path)).install(Console(quiet=True))
    install = ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]
    assert apt.commands == [install, ["apt-get", "update"], install]


def test_an_installed_server_is_not_installed_again(tmp_path, monkeypatch, as_user):
    apt = FakeApt()
    monkeypatch.setattr(apt_module, "run_step", apt)
    monkeypatch.setattr(postgres, "find_bin_dir", lambda: Path("/pg/15/bin"))
    PostgresService(Settings(home=tmp_path)).install(Console(quiet=True))
    assert apt.commands == []


def test_as_root_without_the_postgres_user_it_says_so(tmp_path, monkeypatch, as_root):
    monkeypatch.setattr(postgres, "find_bin_dir", lambda: Path("/pg/15/bin"))
    monkeypatch.setattr(postgres, "SYSTEM_USER", "streamlines-no-such-user")
    with pytest.raises(UserError, match="refuses to run as root"):
        PostgresService(Settings(home=tmp_path)).install(Console(quiet=True))


def test_health_is_false_with_the_reason_when_nothing_answers(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(home=tmp_path, postgres_port=port, postgres_password="s3cret")
    health = PostgresService(settings).health()
    assert not health.ok
    assert health.detail.startswith(f"no answer at postgresql://127.0.0.1:{port}/streamlines: ")
    assert "s3cret" not in health.detail
