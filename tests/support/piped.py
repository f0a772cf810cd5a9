"""Run the installed `bss` script as a shell pipe would: a subprocess with stdout and stderr piped."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

BSS = Path(sys.executable).with_name("bss")
ESC = "\x1b"
# Variables that would force colour, a width or an encoding on the child: each test says what it wants.
TERMINAL_HINTS = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR", "PYTHONIOENCODING", "COLUMNS")


async def run_bss(*args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    """Run `bss ARGS…` piped, with this process's settings (API URL, tokens) plus `env`; bytes out."""
    child_env = {k: v for k, v in os.environ.items() if k not in TERMINAL_HINTS} | env
    return await asyncio.to_thread(subprocess.run, [str(BSS), *args], capture_output=True, timeout=180,
                                   env=child_env, check=False)


def assert_plain(result: subprocess.CompletedProcess[bytes]) -> str:
    """Assert neither stream carries an ANSI escape; return stdout as text."""
    out, err = result.stdout.decode(), result.stderr.decode()
    assert ESC not in out and ESC not in err, (out, err)
    return out
