"""Pid files name the process that was started, whatever the wall clock does; dead children are reaped."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from cli.chaos.faults import REAP_TIMEOUT_S, stop
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


def test_a_chaos_kill_of_a_threaded_child_frees_its_pid_at_once() -> None:
    # Threads, as the worker, the API and Temporal have: the leader shows as a zombie before the
    # others are gone, and a single waitpid then collects nothing (chaos waited its 10 s bound).
    threaded = [sys.executable, "-c", ("import threading, time\n"
                                       "for _ in range(8): threading.Thread(target=time.sleep, args=(60,), "
                                       "daemon=True).start()\n"
                                       "print('up', flush=True); time.sleep(60)")]
    popen = subprocess.Popen(threaded, stdout=subprocess.PIPE)
    assert popen.stdout is not None and popen.stdout.readline() == b"up\n"
    began = time.monotonic()

    stop(psutil.Process(popen.pid), signal.SIGKILL)

    assert not psutil.pid_exists(popen.pid)
    assert time.monotonic() - began < REAP_TIMEOUT_S / 2
