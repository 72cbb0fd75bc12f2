"""The command that submits a job: ``flink run -py <the job's file> ...`` against the local
cluster (or the one ``STREAMLINES_FLINK_ADDRESS`` names), from a savepoint if asked, with any
other ``flink run`` options; or ``python -m <the job's module> --local ...`` for its own
mini-cluster."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from jobs.registry import find_job
from streamlines.connections import kafka_job_arguments
from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.services.flink import FlinkService
from streamlines.submit.cluster import check_restored, rest_client

SUBMITTED = re.compile(r"JobID ([0-9a-f]{32})")

# `flink run` options that `streamlines jobs submit` sets itself, and the option of its own
# to use instead.
OWN_FLINK_OPTIONS = {
    "-py": "the job's name", "--python": "the job's name",
    "-s": "--from-savepoint", "--fromSavepoint": "--from-savepoint",
    "-n": "--allow-non-restored-state", "--allowNonRestoredState": "--allow-non-restored-state",
    "-d": "--detached", "--detached": "--detached",
}  # fmt: skip


@dataclass(frozen=True)
class Restore:
    """Where a submission starts from: a savepoint (or retained checkpoint) and whether state
    the job no longer has an operator for may be left behind."""

    path: str
    allow_non_restored_state: bool = False


def restore_from(path: str | None, allow_non_restored_state: bool) -> Restore | None:
    """The ``Restore`` of ``--from-savepoint PATH [--allow-non-restored-state]``, None
    without a path."""
    if path is None:
        if allow_non_restored_state:
            raise UserError(
                "--allow-non-restored-state applies only to a restore",
                "add --from-savepoint PATH, or drop --allow-non-restored-state",
            )
        return None
    return Restore(path, allow_non_restored_state)


def flink_run_options(options: Sequence[str]) -> list[str]:
    """The extra ``flink run`` options of ``--flink-option`` (each split as a shell would, so
    ``"-p 2"`` is two words); a UserError for one that ``submit`` has its own option for."""
    words = [word for option in options for word in shlex.split(option)]
    for word in words:
        own = OWN_FLINK_OPTIONS.get(word.split("=", 1)[0])
        if own is not None:
            raise UserError(
                f"--flink-option {word} is set by `streamlines jobs submit` itself",
                f"use {own} instead",
            )
    return words


def check_savepoint(settings: Settings, path: str) -> None:
    """On the local stack, ``path`` is a savepoint (or a checkpoint) this machine has: a
    folder with Flink's ``_metadata`` file, or that file itself. (A remote cluster's paths are
    its own to check.)"""
    if settings.flink_address is not None:
        return
    parsed = urlparse(path)
    if parsed.scheme not in ("", "file"):
        return
    local = Path(parsed.path if parsed.scheme else path).expanduser()
    if local.is_file() or (local / "_metadata").is_file():
        return
    raise UserError(
        f"no savepoint at {path} (no Flink _metadata file there)",
        "give the path `streamlines jobs stop` printed (a savepoint-… folder), or a retained "
        f"checkpoint's chk-… folder under {settings.state_dir / 'flink' / 'checkpoints'}",
    )


def submit_command(
    settings: Settings,
    name: str,
    job_args: list[str],
    *,
    local: bool,
    detached: bool,
    restore: Restore | None = None,
    flink_options: Sequence[str] = (),
    secret_dir: Path | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The command line that submits the job ``name`` with ``job_args`` (given the settings'
    Kafka and its security properties unless they name their own), and the environment it
    needs on top of this one's: ``flink run [-d] [-s PATH [-n]] [-m <STREAMLINES_FLINK_ADDRESS>]
    [flink_options] -py <job file> <job args>``. A secret property (the SASL login) goes into a
    file in ``secret_dir`` (see ``kafka_job_arguments``), which must outlive the command's
    start. (``--local`` jobs read the settings themselves.)"""
    job = find_job(name)
    if local:
        if restore is not None or flink_options:
            raise UserError(
                "--local runs the job on its own mini-cluster, without `flink run`: it takes "
                "neither --from-savepoint nor --flink-option",
                "drop --local to submit to the cluster",
            )
        return [sys.executable, "-m", job.module, "--local", *job_args], {}
    if not {"--kafka-property", "--kafka-property-file"} & set(job_args):
        job_args = [*kafka_arguments(settings, secret_dir), *job_args]
    if "--bootstrap" not in job_args:
        job_args = ["--bootstrap", settings.kafka_bootstrap, *job_args]
    flink_args = ["run", *(["-d"] if detached else [])]
    if restore is not None:
        check_savepoint(settings, restore.path)
        flink_args += ["-s", restore.path]
        if restore.allow_non_restored_state:
            flink_args.append("-n")
    extra = flink_run_options(flink_options)
    if settings.flink_address is not None and not {"-m", "--jobmanager"} & set(extra):
        # Another cluster than the local stack's (whose address the local config has).
        extra = ["-m", urlparse(settings.flink_rest_url).netloc, *extra]
    flink_args += [*extra, "-py", str(job.file)]
    return FlinkService(settings).cli_command(*flink_args, *job_args)


def kafka_arguments(settings: Settings, secret_dir: Path | None) -> list[str]:
    """The job's ``--kafka-property`` arguments of the settings (none for PLAINTEXT)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return []
    if secret_dir is None:
        raise ValueError("a secured Kafka's job arguments need a directory for the secret")
    return kafka_job_arguments(settings, secret_dir)


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Runs ``command`` (shown on stderr first); its exit status."""
    print("$ " + " ".join(command), file=sys.stderr)
    return subprocess.call(command, env={**os.environ, **env})


def run_command_capturing(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Runs ``command`` as ``run_command`` does, its output shown as it comes and kept; its
    exit status and that output."""
    print("$ " + " ".join(command), file=sys.stderr)
    kept = []
    with subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            kept.append(line)
    return process.returncode, "".join(kept)


def submit(
    settings: Settings,
    name: str,
    job_args: list[str],
    *,
    local: bool,
    detached: bool,
    restore: Restore | None = None,
    flink_options: Sequence[str] = (),
) -> int:
    """Submits the job (``submit_command``); its exit status. A detached submission from a
    savepoint returns before Flink has restored the state, so this waits until it has, and
    raises a UserError with Flink's reason if the state did not fit the job. The job's
    secret arguments are removed once ``flink run`` has returned (the job has read them)."""
    with tempfile.TemporaryDirectory(prefix="streamlines-submit-") as secret_dir:
        command, env = submit_command(
            settings, name, job_args, local=local, detached=detached, restore=restore,
            flink_options=flink_options, secret_dir=Path(secret_dir),
        )  # fmt: skip
        if restore is None or not detached:
            return run_command(command, env)
        code, output = run_command_capturing(command, env)
    match = SUBMITTED.search(output)
    if code == 0 and match:
        state = check_restored(rest_client(settings), match.group(1))
        print(f"restored from {restore.path}: {state}", file=sys.stderr)
    return code
