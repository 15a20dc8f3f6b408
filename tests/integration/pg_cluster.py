"""A private PostgreSQL cluster for tests: initdb into a temporary directory,
a postgres server on 127.0.0.1 at a random free port, stopped by its pid.
initdb refuses to run as root, so the cluster belongs to a system user
(jarvis-pg), created once if missing and reused afterwards."""
import atexit
import fcntl
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PG_BIN = pathlib.Path(os.environ.get("JARVIS_PG_BIN", "/usr/lib/postgresql/15/bin"))
CLUSTER_USER = "jarvis-pg"
SUPERUSER = "jarvis"
PASSWORD = "pg-secret-Xq7"


def available():
    """True when the PostgreSQL server binaries are installed."""
    return (PG_BIN / "initdb").exists() and (PG_BIN / "postgres").exists()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cluster_owner():
    """(uid, gid) the cluster runs as: ourselves unless root; as root, the
    jarvis-pg system user (created when missing)."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    # Test workers start clusters side by side: one creates the user while
    # the others wait (a half-written account fails initdb's lookup).
    with open("/tmp/jarvis-pg-useradd.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            entry = pwd.getpwnam(CLUSTER_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", CLUSTER_USER], check=True, capture_output=True)
            entry = pwd.getpwnam(CLUSTER_USER)
    return entry.pw_uid, entry.pw_gid


def _as_owner(uid, gid):
    if os.geteuid() != 0:
        return None

    def demote():
        os.setgid(gid)
        os.setuid(uid)
    return demote


class Cluster:
    """One running server. dsn() gives a libpq URI with the password;
    conninfo() the key=value form."""

    def __init__(self, base=None):
        self.uid, self.gid = _cluster_owner()
        self.root = pathlib.Path(tempfile.mkdtemp(prefix="jarvis-pg-", dir=base))
        os.chmod(self.root, 0o755)
        self.data = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_path = self.root / "postgres.log"
        self.port = None
        self.process = None
        self.databases = 0
        self.fsync = False  # tests need no durability against power loss; a bench may
        self._init()
        # A test run that dies early must not leave a server behind.
        atexit.register(self.close)

    def _run_as_owner(self, args, **kwargs):
        return subprocess.run(args, preexec_fn=_as_owner(self.uid, self.gid), capture_output=True,
                              text=True, **kwargs)

    def _init(self):
        self.socket_dir.mkdir()
        os.chown(self.socket_dir, self.uid, self.gid)
        os.chown(self.root, self.uid, self.gid)
        password_file = self.root / "pwfile"
        password_file.write_text(PASSWORD + "\n")
        os.chown(password_file, self.uid, self.gid)
        result = self._run_as_owner([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                                     "--pwfile", str(password_file), "--auth=scram-sha-256",
                                     "-E", "UTF8", "--no-sync", "--locale=C"], timeout=120)
        if result.returncode != 0:
            raise RuntimeError("initdb failed:\n" + result.stdout + result.stderr)
        password_file.unlink()

    def start(self, port=None):
        """Starts the server (again, after stop(), on the same port)."""
        self.port = port or self.port or free_port()
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(self.data), "-h", "127.0.0.1", "-p", str(self.port),
             "-k", str(self.socket_dir),
             "-c", f"fsync={'on' if self.fsync else 'off'}",
             "-c", f"full_page_writes={'on' if self.fsync else 'off'}",
             "-c", "max_connections=200", "-c", "shared_buffers=16MB"],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=_as_owner(self.uid, self.gid))
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("postgres exited:\n" + self.log_path.read_text())
            if self._ready():
                return self
            time.sleep(0.1)
        raise RuntimeError("postgres did not accept connections:\n" + self.log_path.read_text())

    def _ready(self):
        result = subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
                                 "-U", SUPERUSER, "-d", "postgres"], capture_output=True)
        return result.returncode == 0

    def stop(self, mode=signal.SIGINT, timeout=60):
        """Stops the server by its pid. SIGINT = fast shutdown (sessions are
        ended), SIGQUIT = immediate (crash-like), SIGKILL = kill -9."""
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(mode)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self, mode=signal.SIGINT, down_seconds=0.0):
        self.stop(mode)
        time.sleep(down_seconds)
        self.start(self.port)

    def psql(self, sql, database="postgres"):
        """Runs SQL through psql; returns stdout (unaligned, tuples only)."""
        env = dict(os.environ, PGPASSWORD=PASSWORD)
        result = subprocess.run([str(PG_BIN / "psql") if (PG_BIN / "psql").exists() else "psql",
                                 "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER,
                                 "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                                capture_output=True, text=True, env=env, timeout=60)
        if result.returncode != 0:
            raise RuntimeError("psql failed: " + result.stderr)
        return result.stdout

    def create_database(self, name=None):
        """A fresh, empty database (one per test keeps tests independent)."""
        self.databases += 1
        name = name or f"jarvis_test_{os.getpid()}_{self.databases}"
        self.psql(f'CREATE DATABASE "{name}"')
        return name

    def dsn(self, database="postgres"):
        return f"postgresql://{SUPERUSER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database="postgres"):
        return (f"host=127.0.0.1 port={self.port} user={SUPERUSER} password={PASSWORD} "
                f"dbname={database}")

    def close(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster(base=None):
    return Cluster(base).start()
