"""Redis processes for the interop tests: one RESP command on a fresh connection, and waiting for a started
redis-server (or sentinel) to answer."""
from __future__ import annotations

import socket
import subprocess
import time
from typing import Callable


def redis_command(port: int, *args: str, timeout: float = 2.0):
    """One command over RESP on a fresh connection; returns the reply parsed shallowly (str, int, list, None)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a.encode()), a) for a in args)).encode())
        f = s.makefile("rb")

        def read():
            line = f.readline().rstrip(b"\r\n")
            kind, rest = line[:1], line[1:].decode()
            if kind in (b"+",):
                return rest
            if kind == b"-":
                raise RuntimeError(rest)
            if kind == b":":
                return int(rest)
            if kind == b"$":
                n = int(rest)
                if n < 0:
                    return None
                data = f.read(n + 2)[:-2]
                return data.decode()
            if kind == b"*":
                n = int(rest)
                return None if n < 0 else [read() for _ in range(n)]
            raise RuntimeError(f"unexpected reply {line!r}")

        return read()


def wait_until_answers(port: int, proc: subprocess.Popen, log: Callable[[], str], what: str, timeout: float = 10.0) -> None:
    """Until the server on `port` answers PING; fails with the end of its log when it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if redis_command(port, "PING", timeout=0.5) == "PONG":
                return
        except (OSError, RuntimeError):
            pass
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited: {log()[-2000:]}")
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not answer PING: {log()[-2000:]}")
        time.sleep(0.02)
