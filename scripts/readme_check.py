#!/usr/bin/env python3
"""Runs the README's shell and example blocks, in order, as a newcomer would paste them.

Every fenced ```sh / ```bash / ```python block in README.md must be preceded by a directive comment, so no
block can be added that is not checked:

    <!-- check: run [expect "TEXT"] -->                   run it; it must exit 0 (and print TEXT)
    <!-- check: background NAME until "TEXT" [timeout S] -->  start it and wait until it prints TEXT; it keeps
                                                            running, like a command left in its own terminal
    <!-- check: skip REASON -->                           not run (say why)

and these stand alone, between blocks:

    <!-- check: wait NAME "TEXT" -->                      background NAME prints TEXT (within 30 s)
    <!-- check: stop NAME expect "TEXT" -->               Ctrl-C to NAME; it exits 0 or 130 and prints TEXT

Each block runs in a fresh `bash -euo pipefail` (a terminal of its own) from the repository root, with the
environment of a newcomer: the test run's DATABASE_URL, CENTRIFUGO_*, BROKER_* and FACADE_* are removed.
SCRUMBLE_BUILD passes through (the test command sets it to `debug`, so `scripts/start.sh` reuses the build
it already has instead of a 10-minute release build). Exit 0 when every block did what it says.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
LANGS = {"sh": "bash", "bash": "bash", "shell": "bash", "python": "python", "py": "python"}
DIRECTIVE = re.compile(r"^\s*<!--\s*check:\s*(.*?)\s*-->\s*$")
DROPPED_ENV = ("DATABASE_URL", "FACADE_TEST_DATABASE_URL")
DROPPED_PREFIXES = ("CENTRIFUGO_", "BROKER_", "FACADE_")


@dataclass
class Step:
    line: int
    directive: List[str]
    lang: Optional[str] = None
    code: str = ""


def parse(text: str) -> List[Step]:
    """Directives with the block that follows each (if any); fails on a block without a directive."""
    steps: List[Step] = []
    lines = text.split("\n")
    pending: Optional[Step] = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = DIRECTIVE.match(line)
        fence = re.match(r"^\s*```(\w*)\s*$", line)
        if m:
            if pending is not None:
                steps.append(pending)
            pending = Step(line=i + 1, directive=shlex.split(m.group(1)))
        elif fence:
            lang = fence.group(1)
            body: List[str] = []
            i += 1
            while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
                body.append(lines[i])
                i += 1
            if lang in LANGS:
                if pending is None:
                    raise SystemExit(f"README.md:{i - len(body)}: a ```{lang} block without a <!-- check: … --> directive")
                pending.lang, pending.code = LANGS[lang], "\n".join(body) + "\n"
                steps.append(pending)
                pending = None
        elif line.strip() and pending is not None and pending.directive[0] in ("run", "background", "skip"):
            raise SystemExit(f"README.md:{pending.line}: the directive {pending.directive[0]!r} is not followed by a code block")
        i += 1
    if pending is not None:
        steps.append(pending)
    return steps


def newcomer_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV and not k.startswith(DROPPED_PREFIXES)}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Background:
    name: str
    proc: subprocess.Popen
    output: List[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    eof: bool = False  # the process closed its output: nothing more will come

    def pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            with self.changed:
                self.output.append(raw.decode(errors="replace"))
                self.changed.notify_all()
        with self.changed:
            self.eof = True
            self.changed.notify_all()

    def text(self) -> str:
        with self.changed:
            return "".join(self.output)

    def wait_for(self, needle: str, timeout: float) -> bool:
        """True once the output holds `needle`; False when the process exits or the time is up first."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while needle not in "".join(self.output):
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return False
                self.changed.wait(left)
            return True

    def interrupt(self, timeout: float = 60) -> Optional[int]:
        """Ctrl-C to its process group, as a terminal sends it; SIGKILL if it is still there after `timeout`."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                return None
        return self.proc.returncode


def command(step: Step, scratch: Path) -> List[str]:
    if step.lang == "python":
        path = scratch / f"block-{step.line}.py"
        path.write_text(step.code)
        return [sys.executable, str(path)]
    return ["bash", "-euo", "pipefail", "-c", step.code]


def option(words: List[str], name: str, default: Optional[str] = None) -> Optional[str]:
    return words[words.index(name) + 1] if name in words else default


def main() -> int:
    readme = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "README.md"
    steps = parse(readme.read_text())
    env = newcomer_env()
    backgrounds: Dict[str, Background] = {}
    ran = skipped = 0
    scratch = Path(tempfile.mkdtemp(prefix="readme-check-"))

    def fail(step: Step, why: str, output: str = "") -> int:
        print(f"README.md:{step.line}: {' '.join(step.directive)}: {why}")
        if step.code:
            print("---- block ----\n" + step.code.rstrip())
        if output:
            print("---- output (last 60 lines) ----\n" + "\n".join(output.rstrip().split("\n")[-60:]))
        return 1

    try:
        for step in steps:
            kind, words = step.directive[0], step.directive[1:]
            print(f"==> README.md:{step.line}: {' '.join(step.directive)}", flush=True)
            if kind == "skip":
                skipped += 1
            elif kind == "run":
                started = time.monotonic()
                limit = float(option(words, "timeout", "300"))
                try:
                    done = subprocess.run(command(step, scratch), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, timeout=limit)
                except subprocess.TimeoutExpired as e:
                    return fail(step, f"still running after {limit:.0f} s", (e.output or b"").decode(errors="replace"))
                out = done.stdout.decode(errors="replace")
                sys.stdout.write(out)
                if done.returncode != 0:
                    return fail(step, f"exited {done.returncode}", out)
                expected = option(words, "expect")
                if expected is not None and expected not in out:
                    return fail(step, f"its output lacks {expected!r}", out)
                print(f"    ok ({time.monotonic() - started:.1f} s)")
                ran += 1
            elif kind == "background":
                name, needle = words[0], option(words, "until")
                proc = subprocess.Popen(command(step, scratch), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
                bg = Background(name, proc)
                backgrounds[name] = bg
                threading.Thread(target=bg.pump, daemon=True).start()
                started = time.monotonic()
                if not bg.wait_for(needle, float(option(words, "timeout", "120"))):
                    return fail(step, f"did not print {needle!r} (exit code {proc.poll()})", bg.text())
                sys.stdout.write(bg.text())
                print(f"    ok: printed {needle!r} after {time.monotonic() - started:.1f} s, left running")
                ran += 1
            elif kind == "wait":
                name, needle = words[0], words[1]
                if not backgrounds[name].wait_for(needle, float(option(words, "timeout", "30"))):
                    return fail(step, f"{name} did not print {needle!r}", backgrounds[name].text())
                print(f"    ok: {name} printed {needle!r}")
            elif kind == "stop":
                name, expected = words[0], option(words, "expect")
                bg = backgrounds.pop(name)
                code = bg.interrupt()
                if code not in (0, 130):
                    return fail(step, f"{name} did not stop cleanly on Ctrl-C (exit code {code})", bg.text())
                if expected is not None and expected not in bg.text():
                    return fail(step, f"{name} did not print {expected!r} when stopped", bg.text())
                print(f"    ok: {name} stopped (exit {code})")
            else:
                return fail(step, f"unknown directive {kind!r}")
    finally:
        for bg in backgrounds.values():
            bg.interrupt(timeout=30)
    print(f"README check: {ran} blocks ran, {skipped} skipped, all as the README says")
    return 0


if __name__ == "__main__":
    sys.exit(main())
