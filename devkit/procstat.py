"""What processes cost, read from /proc (Linux): CPU seconds, resident memory, who listens on a
port, and how busy the whole machine is (so a benchmark can say what others used meanwhile)."""

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of `pid` so far (0 when it is gone or unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` in MiB (0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    kb = next((line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")), 0)
    return round(int(kb) / 1024, 1)


def listening(port: int) -> int | None:
    """The process listening on TCP `port` on this machine, if this user may see it."""
    try:
        out = subprocess.run(
            ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=False
        ).stdout
    except OSError:
        return None
    for part in out.split("pid=")[1:]:
        return int(part.split(",")[0])
    return None


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine spent busy since boot (all but idle and iowait)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return 0.0
    # cpu user nice system idle iowait irq softirq steal (guest time is inside user)
    ticks = [int(v) for v in first[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICK


def load_average() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds of named processes, and of the whole machine, at one moment."""

    per_process: Mapping[str, float]
    machine: float

    @classmethod
    def take(cls, pids: Mapping[str, int]) -> "CpuSnapshot":
        return cls({name: cpu_seconds(pid) for name, pid in pids.items()}, machine_busy_seconds())

    @property
    def total(self) -> float:
        return sum(self.per_process.values())

    def since(self, before: "CpuSnapshot") -> dict[str, float]:
        """CPU seconds each process used since `before`, and `other`: what the rest of the
        machine used meanwhile."""
        used = {
            name: max(0.0, seconds - before.per_process.get(name, 0.0))
            for name, seconds in self.per_process.items()
        }
        used["other"] = max(0.0, (self.machine - before.machine) - sum(used.values()))
        return used


def total_cpu(pids: Iterable[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)
