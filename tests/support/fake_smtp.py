"""A tiny SMTP server for tests: enough of RFC 5321 for ``smtplib`` (EHLO, AUTH PLAIN/LOGIN,
MAIL, RCPT, DATA, RSET, NOOP, QUIT), recording each accepted message."""

from __future__ import annotations

import base64
import socketserver
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from typing import Any


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    auth: str | None

    @property
    def message(self) -> Message:
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class FakeSmtp:
    refused: set[str] = field(default_factory=set)  # RCPT answered 550
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: Any = None
    thread: threading.Thread | None = None

    def start(self) -> FakeSmtp:
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                fake._session(self.rfile, self.wfile)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def _session(self, rfile: Any, wfile: Any) -> None:
        def say(line: str) -> None:
            wfile.write(line.encode() + b"\r\n")
            wfile.flush()

        say("220 fake ESMTP")
        sender, rcpts, auth = "", [], None
        while True:
            raw = rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            arg = line[len(verb):].strip()
            if verb == "EHLO":
                wfile.write(b"250-fake\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
                wfile.flush()
            elif verb == "HELO":
                say("250 fake")
            elif verb == "AUTH":
                mech, _, rest = arg.partition(" ")
                if mech.upper() == "PLAIN":
                    if not rest:
                        say("334 ")
                        rest = rfile.readline().decode().strip()
                    parts = base64.b64decode(rest).split(b"\0")
                    auth = f"{parts[1].decode()}:{parts[2].decode()}"
                else:
                    say("334 VXNlcm5hbWU6")
                    user = base64.b64decode(rfile.readline().strip()).decode()
                    say("334 UGFzc3dvcmQ6")
                    pw = base64.b64decode(rfile.readline().strip()).decode()
                    auth = f"{user}:{pw}"
                say("235 2.7.0 Authentication successful")
            elif verb == "MAIL":
                sender, rcpts = arg.split(":", 1)[1].split()[0].strip("<>"), []
                say("250 OK")
            elif verb == "RCPT":
                addr = arg.split(":", 1)[1].split()[0].strip("<>")
                if addr in self.refused:
                    say("550 5.1.1 mailbox unavailable")
                else:
                    rcpts.append(addr)
                    say("250 OK")
            elif verb == "DATA":
                say("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while True:
                    chunk = rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                with self.lock:
                    self.messages.append(Received(sender, list(rcpts), b"".join(chunks), auth))
                say("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                say("250 OK")
            elif verb == "QUIT":
                say("221 Bye")
                return
            else:
                say("502 not implemented")
