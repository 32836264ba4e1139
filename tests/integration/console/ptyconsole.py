# SPDX-License-Identifier: GPL-2.0-or-later
"""Drive `camgate console` over a pseudo-terminal the way an installer at
a serial terminal would: typed character by character with pauses,
backspaces, Ctrl-C, Ctrl-D, and a hang-up (the terminal closing).
Built on os/pty/select only, so no pexpect is needed."""

import os
import pty
import re
import select
import signal
import time

CTRL_C = "\x03"
CTRL_D = "\x04"
BACKSPACE = "\x7f"


class Timeout(AssertionError):
    pass


class PtyConsole:
    def __init__(self, argv, env, log_path, typing_delay=0.002):
        self.log = open(log_path, "ab")
        self.log.write(("\n$ %s\n" % " ".join(map(str, argv))).encode())
        pid, fd = pty.fork()
        if pid == 0:  # the child: the pty is its controlling terminal
            try:
                os.execve(str(argv[0]), [str(a) for a in argv], env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.buf = ""      # text not yet consumed by expect()
        self.seen = ""     # everything read, for assertions and logs
        self.delay = typing_delay
        self.status = None
        self.attached = False

    @classmethod
    def attach(cls, fd, pid, log_path, typing_delay=0.002):
        """Drive a pty master whose slave another process opened itself
        (`camgate console --tty /dev/pts/N`, a serial line stand-in)."""
        self = cls.__new__(cls)
        self.log = open(log_path, "ab")
        self.pid, self.fd = pid, fd
        self.buf = self.seen = ""
        self.delay = typing_delay
        self.status = None
        self.attached = True
        return self

    # -- output

    def _read(self, timeout):
        if self.fd is None:
            return False
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: no one holds the slave side open
            data = b""
        if not data and self.attached:
            time.sleep(0.05)  # between two sessions on the line
            return True
        if not data:
            return False
        self.log.write(data)
        self.log.flush()
        text = data.decode("utf-8", "replace")
        self.buf += text
        self.seen += text
        return True

    def expect(self, pattern, timeout=15):
        """Wait for regex @pattern in the output after the last match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.2)):
                m = rx.search(self.buf)
                if m:
                    self.buf = self.buf[m.end():]
                    return m
                raise Timeout("no %r within %d s; last output:\n%s"
                              % (pattern, timeout, self.seen[-1500:]))

    def drain(self, secs=0.3):
        end = time.monotonic() + secs
        while time.monotonic() < end and self._read(0.05):
            pass
        out, self.buf = self.buf, ""
        return out

    # -- input

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        while data:
            n = os.write(self.fd, data)
            data = data[n:]

    def type(self, text, delay=None):
        """One character at a time, as a person (or a 115200 line) does."""
        d = self.delay if delay is None else delay
        for ch in text:
            self.send(ch)
            if d:
                time.sleep(d)

    def line(self, text, delay=None):
        self.type(text, delay)
        self.send("\r")

    PROMPT = r"[\r\n][a-z0-9._-]+\*?> "

    def cmd(self, text, prompt=PROMPT, timeout=30):
        """Type a command and return its output up to the next prompt
        (a prompt starts a line: "-> " inside the output is no prompt)."""
        self.line(text)
        m = self.expect(r"(?s)(.*?)" + prompt, timeout)
        return m.group(1)

    # -- the end

    def hangup(self):
        """The terminal goes away: close the master side."""
        os.close(self.fd)
        self.fd = None

    def wait(self, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                return os.waitstatus_to_exitcode(status)
            if self.fd is not None:
                self._read(0.1)
            else:
                time.sleep(0.05)
        raise Timeout("console did not exit within %d s" % timeout)

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.log.close()
