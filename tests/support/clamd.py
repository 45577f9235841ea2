"""A real clamd (Debian ``clamav-daemon``) for tests: its own clamd.conf, socket and a one-line signature
database holding the EICAR test signature (no freshclam, no internet).

The signature is an ``.ndb`` body signature on any file type at any offset, so the EICAR string is found
inside an otherwise valid PDF too (the upload checks only let PDF/JPEG/PNG reach the scanner).
Without clamd: the test is skipped locally, and fails in CI (``CI=true``), where ``.ci/run`` installs it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
SIGNATURE = "Deskbridge.Test.EICAR"
START_SECONDS = 60


def clamd_binary() -> str:
    """The clamd executable, or skip (fail in CI) when it is not installed."""
    found = shutil.which("clamd") or next((p for p in ("/usr/sbin/clamd", "/usr/local/sbin/clamd")
                                           if os.access(p, os.X_OK)), None)
    if found:
        return found
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("clamd is not installed; .ci/run installs Debian clamav-daemon")
    pytest.skip("clamd is not installed (apt-get install clamav-daemon)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ping(address: str) -> bool:
    from plugins.documents.antivirus import Scanner
    return Scanner(address, timeout=2).ping()


@contextlib.contextmanager
def running_clamd(folder: Path, tcp: bool = False, stream_max: str = "25M") -> Iterator[str]:
    """Start clamd in the foreground with only the test signature; yields its ``unix://`` or ``tcp://`` address."""
    binary = clamd_binary()
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "db"
    database.mkdir(exist_ok=True)
    (database / "deskbridge-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    if tcp:
        port = free_port()
        listen, address = f"TCPSocket {port}\nTCPAddr 127.0.0.1\n", f"tcp://127.0.0.1:{port}"
    else:
        listen, address = f"LocalSocket {folder / 'clamd.sock'}\n", f"unix://{folder / 'clamd.sock'}"
    conf = folder / "clamd.conf"
    conf.write_text(f"Foreground yes\n{listen}DatabaseDirectory {database}\nTemporaryDirectory {folder}\n"
                    f"LogFile {folder / 'clamd.log'}\nStreamMaxLength {stream_max}\nSelfCheck 0\n")
    process = subprocess.Popen([binary, "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _ping(address):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "clamd.log").read_text() if (folder / "clamd.log").exists() else ""
                raise RuntimeError(f"clamd did not start (exit {process.poll()}): {log[-800:]}")
            time.sleep(0.1)
        yield address
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
