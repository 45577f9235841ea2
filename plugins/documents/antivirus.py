"""Antivirus scan of uploads through clamd's INSTREAM command, before anything is stored.

The protocol is small enough to speak directly (the maintained Python client, ``clamav-client``, is GPL-2.0,
which an Apache-2.0 project cannot ship): ``zINSTREAM\\0``, then the bytes as chunks each prefixed by its
length as a 4-byte big-endian integer, then a zero-length chunk; clamd answers one NUL-terminated line:
``stream: OK``, ``stream: <signature> FOUND`` or ``<reason> ERROR`` (e.g. ``INSTREAM size limit exceeded``).

``Scanner.scan`` returns None for a clean file and the signature name for an infected one; anything else
(clamd unreachable, timed out, answering an error or nonsense) raises ``ScannerUnavailable`` so the caller
can fail closed.
"""

from __future__ import annotations

import re
import socket
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

from hub.errors import DeskbridgeError
from plugins.documents.uploads import UploadRejected

CHUNK = 64 * 1024
MAX_REPLY = 4096
_FOUND = re.compile(r"^stream: (?P<name>.+) FOUND$")


class ScannerUnavailable(DeskbridgeError):
    """clamd could not give a verdict (down, timed out, refused the stream); the upload must not be stored."""


def parse_address(value: str) -> tuple[str, str | tuple[str, int]]:
    """``unix:///path/clamd.sock`` → ``("unix", "/path/clamd.sock")``; ``tcp://host:port`` → ``("tcp", (host,
    port))``. Raises ValueError with a readable reason (shown by ``deskbridge config check``)."""
    parts = urlsplit(value.strip())
    if parts.scheme == "unix":
        path = (parts.netloc + parts.path) if parts.netloc else parts.path
        if not path.startswith("/"):
            raise ValueError(f"{value!r}: a unix socket needs an absolute path (unix:///run/clamav/clamd.ctl)")
        return "unix", path
    if parts.scheme == "tcp":
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None or parts.path not in ("", "/"):
            raise ValueError(f"{value!r}: expected tcp://host:port (e.g. tcp://127.0.0.1:3310)")
        return "tcp", (parts.hostname, port)
    raise ValueError(f"{value!r}: expected unix:///path/clamd.sock or tcp://host:port")


@dataclass(frozen=True)
class Scanner:
    """One clamd endpoint; ``timeout`` (seconds) bounds connecting and each read/write."""

    address: str
    timeout: float = 10.0

    def _connect(self) -> socket.socket:
        kind, where = parse_address(self.address)
        family = socket.AF_UNIX if kind == "unix" else socket.AF_INET6 if ":" in str(where[0]) else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(where)
        except OSError as exc:
            sock.close()
            raise ScannerUnavailable(f"clamd at {self.address} is unreachable ({exc.strerror or exc})") from None
        return sock

    def _exchange(self, data: bytes) -> str:
        sock = self._connect()
        try:
            sock.sendall(b"zINSTREAM\0")
            view = memoryview(data)
            for start in range(0, len(view), CHUNK):
                chunk = view[start:start + CHUNK]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while b"\0" not in reply and len(reply) < MAX_REPLY:
                got = sock.recv(MAX_REPLY)
                if not got:
                    break
                reply += got
        except (OSError, TimeoutError) as exc:
            # clamd closes the stream early when it exceeds StreamMaxLength; the reply may still be readable.
            raise ScannerUnavailable(f"clamd at {self.address} did not answer ({type(exc).__name__})") from None
        finally:
            sock.close()
        return reply.split(b"\0", 1)[0].decode("utf-8", "replace").strip()

    def scan(self, data: bytes) -> str | None:
        """None when clamd says the bytes are clean; the signature name when it found malware."""
        reply = self._exchange(data)
        if reply == "stream: OK":
            return None
        found = _FOUND.match(reply)
        if found:
            return found.group("name")
        raise ScannerUnavailable(f"clamd at {self.address} gave no verdict: {reply[:200] or '(no answer)'}")

    def ping(self) -> bool:
        """True when clamd answers ``PONG`` (used by the start-up line, ``UploadScan.status``)."""
        try:
            sock = self._connect()
        except ScannerUnavailable:
            return False
        try:
            sock.sendall(b"zPING\0")
            return sock.recv(64).split(b"\0", 1)[0] == b"PONG"
        except OSError:
            return False
        finally:
            sock.close()


class Infected(UploadRejected):
    """clamd found malware: refused with 422, never stored."""

    def __init__(self, signature: str):
        super().__init__(f"malware was detected in this file ({signature})", 422)
        self.signature = signature


@dataclass(frozen=True)
class UploadScan:
    """The upload policy around a scanner: infected → ``Infected``; no verdict → ``ScannerUnavailable`` when
    ``required``, else the upload goes on unscanned (``check`` says so and the caller audits it)."""

    scanner: Scanner
    required: bool = True

    def check(self, data: bytes) -> str:
        """``"clean"`` or ``"unscanned: <reason>"``; raises ``Infected`` or ``ScannerUnavailable``."""
        try:
            signature = self.scanner.scan(data)
        except ScannerUnavailable as exc:
            if self.required:
                raise
            return f"unscanned: {exc}"
        if signature:
            raise Infected(signature)
        return "clean"

    def status(self, probe_seconds: float = 3.0) -> tuple[bool, str]:
        """(clamd answers, one line saying what uploads meet now) — logged at start-up so an admin sees it."""
        where = f"antivirus: clamd at {self.scanner.address}"
        if Scanner(self.scanner.address, min(self.scanner.timeout, probe_seconds)).ping():
            return True, f"{where} answers: every upload is scanned before it is stored"
        if self.required:
            return False, (f"{where} is not reachable → uploads are refused (503, nothing stored) until it answers "
                           "(required: true)")
        return False, (f"{where} is not reachable → uploads are stored unscanned until it answers, each audited "
                       "with scan \"unscanned: …\" (required: false)")
