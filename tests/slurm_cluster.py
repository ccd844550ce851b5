"""A throw-away single-node SLURM cluster on this machine, for tests of the SLURM profile.

``LocalSlurm`` starts a private ``munged`` (own key and socket), ``slurmctld`` and ``slurmd``
(one node: this host, at 127.0.0.1, free ports), all in the foreground as children of the
test process, with state, spool, logs and pid files in a scratch folder under /tmp.
``stop()`` cancels the jobs, ends exactly the daemons it started (by PID) and removes what it
created; it is safe to call more than once and after a failed ``start()``.

Machine-wide things it touches, with care:

- ``/etc/slurm/slurm.conf``: SLURM's job-step plugin drops ``SLURM_CONF`` from the job's
  environment, so the configuration must be at the default path. A symlink to the scratch
  configuration is made there only if nothing is there, and removed only if it is still that
  symlink. A symlink left by an earlier, killed run of this helper (its target in an
  ``ecg2d-slurm-*`` folder) is cleaned up first, its daemons ended by their recorded PIDs.
- One cluster at a time on a machine: an exclusive lock on ``/tmp/ecg2d-slurm-test.lock``
  makes a second test session wait (several engineers share one machine).

Nothing is installed: the Debian packages slurmctld, slurmd, slurm-client and munge must be
there (``.ci/run`` installs them); :func:`unavailable_reason` says what is missing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SLURM_CONF = Path("/etc/slurm/slurm.conf")
LOCK_FILE = Path("/tmp/ecg2d-slurm-test.lock")
SCRATCH_PREFIX = "ecg2d-slurm-"
DAEMONS = ("munged", "slurmctld", "slurmd")
COMMANDS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "scancel")
DEBIAN_PACKAGES = "slurmctld slurmd slurm-client munge"


class SlurmUnavailable(RuntimeError):
    """This machine cannot host a local SLURM (not installed, not root, its own SLURM, busy)."""


class SlurmStartError(RuntimeError):
    """A daemon of the local SLURM failed to start or to bring the node up."""


def unavailable_reason() -> str | None:
    """Why a local SLURM cannot run on this machine, or None if it can."""
    missing = [c for c in COMMANDS if shutil.which(c) is None]
    if missing:
        return (
            f"SLURM is not installed (missing {', '.join(missing)}); install the Debian "
            f"packages {DEBIAN_PACKAGES} (as .ci/run does)"
        )
    if os.geteuid() != 0:
        return "a local SLURM needs root (slurmd runs jobs as their users)"
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "user 'munge' does not exist (it comes with the Debian package munge)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _usable_cpus() -> int:
    return len(os.sched_getaffinity(0))


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise SlurmStartError("cannot read MemTotal from /proc/meminfo")


def _process_name(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def _end_pid(pid: int, name: str, timeout: float = 15) -> None:
    """SIGTERM, then SIGKILL, the process ``pid`` if it is still the daemon ``name``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if _process_name(pid) != name:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _process_name(pid) == name:
            time.sleep(0.1)


class LocalSlurm:
    """A single-node SLURM cluster for the duration of a test session."""

    def __init__(self, lock_timeout: float = 900):
        self.lock_timeout = lock_timeout
        self.scratch: Path | None = None
        self.procs: dict[str, subprocess.Popen] = {}
        self.made_conf_link = False
        self.made_conf_dir = False
        self._lock = None
        self.hostname = socket.gethostname().split(".")[0]
        self.cpus = _usable_cpus()
        #: Memory of the node in MB: 80 % of this machine's, the rest for everything else.
        self.memory_mb = int(_memory_mb() * 0.8)

    # -- paths -------------------------------------------------------------------------------
    @property
    def conf(self) -> Path:
        return self.scratch / "slurm.conf"

    def log(self, name: str) -> str:
        """The end of a daemon's log file (for failure messages)."""
        path = self.scratch / "log" / f"{name}.log" if self.scratch else None
        if path is None or not path.is_file():
            return ""
        return "".join(path.read_text(errors="replace").splitlines(True)[-40:])

    # -- start -------------------------------------------------------------------------------
    def start(self, timeout: float = 60) -> LocalSlurm:
        reason = unavailable_reason()
        if reason:
            raise SlurmUnavailable(reason)
        self._take_lock()
        self._clean_stale_link()
        if SLURM_CONF.exists() or SLURM_CONF.is_symlink():
            raise SlurmUnavailable(
                f"{SLURM_CONF} exists and was not made by this test; a machine with its own "
                "SLURM is left alone"
            )
        self.scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX))
        self.scratch.chmod(0o755)
        for sub in ("state", "spool", "log", "run"):
            (self.scratch / sub).mkdir()
        self._write_conf()
        if not SLURM_CONF.parent.is_dir():
            SLURM_CONF.parent.mkdir(parents=True)
            self.made_conf_dir = True
        SLURM_CONF.symlink_to(self.conf)
        self.made_conf_link = True
        self._start_munged()
        self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", str(SLURM_CONF)])
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(SLURM_CONF)])
        self._wait_idle(timeout)
        return self

    def _take_lock(self) -> None:
        self._lock = open(LOCK_FILE, "a+")  # noqa: SIM115 - held until stop()
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self._lock.close()
                    self._lock = None
                    raise SlurmUnavailable(
                        f"another test session holds {LOCK_FILE} (a local SLURM is running) "
                        f"for more than {self.lock_timeout:.0f} s"
                    ) from None
                time.sleep(1)

    def _clean_stale_link(self) -> None:
        """Remove the config link and daemons of an earlier run of this helper that was killed.

        Only called while holding the lock, so no live run of this helper owns them.
        """
        if not SLURM_CONF.is_symlink():
            return
        target = Path(os.readlink(SLURM_CONF))
        if not target.parent.name.startswith(SCRATCH_PREFIX) or target.name != "slurm.conf":
            return
        stale = target.parent
        pids = stale / "run" / "pids.json"
        if pids.is_file():
            for name, pid in json.loads(pids.read_text()).items():
                if name in DAEMONS:
                    _end_pid(int(pid), name)
        SLURM_CONF.unlink()
        shutil.rmtree(stale, ignore_errors=True)

    def _write_conf(self) -> None:
        s = self.scratch
        host = self.hostname
        lines = [
            "# Single-node SLURM made by tests/slurm_cluster.py for one test session.",
            "ClusterName=ecg2dtest",
            f"SlurmctldHost={host}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={s}/munge/munge.socket",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"StateSaveLocation={s}/state",
            f"SlurmdSpoolDir={s}/spool",
            f"SlurmctldPidFile={s}/run/slurmctld.pid",
            f"SlurmdPidFile={s}/run/slurmd.pid",
            f"SlurmctldLogFile={s}/log/slurmctld.log",
            f"SlurmdLogFile={s}/log/slurmd.log",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "MpiDefault=none",
            "SwitchType=switch/none",
            # Ended jobs stay visible to squeue this long: the plugin's squeue status check
            # needs >= 120 s to learn how a job ended (there is no accounting database).
            "MinJobAge=300",
            "ReturnToService=2",
            "SchedulerType=sched/backfill",
            f"NodeName={host} NodeAddr=127.0.0.1 CPUs={self.cpus} "
            f"RealMemory={self.memory_mb} State=UNKNOWN",
            "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        ]
        self.conf.write_text("\n".join(lines) + "\n")

    def _start_munged(self) -> None:
        munge_dir = self.scratch / "munge"
        munge_dir.mkdir(mode=0o755)
        munge = pwd.getpwnam("munge")
        key = munge_dir / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        # munged (user munge) writes its log into the log folder, which belongs to root.
        log = self.scratch / "log" / "munged.log"
        log.touch()
        for path in (munge_dir, key, log):
            os.chown(path, munge.pw_uid, munge.pw_gid)
        self._spawn(
            "munged",
            [
                "munged",
                "--foreground",
                f"--socket={munge_dir}/munge.socket",
                f"--key-file={key}",
                f"--pid-file={munge_dir}/munged.pid",
                f"--log-file={self.scratch}/log/munged.log",
                f"--seed-file={munge_dir}/munged.seed",
            ],
            user=munge.pw_uid,
            group=munge.pw_gid,
        )
        deadline = time.monotonic() + 20
        while not (munge_dir / "munge.socket").exists():
            self._check_alive("munged")
            if time.monotonic() > deadline:
                raise SlurmStartError("munged did not create its socket within 20 s")
            time.sleep(0.1)

    def _spawn(self, name: str, cmd: list[str], **kwargs) -> None:
        out = open(self.scratch / "log" / f"{name}.out", "w")  # noqa: SIM115
        with out:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=dict(os.environ, SLURM_CONF=str(SLURM_CONF)),
                **({"extra_groups": []} if "user" in kwargs else {}),
                **kwargs,
            )
        self.procs[name] = proc
        (self.scratch / "run" / "pids.json").write_text(
            json.dumps({n: p.pid for n, p in self.procs.items()})
        )

    def _check_alive(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is not None:
            out = (self.scratch / "log" / f"{name}.out").read_text(errors="replace")
            raise SlurmStartError(
                f"{name} exited with {proc.returncode}:\n{out[-2000:]}\n{self.log(name)}"
            )

    def _wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            for name in DAEMONS:
                self._check_alive(name)
            proc = subprocess.run(
                ["sinfo", "--noheader", "--Node", "--format=%t"],
                capture_output=True,
                text=True,
            )
            state = proc.stdout.strip() or proc.stderr.strip()
            if proc.returncode == 0 and state == "idle":
                return
            time.sleep(0.5)
        raise SlurmStartError(
            f"the SLURM node did not become idle within {timeout:.0f} s (last: {state!r})\n"
            f"slurmctld:\n{self.log('slurmctld')}\nslurmd:\n{self.log('slurmd')}"
        )

    # -- use ---------------------------------------------------------------------------------
    def squeue_all(self) -> str:
        """Every job the controller remembers (finished ones for MinJobAge), one per line."""
        proc = subprocess.run(
            ["squeue", "--noheader", "--states=all", "--format=%i|%j|%T|%k"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        return proc.stdout if proc.returncode == 0 else f"(squeue failed: {proc.stderr.strip()})"

    # -- stop --------------------------------------------------------------------------------
    def stop(self) -> None:
        """Cancel jobs, end the daemons started here, remove the config link and scratch."""
        try:
            if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    subprocess.run(
                        ["scancel", "--full", "--cluster=ecg2dtest", "--user=root"],
                        capture_output=True,
                        timeout=15,
                    )
            # Reverse start order: slurmd, slurmctld, then munged (they use it to the end).
            for name in reversed(list(self.procs)):
                proc = self.procs[name]
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(timeout=15)
            self.procs.clear()
        finally:
            if self.made_conf_link and SLURM_CONF.is_symlink():
                if Path(os.readlink(SLURM_CONF)) == self.conf:
                    SLURM_CONF.unlink()
            self.made_conf_link = False
            if self.made_conf_dir:
                with contextlib.suppress(OSError):
                    SLURM_CONF.parent.rmdir()
                self.made_conf_dir = False
            if self.scratch is not None:
                shutil.rmtree(self.scratch, ignore_errors=True)
                self.scratch = None
            if self._lock is not None:
                fcntl.flock(self._lock, fcntl.LOCK_UN)
                self._lock.close()
                self._lock = None

    def __enter__(self) -> LocalSlurm:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
