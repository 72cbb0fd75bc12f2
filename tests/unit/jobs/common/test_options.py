"""jobs.common.options: the run options every job has (no Flink or Kafka needed)."""

from __future__ import annotations

import argparse
import os

import pytest

from jobs.common.options import add_run_arguments, bootstrap_and_group_id, run_options


def parse(argv: list[str]) -> tuple[str, str]:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser, "job")
    return bootstrap_and_group_id(parser, parser.parse_args(argv), "job")


def test_group_id_is_the_jobs_name_or_new_per_bounded_run():
    assert parse(["--bootstrap", "k:1"]) == ("k:1", "job")
    assert parse(["--bootstrap", "k:1", "--group-id", "g", "--bounded"]) == ("k:1", "g")
    _, first = parse(["--bootstrap", "k:1", "--bounded"])
    _, second = parse(["--bootstrap", "k:1", "--bounded"])
    assert first.startswith("job-")
    assert first != second


def test_bootstrap_is_required_on_a_cluster():
    with pytest.raises(SystemExit):
        parse([])


def kafka_options(argv: list[str]) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser, "job")
    return run_options(parser, parser.parse_args(argv), "job")


def test_kafka_properties_come_from_the_command_line_and_from_files(tmp_path):
    jaas = tmp_path / "jaas"
    jaas.write_text('M required username="u" password="p";\n')
    options = kafka_options([
        "--bootstrap", "k:1",
        "--kafka-property", "security.protocol=SASL_SSL",
        "--kafka-property", "ssl.endpoint.identification.algorithm=",
        "--kafka-property-file", f"sasl.jaas.config={jaas}",
    ])  # fmt: skip
    assert options["kafka_properties"] == {
        "security.protocol": "SASL_SSL",
        "ssl.endpoint.identification.algorithm": "",
        "sasl.jaas.config": 'M required username="u" password="p";',
    }
    assert kafka_options(["--bootstrap", "k:1"])["kafka_properties"] == {}


def test_a_local_run_takes_the_settings_security(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("STREAMLINES_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STREAMLINES_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("STREAMLINES_KAFKA_SASL_USERNAME", "u")
    monkeypatch.setenv("STREAMLINES_KAFKA_SASL_PASSWORD", "p")
    properties = kafka_options(["--local"])["kafka_properties"]
    assert isinstance(properties, dict)
    assert properties["security.protocol"] == "SASL_PLAINTEXT"
    assert 'username="u" password="p"' in properties["sasl.jaas.config"]
    given = kafka_options(["--local", "--kafka-property", "security.protocol=SSL"])
    assert given["kafka_properties"] == {"security.protocol": "SSL"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--kafka-property", "security.protocol"], "--kafka-property takes KEY=VALUE"),
        (["--kafka-property", "=x"], "--kafka-property takes KEY=VALUE"),
        (["--kafka-property-file", "sasl.jaas.config=/nowhere"], "cannot read /nowhere"),
    ],
)
def test_a_malformed_kafka_property_is_refused(capsys, argv, message):
    with pytest.raises(SystemExit):
        kafka_options(["--bootstrap", "k:1", *argv])
    assert message in capsys.readouterr().err
