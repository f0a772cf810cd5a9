"""Pid files name the process that was started, whatever the wall clock does; dead children are reaped."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from cli.stack.procs import live_process, pid_path, read_record, reap, wait_all, write_record

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


@pytest.fixture
def child() -> Iterator[subprocess.Popen]:
    popen = subprocess.Popen(SLEEPER)
    yield popen
    popen.kill()
    popen.wait()


def test_a_wall_clock_step_leaves_the_recorded_process_recognised(tmp_path: Path, child: subprocess.Popen,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    record = write_record(tmp_path, "temporal", child.pid, SLEEPER)
    # A VM restored from a snapshot steps its wall clock by the pause: the kernel's boot time moves with it.
    from psutil import _pslinux

    booted = _pslinux.boot_time()
    monkeypatch.setattr(_pslinux, "boot_time", lambda: booted + 37.0)
    assert psutil.Process(child.pid).create_time() == pytest.approx(record.create_time + 37.0, abs=0.05)

    proc = live_process(read_record(tmp_path, "temporal"))

    assert proc is not None and proc.pid == child.pid


def test_a_reused_pid_is_not_the_recorded_process(tmp_path: Path, child: subprocess.Popen) -> None:
    write_record(tmp_path, "api", child.pid, SLEEPER)
    lines = pid_path(tmp_path, "api").read_text().splitlines()
    lines[3] = repr(float(lines[3]) - 5.0)  # what a process started 5 s earlier under that pid recorded
    pid_path(tmp_path, "api").write_text("\n".join(lines) + "\n")

    assert live_process(read_record(tmp_path, "api")) is None


def test_a_three_line_pid_file_from_before_is_still_read_on_the_wall_clock(tmp_path: Path,
                                                                          child: subprocess.Popen) -> None:
    create_time = psutil.Process(child.pid).create_time()
    pid_path(tmp_path, "worker").write_text(f"{child.pid}\n{create_time!r}\n[]\n")

    assert live_process(read_record(tmp_path, "worker")) is not None
    pid_path(tmp_path, "worker").write_text(f"{child.pid}\n{create_time - 5.0!r}\n[]\n")
    assert live_process(read_record(tmp_path, "worker")) is None


def test_a_killed_child_is_reaped_so_its_pid_is_free() -> None:
    popen = subprocess.Popen(SLEEPER)
    proc = psutil.Process(popen.pid)
    proc.send_signal(signal.SIGKILL)
    assert wait_all([proc], 10.0) == []
    assert psutil.pid_exists(popen.pid)  # a zombie until its parent collects it

    reap([proc])

    assert not psutil.pid_exists(popen.pid)
