"""A single-node Slurm cluster on this machine, for the tests: munged with a fresh key, slurmctld and
slurmd on localhost with a generated ``slurm.conf`` (two partitions: ``cpu``, the default, and
``gpu`` on the same node), all under one folder, stopped by ``stop``. ``start`` says why it could
not start (Slurm or munge not installed, not root, a daemon that would not come up)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalSlurm:
    root: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def conf(self) -> Path:
        return self.root / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def unavailable(self) -> str:
        """Why Slurm cannot start here, or ''."""
        missing = [d for d in DAEMONS if shutil.which(d) is None and not Path("/usr/sbin", d).exists()]
        if missing:
            return f"{', '.join(missing)} not installed (apt-get install slurm-wlm munge)"
        if os.geteuid() != 0:
            return "the daemons run as root here"
        return ""

    def _daemon(self, *command: str) -> None:
        log = open(self.root / "log" / f"{Path(command[0]).name}.out", "wb")
        self.processes.append(subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True))

    def start(self, cpus: int = 2) -> str:
        """Start the cluster; '' when it is up, else why not (the log's last lines)."""
        reason = self.unavailable()
        if reason:
            return reason
        for folder in ("munge", "state", "spool", "log"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        (self.root / "munge").chmod(0o700)
        key = self.root / "munge" / "munge.key"
        key.write_bytes(secrets.token_bytes(128))
        key.chmod(0o600)
        munge_socket = self.root / "munge" / "munge.socket"
        self._daemon(
            shutil.which("munged") or "/usr/sbin/munged", "--foreground", "--force", f"--key-file={key}", f"--socket={munge_socket}",
            f"--pid-file={self.root / 'munge' / 'munged.pid'}", f"--log-file={self.root / 'log' / 'munged.log'}", f"--seed-file={self.root / 'munge' / 'seed'}",
        )  # fmt: skip
        host = socket.gethostname().split(".")[0]
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20 // 2
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=dlgrade-test",
                    f"SlurmctldHost={host}(127.0.0.1)",
                    f"SlurmctldPort={_free_port()}",
                    f"SlurmdPort={_free_port()}",
                    "AuthType=auth/munge",
                    "CredType=cred/munge",
                    f"AuthInfo=socket={munge_socket}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    f"StateSaveLocation={self.root / 'state'}",
                    f"SlurmdSpoolDir={self.root / 'spool'}",
                    f"SlurmctldPidFile={self.root / 'slurmctld.pid'}",
                    f"SlurmdPidFile={self.root / 'slurmd.pid'}",
                    f"SlurmctldLogFile={self.root / 'log' / 'slurmctld.log'}",
                    f"SlurmdLogFile={self.root / 'log' / 'slurmd.log'}",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core",
                    "MpiDefault=none",
                    "ReturnToService=2",
                    "SchedulerType=sched/backfill",
                    f"NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN",
                    f"PartitionName=cpu Nodes={host} Default=YES MaxTime=INFINITE State=UP",
                    f"PartitionName=gpu Nodes={host} MaxTime=INFINITE State=UP",
                ]
            )
            + "\n"
        )
        time.sleep(1)  # munged's socket
        self._daemon(shutil.which("slurmctld") or "/usr/sbin/slurmctld", "-D", "-i", "-f", str(self.conf))
        self._daemon(shutil.which("slurmd") or "/usr/sbin/slurmd", "-D", "-f", str(self.conf), "-N", host)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            info = subprocess.run(["sinfo", "-h", "-o", "%t"], env=self.env, capture_output=True, text=True, timeout=30)
            if info.returncode == 0 and info.stdout.strip() and all(s.strip() in ("idle", "mix", "alloc") for s in info.stdout.split()):
                return ""
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(1)
        logs = "".join(f"\n--- {p.name}\n" + p.read_text()[-1500:] for p in sorted((self.root / "log").iterdir()))
        return f"the single-node Slurm did not come up:{logs}"

    def wait(self, job: str, timeout: float) -> str:
        """Wait until ``job`` (and its array tasks) left the queue; its state from the controller."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            queue = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], env=self.env, capture_output=True, text=True, timeout=30)
            if queue.returncode != 0 or not queue.stdout.strip():
                shown = subprocess.run(["scontrol", "show", "job", job], env=self.env, capture_output=True, text=True, timeout=30).stdout
                return next((w.split("=", 1)[1] for w in shown.split() if w.startswith("JobState=")), "GONE")
            time.sleep(2)
        raise TimeoutError(f"Slurm job {job} did not finish within {timeout:g} s")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        self.processes.clear()
