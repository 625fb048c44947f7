"""What a load costs a broker process: its user+system CPU (from /proc), for the scripts that compare two ways of
doing one thing side by side (grpc_api_bench.py, sentinel_bench.py)."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable, List


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_threads(pid: int, workers: List[Callable[[], None]], operations: int) -> tuple[float, float]:
    """Runs `workers` in threads until all are done; returns operations per second and the broker's CPU
    microseconds per operation."""
    threads = [threading.Thread(target=w) for w in workers]
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cpu1, t1 = cpu_seconds(pid), time.perf_counter()
    return operations / (t1 - t0), (cpu1 - cpu0) / operations * 1e6
