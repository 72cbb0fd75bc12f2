"""streamlines.submit.service: the command `streamlines jobs submit` runs (nothing is run):
`flink run` with the job's file, a savepoint to restore, flink's own options."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jobs.registry import JOBS
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.submit import service
from streamlines.submit.service import (
    Restore,
    check_savepoint,
    flink_run_options,
    restore_from,
    submit_command,
)


def test_a_cluster_run_is_flink_run_of_the_jobs_file_with_the_local_kafka():
    settings = Settings()
    command, env = submit_command(settings, "ripples", ["--bounded"], local=False, detached=True)
    assert command[-7:] == [
        "run", "-d", "-py", str(JOBS["ripples"].file),
        "--bootstrap", settings.kafka_bootstrap, "--bounded",
    ]  # fmt: skip
    assert "FLINK_CONF_DIR" in env
    command, _ = submit_command(
        settings, "currents", ["--bootstrap", "k:1"], local=False, detached=False
    )
    assert command[-5:] == ["run", "-py", str(JOBS["currents"].file), "--bootstrap", "k:1"]


def test_a_local_run_is_the_jobs_module_on_a_mini_cluster():
    command, env = submit_command(Settings(), "currents", ["--rsi", "7"], local=True, detached=True)
    assert command == [sys.executable, "-m", "jobs.currents", "--local", "--rsi", "7"]
    assert env == {}


def test_an_unknown_job_is_a_user_error():
    with pytest.raises(UserError, match="no job 'tides'"):
        submit_command(Settings(), "tides", [], local=False, detached=True)


def test_a_restore_is_flink_run_s_before_the_jobs_file(tmp_path):
    savepoint = tmp_path / "savepoint-abc123"
    savepoint.mkdir()
    (savepoint / "_metadata").write_bytes(b"\x00")
    settings = Settings(home=tmp_path)
    command, _ = submit_command(
        settings, "ripples", ["--bootstrap", "k:1"], local=False, detached=True,
        restore=Restore(str(savepoint)),
    )  # fmt: skip
    assert command[-8:] == [
        "run", "-d", "-s", str(savepoint), "-py", str(JOBS["ripples"].file), "--bootstrap", "k:1",
    ]  # fmt: skip
    command, _ = submit_command(
        settings, "ripples", ["--bootstrap", "k:1"], local=False, detached=True,
        restore=Restore(savepoint.as_uri(), allow_non_restored_state=True),
    )  # fmt: skip
    assert command[-9:-3] == ["run", "-d", "-s", savepoint.as_uri(), "-n", "-py"]


def test_flink_options_go_to_flink_run_and_the_rest_to_the_job():
    command, _ = submit_command(
        Settings(), "currents", ["--bootstrap", "k:1", "--rsi", "7"], local=False,
        detached=False, flink_options=["-p 2", "-pyfs=deps.zip", "--jobmanager", "jm:8081"],
    )  # fmt: skip
    assert command[-12:] == [
        "run", "-p", "2", "-pyfs=deps.zip", "--jobmanager", "jm:8081",
        "-py", str(JOBS["currents"].file), "--bootstrap", "k:1", "--rsi", "7",
    ]  # fmt: skip
    assert flink_run_options(["-yD 'a=b c'"]) == ["-yD", "a=b c"]


@pytest.mark.parametrize(
    ("option", "own"),
    [("-s /sp", "--from-savepoint"), ("-n", "--allow-non-restored-state"),
     ("--fromSavepoint=/sp", "--from-savepoint"), ("-py x.py", "the job's name"),
     ("-d", "--detached")],
)  # fmt: skip
def test_a_flink_option_that_submit_sets_itself_is_refused(option, own):
    with pytest.raises(UserError, match=f"use {own} instead"):
        submit_command(
            Settings(), "ripples", [], local=False, detached=True, flink_options=[option]
        )


def test_a_savepoint_the_local_stack_does_not_have_is_refused_before_flink_runs(tmp_path):
    settings = Settings(home=tmp_path)
    for path in (str(tmp_path / "savepoint-0"), (tmp_path / "savepoint-0").as_uri()):
        with pytest.raises(UserError) as error:
            submit_command(
                settings, "ripples", [], local=False, detached=True, restore=Restore(path)
            )
        assert f"no savepoint at {path} (no Flink _metadata file there)" in str(error.value)
        assert "fix: give the path `streamlines jobs stop` printed" in str(error.value)
    # A remote cluster's paths (its own file system, S3, ...) are not checked here.
    remote = Settings(home=tmp_path, flink_address="http://jobmanager:8081")
    check_savepoint(remote, "file:///flink-state/savepoints/savepoint-1")
    check_savepoint(settings, "s3://bucket/savepoints/savepoint-1")


def test_a_local_run_takes_no_savepoint_and_no_flink_options():
    with pytest.raises(UserError, match="drop --local"):
        submit_command(Settings(), "ripples", [], local=True, detached=True, restore=Restore("/sp"))
    with pytest.raises(UserError, match="neither --from-savepoint nor --flink-option"):
        submit_command(Settings(), "ripples", [], local=True, detached=True, flink_options=["-p 2"])


def test_allow_non_restored_state_needs_a_savepoint():
    assert restore_from(None, False) is None
    assert restore_from("/sp", True) == Restore("/sp", True)
    with pytest.raises(UserError, match="applies only to a restore"):
        restore_from(None, True)


def test_another_cluster_than_the_local_stacks_is_named_with_m(tmp_path):
    remote = Settings(home=tmp_path, flink_address="http://jobmanager:8081/")
    command, _ = submit_command(
        remote, "ripples", ["--bootstrap", "k:1"], local=False, detached=True
    )
    assert command[-8:-4] == ["run", "-d", "-m", "jobmanager:8081"]
    command, _ = submit_command(
        remote, "ripples", ["--bootstrap", "k:1"], local=False, detached=True,
        flink_options=["-m other:8081"],
    )  # fmt: skip
    assert command[-8:-4] == ["run", "-d", "-m", "other:8081"]
    command, _ = submit_command(Settings(home=tmp_path), "ripples", [], local=False, detached=True)
    assert "-m" not in command


def test_a_detached_restore_waits_for_flink_to_map_the_state(monkeypatch, tmp_path):
    savepoint = tmp_path / "savepoint-1"
    savepoint.mkdir()
    (savepoint / "_metadata").write_bytes(b"\x00")
    job_id = "f" * 32
    ran: list[list[str]] = []
    checked: list[str] = []

    def run_capturing(command: list[str], env: dict[str, str]) -> tuple[int, str]:
        ran.append(command)
        return 0, f"Job has been submitted with JobID {job_id}\n"

    def check_restored(rest: object, submitted: str) -> str:
        checked.append(submitted)
        return "RUNNING"

    monkeypatch.setattr(service, "run_command_capturing", run_capturing)
    monkeypatch.setattr(service, "check_restored", check_restored)
    settings = Settings(home=tmp_path)
    code = service.submit(
        settings, "ripples", [], local=False, detached=True, restore=Restore(str(savepoint))
    )
    assert code == 0
    assert checked == [job_id]
    assert ran[0][ran[0].index("-s") + 1] == str(savepoint)


def secured(tmp_path: Path) -> Settings:
    ca = tmp_path / "ca.pem"
    ca.write_text("pem")
    return Settings(
        home=tmp_path,
        kafka_address="broker:9094",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="alice",
        kafka_sasl_password="hunter2-xyz",
        kafka_ssl_cafile=ca,
    )


def test_a_secured_kafka_is_given_to_the_job_with_the_login_in_a_file(tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    command, _ = submit_command(
        secured(tmp_path), "ripples", ["--bounded"], local=False, detached=True,
        secret_dir=secrets,
    )  # fmt: skip
    job_args = command[command.index(str(JOBS["ripples"].file)) + 1 :]
    assert job_args == [
        "--bootstrap", "broker:9094",
        "--kafka-property", "security.protocol=SASL_SSL",
        "--kafka-property", "sasl.mechanism=PLAIN",
        "--kafka-property-file", f"sasl.jaas.config={secrets / 'sasl.jaas.config'}",
        "--kafka-property", "ssl.truststore.type=PEM",
        "--kafka-property", f"ssl.truststore.location={tmp_path / 'ca.pem'}",
        "--bounded",
    ]  # fmt: skip
    assert "hunter2-xyz" not in " ".join(command)
    assert 'password="hunter2-xyz"' in (secrets / "sasl.jaas.config").read_text()


def test_the_jobs_own_kafka_properties_are_left_alone(tmp_path):
    mine = ["--kafka-property", "security.protocol=SSL"]
    command, _ = submit_command(
        secured(tmp_path), "ripples", mine, local=False, detached=True, secret_dir=tmp_path
    )
    assert command[-2:] == mine
    assert command.count("--kafka-property") == 1
    local, _ = submit_command(secured(tmp_path), "ripples", [], local=True, detached=True)
    assert "--kafka-property" not in local  # a --local job reads the settings itself


def test_submit_removes_the_login_file_once_flink_run_returned(monkeypatch, tmp_path):
    seen: list[Path] = []

    def run(command: list[str], env: dict[str, str]) -> int:
        given = command[command.index("--kafka-property-file") + 1]
        path = Path(given.split("=", 1)[1])
        assert "hunter2-xyz" in path.read_text()  # there while flink run runs
        seen.append(path)
        return 0

    monkeypatch.setattr(service, "run_command", run)
    assert service.submit(secured(tmp_path), "ripples", [], local=False, detached=True) == 0
    assert len(seen) == 1
    assert not seen[0].exists()
