"""A throwaway PostgreSQL cluster for tests that must stop and restart the server.

Never the shared server on 5432: `initdb` creates a new data directory in a temporary folder,
and the cluster listens on a free port of 127.0.0.1 (and a socket in that folder) with trust
authentication. PostgreSQL refuses to run as root, so when the tests run as root every
`initdb`/`pg_ctl` call runs as the `postgres` user (`runuser -u postgres --`).

    cluster = PgCluster.create()      # initdb on a free port
    try:
        cluster.start()
        cluster.crash()               # pg_ctl stop -m immediate: no shutdown checkpoint
        cluster.start()               # crash recovery, then accepts connections again
    finally:
        cluster.destroy()             # stops it if running, deletes the folder

    replica = PgCluster.replica_of(cluster)   # a streaming replica of a running cluster
    replica.start()                            # replays the primary's WAL as it comes
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Where Debian puts each major version's server binaries; AIZE_TEST_PG_BINDIR overrides.
_DEBIAN_BINDIRS = Path("/usr/lib/postgresql")
_SERVICE_USER = "postgres"
# pg_ctl's own wait for start/stop (it polls the server until it answers or is gone).
_PG_CTL_WAIT_SECONDS = 60


class ClusterUnavailable(Exception):
    """No way to run a throwaway cluster here; the message says what is missing."""


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl (newest installed major version first).

    Raises ClusterUnavailable naming what was looked for."""
    override = os.environ.get("AIZE_TEST_PG_BINDIR")
    candidates = [Path(override)] if override else []
    if _DEBIAN_BINDIRS.is_dir():
        versions = sorted(
            (p for p in _DEBIAN_BINDIRS.iterdir() if p.name.isdigit()),
            key=lambda p: int(p.name),
            reverse=True,
        )
        candidates += [v / "bin" for v in versions]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise ClusterUnavailable(
        "initdb/pg_ctl not found (looked in AIZE_TEST_PG_BINDIR, "
        f"{_DEBIAN_BINDIRS}/*/bin and PATH); install the PostgreSQL server package"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run_as_prefix() -> list[str]:
    """The command prefix that runs PostgreSQL's tools as a non-root user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(_SERVICE_USER)
    except KeyError:
        raise ClusterUnavailable(
            f"running as root and there is no {_SERVICE_USER!r} user to run PostgreSQL as"
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ClusterUnavailable("running as root and `runuser` is not installed")
    return [runuser, "-u", _SERVICE_USER, "--"]


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int
    prefix: list[str]

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def url(self) -> str:
        """postgres:// URL of the `postgres` database on this cluster (trust auth)."""
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def create(cls) -> PgCluster:
        """A new, stopped cluster in a temporary folder, on a free port."""
        bindir = find_bindir()
        prefix = _run_as_prefix()
        root = Path(tempfile.mkdtemp(prefix="aize-pg-"))
        try:
            if prefix:
                user = pwd.getpwnam(_SERVICE_USER)
                os.chown(root, user.pw_uid, user.pw_gid)
            cluster = cls(bindir=bindir, root=root, port=free_port(), prefix=prefix)
            cluster._run(
                "initdb",
                "-D",
                str(cluster.data_dir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                # The folder is deleted after the test: no need to fsync what initdb wrote.
                "--no-sync",
            )
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return cluster

    @classmethod
    def replica_of(cls, primary: PgCluster) -> PgCluster:
        """A new, stopped streaming replica of the running `primary`, on a free port:
        `pg_basebackup -R` copies its data directory and writes the standby settings
        (primary_conninfo, standby.signal). initdb's trust pg_hba.conf already lets
        127.0.0.1 connect for replication."""
        prefix = _run_as_prefix()
        root = Path(tempfile.mkdtemp(prefix="aize-pg-replica-"))
        try:
            if prefix:
                user = pwd.getpwnam(_SERVICE_USER)
                os.chown(root, user.pw_uid, user.pw_gid)
            replica = cls(bindir=primary.bindir, root=root, port=free_port(), prefix=prefix)
            replica._run(
                "pg_basebackup",
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(replica.data_dir),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            )
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        return replica

    def start(self, *settings: str) -> None:
        """Start the server and return once it accepts connections (after any recovery);
        `settings` are extra `name=value` server settings."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        options += "".join(f" -c {setting}" for setting in settings)
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "-t",
            str(_PG_CTL_WAIT_SECONDS),
        )

    def crash(self) -> None:
        """Stop the server at once, as a crash would: open connections are cut, nothing is
        checkpointed, and the next start runs crash recovery from the WAL."""
        self._stop("immediate")

    def stop(self) -> None:
        """Stop the server cleanly (`pg_ctl stop -m fast`: open connections are cut)."""
        self._stop("fast")

    def is_running(self) -> bool:
        """Whether a server runs on this data directory."""
        status = subprocess.run(
            [*self.prefix, str(self.bindir / "pg_ctl"), "status", "-D", str(self.data_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        return status.returncode == 0

    def destroy(self) -> None:
        """Stop the server if it runs, then delete the cluster's folder."""
        try:
            if self.data_dir.is_dir() and self.is_running():
                self._stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def server_log(self) -> str:
        """The server's log so far (for failure messages)."""
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def _stop(self, mode: str) -> None:
        self._run(
            "pg_ctl",
            "stop",
            "-D",
            str(self.data_dir),
            "-m",
            mode,
            "-w",
            "-t",
            str(_PG_CTL_WAIT_SECONDS),
        )

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.prefix, str(self.bindir / tool), *args]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.root,
            timeout=_PG_CTL_WAIT_SECONDS + 30,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
                f"\n--- server log ---\n{self.server_log()[-4000:]}"
            )
