"""PostgreSQL from Debian's packages (`postgresql`), one cluster run natively, service `postgres`.

The server is the distribution's; `install` adds the package when we are root and it is missing.
`start` initialises a cluster once (superuser ``postgres_user`` with ``postgres_password``,
password auth over TCP, trust on its own Unix socket in the data directory) and runs
``postgres`` on ``host:postgres_port``; `after_start` creates the database ``postgres_db``.

PostgreSQL refuses to run as root. As root (containers, CI) it runs as Debian's ``postgres``
system user, and its data live in ``/var/lib/postgresql/streamlines-<port>``: the usual state
directory is under /root, mode 700, where that user cannot reach.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow
from rich.console import Console

from streamlines.errors import UserError
from streamlines.stack.apt import apt_install
from streamlines.stack.process import ManagedProcess, identity
from streamlines.stack.services.base import Health, PortSetting, Service

PACKAGES_ROOT = Path("/usr/lib/postgresql")
ROOT_DATA_PARENT = Path("/var/lib/postgresql")  # the postgres user's home in Debian's package
SYSTEM_USER = "postgres"
APT_PACKAGE = "postgresql"
# A Unix socket's path must fit in sockaddr_un (108 bytes, with the terminating NUL).
_MAX_SOCKET_PATH = 107


def find_bin_dir(packages_root: Path = PACKAGES_ROOT) -> Path | None:
    """The bin directory of the highest PostgreSQL server version installed, or None."""
    found = [p.parent for p in packages_root.glob("*/bin/postgres") if p.is_file()]
    return max(found, key=lambda bin_dir: _version_key(bin_dir.parent.name), default=None)


def _version_key(name: str) -> tuple[int, ...]:
    """Numerically: 9.6 < 15 < 17; a name that is no version sorts first."""
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return ()


def cluster_dir(default: Path, port: int, as_root: bool) -> Path:
    """Where the cluster's data live: ``default``, or as root one the postgres user can reach."""
    return ROOT_DATA_PARENT / f"streamlines-{port}" if as_root else default


def socket_dir(data_dir: Path, port: int) -> str:
    """The data directory, or "" (no Unix socket; TCP still works) if its path is too long."""
    return str(data_dir) if len(f"{data_dir}/.s.PGSQL.{port}") <= _MAX_SOCKET_PATH else ""


def _running_as_root() -> bool:
    return os.geteuid() == 0


class PostgresService(Service):
    name = "postgres"

    @property
    def data_dir(self) -> Path:
        return cluster_dir(super().data_dir, self.settings.postgres_port, _running_as_root())

    @property
    def run_as(self) -> str | None:
        """The user the server runs as: the postgres system user as root, else ourselves."""
        return SYSTEM_USER if _running_as_root() else None

    @property
    def display_url(self) -> str:
        s = self.settings
        return f"postgresql://{s.host}:{s.postgres_port}/{s.postgres_db}"

    def process(self, name: str | None = None) -> ManagedProcess:
        # SIGINT is PostgreSQL's "fast" shutdown; SIGTERM ("smart") would wait for every client.
        return ManagedProcess(
            name or self.name, self.settings.state_dir / "run", self.log_dir, signal.SIGINT
        )

    def ports(self) -> list[PortSetting]:
        return [PortSetting(self.settings.postgres_port, "STREAMLINES_POSTGRES_PORT")]

    def install(self, console: Console) -> None:
        if find_bin_dir() is None:
            if not _running_as_root():
                raise UserError(
                    f"PostgreSQL's server is not installed (no {PACKAGES_ROOT}/*/bin/postgres).",
                    hint=f"install Debian's package: `sudo apt-get install {APT_PACKAGE}`, "
                    "then run the command again.",
                )
            self._apt_install(console)
        if self.run_as is not None:
            self._require_system_user()

    def _apt_install(self, console: Console) -> None:
        log = self.cache_dir / "build" / "postgresql-apt.log"
        apt_install(console, APT_PACKAGE, "PostgreSQL", log)
        if find_bin_dir() is None:
            raise UserError(
                f"`apt-get install {APT_PACKAGE}` ran, but there is no "
                f"{PACKAGES_ROOT}/*/bin/postgres. See {log}.",
                hint=f"install the server package by hand (`apt-get install {APT_PACKAGE}`).",
            )

    def _require_system_user(self) -> None:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise UserError(
                f"PostgreSQL refuses to run as root, and there is no `{SYSTEM_USER}` user to run "
                "it as.",
                hint="Debian's postgresql-common creates it: `apt-get install --reinstall "
                "postgresql-common`, or run `streamlines stack up` as a normal user.",
            ) from None

    def _bin_dir(self) -> Path:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise UserError(
                "PostgreSQL's server is not installed.",
                hint="run `streamlines stack install postgres`.",
            )
        return bin_dir

    def initdb_command(self, bin_dir: Path, target: Path, password_file: Path) -> list[str]:
        return [
            str(bin_dir / "initdb"),
            "-D", str(target),
            "-U", self.settings.postgres_user,
            f"--pwfile={password_file}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",  # the socket is in the data directory, mode 700
            "-E", "UTF8",
            "--locale=C",
        ]  # fmt: skip

    def command(self, bin_dir: Path) -> list[str]:
        s = self.settings
        return [
            str(bin_dir / "postgres"),
            "-D", str(self.data_dir),
            "-p", str(s.postgres_port),
            "-h", s.host,
            "-k", socket_dir(self.data_dir, s.postgres_port),
        ]  # fmt: skip

    def start(self) -> None:
        bin_dir = self._bin_dir()
        self._init_cluster_once(bin_dir)
        self._check_cluster_version(bin_dir)
        self.process().start(self.command(bin_dir), cwd=self.data_dir, user=self.run_as)

    def _init_cluster_once(self, bin_dir: Path) -> None:
        """initdb into a scratch directory, renamed into place only once it is complete."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        scratch = self.data_dir.with_name(self.data_dir.name + ".initdb")
        shutil.rmtree(scratch, ignore_errors=True)  # an interrupted attempt's remains
        self._make_own_dir(scratch)
        log = self.process("postgres-initdb").log_file
        log.parent.mkdir(parents=True, exist_ok=True)
        with self._password_file(scratch.parent) as password_file, log.open("ab") as out:
            code = subprocess.call(
                self.initdb_command(bin_dir, scratch, password_file),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=scratch,  # the postgres user may not be allowed into ours
                **identity(self.run_as),
            )
        if code != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise UserError(
                f"initialising PostgreSQL's data in {scratch} failed (exit {code}):\n{tail}",
                hint=f"fix the cause above (full log: {log}), then run `streamlines stack up` "
                "again.",
            )
        scratch.rename(self.data_dir)

    def _make_own_dir(self, path: Path) -> None:
        """An empty directory, mode 700, owned by the user the server runs as."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700)
        self._give_to_server_user(path)

    @contextlib.contextmanager
    def _password_file(self, directory: Path) -> Iterator[Path]:
        """The superuser's password for initdb, readable by the server's user only, removed
        afterwards. Beside the data (not in $TMPDIR), where the server's user can reach."""
        fd, name = tempfile.mkstemp(prefix=".initdb-", suffix=".pw", dir=directory)  # mode 600
        path = Path(name)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(self.settings.postgres_password.get_secret_value() + "\n")
            self._give_to_server_user(path)
            yield path
        finally:
            path.unlink(missing_ok=True)

    def _give_to_server_user(self, path: Path) -> None:
        if self.run_as is not None:
            account = pwd.getpwnam(self.run_as)
            os.chown(path, account.pw_uid, account.pw_gid)

    def _check_cluster_version(self, bin_dir: Path) -> None:
        data_version = (self.data_dir / "PG_VERSION").read_text().strip()
        server_version = bin_dir.parent.name
        if data_version != server_version:
            raise UserError(
                f"the data in {self.data_dir} are PostgreSQL {data_version}'s, but the server "
                f"installed is PostgreSQL {server_version}.",
                hint=f"upgrade them with pg_upgrade, or remove {self.data_dir} (its databases "
                "are lost) and run `streamlines stack up` again.",
            )

    def connect(self, dbname: str) -> psycopg.Connection[TupleRow]:
        """A connection over TCP as the superuser, in autocommit mode."""
        s = self.settings
        return psycopg.connect(
            host=s.host,
            port=s.postgres_port,
            user=s.postgres_user,
            password=s.postgres_password.get_secret_value(),
            dbname=dbname,
            connect_timeout=2,
            autocommit=True,
            application_name="streamlines-stack",
        )

    def health(self) -> Health:
        try:
            # The maintenance database: ours does not exist until after_start has run.
            with self.connect("postgres") as conn:
                version, has_db = conn.execute(
                    "select current_setting('server_version'), "
                    "exists (select 1 from pg_database where datname = %s)",
                    (self.settings.postgres_db,),
                ).fetchone() or ("?", False)
        except psycopg.Error as exc:
            return Health(False, f"no answer at {self.display_url}: {' '.join(str(exc).split())}")
        detail = f"{self.display_url}, PostgreSQL {str(version).split()[0]}"
        return Health(True, detail if has_db else f"{detail} (database not created yet)")

    def after_start(self, console: Console) -> None:
        """Create the database ``postgres_db`` if it is missing."""
        db = self.settings.postgres_db
        try:
            with self.connect("postgres") as conn:
                query = "select 1 from pg_database where datname = %s"
                if conn.execute(query, (db,)).fetchone() is None:
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(db)))
                    console.print(f"[green]✓[/green] PostgreSQL database {db!r} created")
        except psycopg.Error as exc:
            raise UserError(
                f"could not create the database {db!r} at {self.display_url}: {exc}",
                hint=f"see {self.process().log_file}; then run `streamlines stack up` again.",
            ) from None
