"""InfluxDB 2.x, built from its Go module (Flux's Rust library via cargo), no UI assets."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

from rich.console import Console

from streamlines.errors import UserError
from streamlines.settings import Settings
from streamlines.stack.commands import require_tool, run_step
from streamlines.stack.http import HttpError, request_json
from streamlines.stack.services.base import Health, PortSetting, Service

INFLUXDB_VERSION = "2.7.12"
INFLUXDB_MODULE = "github.com/influxdata/influxdb/v2"

# cargo applies RUSTFLAGS only to target crates when --target is given (as influxdata's
# pkg-config wrapper does), but flux-core is also compiled for the host as a build
# dependency, with `deny(warnings)` that newer rustc trips over. A wrapper caps lints for both.
_RUSTC_WRAPPER = """#!/bin/sh
exec "$@" --cap-lints warn
"""


class InfluxDBService(Service):
    name = "influxdb"

    @property
    def binary(self) -> Path:
        return self.cache_dir / "bin" / f"influxd-{INFLUXDB_VERSION}"

    def ports(self) -> list[PortSetting]:
        return [PortSetting(self.settings.influx_port, "STREAMLINES_INFLUX_PORT")]

    def install(self, console: Console) -> None:
        if self.binary.exists():
            return
        go = require_tool("go", "build InfluxDB from its Go module")
        require_tool("cargo", "build Flux's Rust library for InfluxDB")
        build = self.cache_dir / "build"
        log = build / f"influxdb-{INFLUXDB_VERSION}.log"
        build.mkdir(parents=True, exist_ok=True)
        console.print(
            f"Building InfluxDB {INFLUXDB_VERSION} from source (once per machine; "
            "about 10 minutes on 2 cores). Log: " + str(log)
        )
        source = self._writable_source(console, go, build, log)
        tools = build / "bin"
        tools.mkdir(exist_ok=True)
        pkg_config_version = _required_version(
            source / "go.mod", "github.com/influxdata/pkg-config"
        )
        run_step(
            console,
            f"Building influxdata pkg-config {pkg_config_version}",
            [go, "install", f"github.com/influxdata/pkg-config@{pkg_config_version}"],
            log,
            env={"GOBIN": str(tools)},
        )
        wrapper = tools / "rustc-cap-lints"
        wrapper.write_text(_RUSTC_WRAPPER)
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
        self.binary.parent.mkdir(parents=True, exist_ok=True)
        partial = self.binary.with_suffix(".partial")
        run_step(
            console,
            f"Compiling influxd {INFLUXDB_VERSION} (Go + Flux in Rust)",
            [
                go,
                "build",
                "-tags",
                "sqlite_foreign_keys,sqlite_json",
                "-ldflags",
                f"-s -w -X main.version={INFLUXDB_VERSION}",
                "-o",
                str(partial),
                "./cmd/influxd",
            ],
            log,
            cwd=source,
            env={
                "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}",
                "PKG_CONFIG": str(tools / "pkg-config"),
                "CGO_ENABLED": "1",
                "RUSTUP_TOOLCHAIN": "stable",
                "RUSTFLAGS": "--cap-lints=warn",
                "RUSTC_WRAPPER": str(wrapper),
                "GOTOOLCHAIN": "local",
            },
        )
        partial.rename(self.binary)

    def _writable_source(self, console: Console, go: str, build: Path, log: Path) -> Path:
        """`go install` refuses a module whose go.mod has `replace`; build a writable copy."""
        source = build / f"influxdb-{INFLUXDB_VERSION}"
        if (source / "go.mod").exists():
            return source
        run_step(
            console,
            f"Downloading the InfluxDB {INFLUXDB_VERSION} Go module",
            [go, "mod", "download", f"{INFLUXDB_MODULE}@v{INFLUXDB_VERSION}"],
            log,
        )
        info = subprocess.run(
            [go, "mod", "download", "-json", f"{INFLUXDB_MODULE}@v{INFLUXDB_VERSION}"],
            check=True,
            capture_output=True,
            text=True,
        )
        module_dir = Path(json.loads(info.stdout)["Dir"])
        tmp = source.with_suffix(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(module_dir, tmp, symlinks=True)
        for root, dirs, files in os.walk(tmp):
            for entry in (*dirs, *files):
                path = Path(root) / entry
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode | stat.S_IWUSR)
        tmp.chmod(tmp.stat().st_mode | stat.S_IWUSR)
        tmp.rename(source)
        return source

    def start(self) -> None:
        s = self.settings
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(self.binary),
            "--bolt-path", str(self.data_dir / "influxd.bolt"),
            "--engine-path", str(self.data_dir / "engine"),
            "--sqlite-path", str(self.data_dir / "influxd.sqlite"),
            "--http-bind-address", f"{s.host}:{s.influx_port}",
            "--reporting-disabled",
            "--log-level", "warn",
        ]  # fmt: skip
        self.process().start(command)

    def health(self) -> Health:
        try:
            body = request_json("GET", f"{self.settings.influx_url}/health", timeout=2)
        except (OSError, HttpError) as exc:
            return Health(False, f"no answer at {self.settings.influx_url}: {exc}")
        ok = body.get("status") == "pass"
        return Health(ok, f"{self.settings.influx_url} {body.get('version', '')}".strip())

    def after_start(self, console: Console) -> None:
        """Onboard (org, user, token) on first start, then make sure every bucket exists."""
        s = self.settings
        token = s.influx_token.get_secret_value()
        if request_json("GET", f"{s.influx_url}/api/v2/setup").get("allowed"):
            request_json(
                "POST",
                f"{s.influx_url}/api/v2/setup",
                {
                    "username": s.influx_username,
                    "password": s.influx_password.get_secret_value(),
                    "org": s.influx_org,
                    "bucket": s.influx_buckets[0],
                    "token": token,
                },
            )
            console.print(f"[green]✓[/green] InfluxDB onboarded: org {s.influx_org!r}")
        auth = {"Authorization": f"Token {token}"}
        try:
            orgs = request_json(
                "GET", f"{s.influx_url}/api/v2/orgs?org={s.influx_org}", headers=auth
            )
        except HttpError as exc:
            raise UserError(
                f"InfluxDB at {s.influx_url} refused the configured token ({exc}).",
                hint="its data was set up with another token: set STREAMLINES_INFLUX_TOKEN "
                f"to that token, or remove {self.data_dir} and run `streamlines stack up` again.",
            ) from None
        org_id = orgs["orgs"][0]["id"]
        for bucket in s.influx_buckets:
            rules = retention_rules(s, bucket)
            found = self._find_bucket(org_id, bucket, auth)
            if found is None:
                request_json(
                    "POST",
                    f"{s.influx_url}/api/v2/buckets",
                    {"orgID": org_id, "name": bucket, "retentionRules": rules},
                    headers=auth,
                )
            elif rules and _shard_group_seconds(found) != rules[0]["shardGroupDurationSeconds"]:
                # Applies to shard groups created from now on; existing ones keep their length.
                request_json(
                    "PATCH",
                    f"{s.influx_url}/api/v2/buckets/{found['id']}",
                    {"retentionRules": rules},
                    headers=auth,
                )

    def _find_bucket(self, org_id: str, name: str, auth: dict[str, str]) -> dict[str, Any] | None:
        """The org's bucket called ``name``, or None (InfluxDB answers 404). Looked up by
        name: a listing is paged, and a bucket past its first page would be taken for missing."""
        query = urllib.parse.urlencode({"orgID": org_id, "name": name})
        url = f"{self.settings.influx_url}/api/v2/buckets?{query}"
        try:
            found = request_json("GET", url, headers=auth)["buckets"]
        except HttpError as exc:
            if exc.status == 404:
                return None
            raise
        return found[0] if found else None


def retention_rules(settings: Settings, bucket: str) -> list[dict[str, Any]]:
    """A bucket's retention rules: kept forever, with its configured shard group length."""
    seconds = settings.influx_shard_group_seconds.get(bucket)
    if seconds is None:
        return []
    return [{"type": "expire", "everySeconds": 0, "shardGroupDurationSeconds": seconds}]


def _shard_group_seconds(bucket: dict[str, Any]) -> int | None:
    rules = bucket.get("retentionRules") or [{}]
    return rules[0].get("shardGroupDurationSeconds")


def _required_version(go_mod: Path, module: str) -> str:
    match = re.search(rf"^\s*{re.escape(module)}\s+(v\S+)", go_mod.read_text(), re.MULTILINE)
    if match is None:
        raise UserError(f"{go_mod} does not require {module}; cannot build InfluxDB.")
    return match.group(1)
