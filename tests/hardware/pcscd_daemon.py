"""A pcscd of the tests' own, with a vpcd reader on a port of its own.

Why not the machine's pcscd: the tests stop and restart the daemon ("the PC/SC service is
down" is a state they check), and other people's programs on this machine may be using a
system pcscd. So the tests start a private one that shares nothing with it:

- its client socket is ours: pcscd takes a listening socket handed over the way systemd
  does it (LISTEN_FDS=1, fd 3), and clients find it through PCSCLITE_CSOCK_NAME;
- its reader list is ours (`pcscd -c DIR`): one vpcd reader on a free TCP port;
- its /run/pcscd (pid file) is a private tmpfs in a mount namespace (`unshare -m`)
  when we may make one (root); an exiting pcscd deletes /run/pcscd/pcscd.pid even when
  socket-activated, which would otherwise break a system pcscd's bookkeeping. Without
  that privilege the daemon runs only when no other pcscd does.

libpcsclite reads PCSCLITE_CSOCK_NAME once per process, at the first PC/SC call, so
`use_in_this_process()` must come before any reader is polled.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER = "Virtual PCD 00 00"  # vpcd names its two slots "... 00 00" and "... 00 01"


def missing_parts() -> str | None:
    """Why the real PC/SC stack cannot be exercised here, or None when it can."""
    if shutil.which("pcscd") is None:
        return "pcscd is not installed (Debian: apt-get install pcscd)"
    if not VPCD_DRIVER.exists():
        return f"vsmartcard's vpcd driver is not installed ({VPCD_DRIVER}; apt-get install vsmartcard-vpcd)"
    try:
        import smartcard.scard  # noqa: F401
    except ImportError as exc:
        return f"pyscard is not importable: {exc}"
    return None


def free_port_pair() -> int:
    """A TCP port p with p+1 also free: vpcd listens on CHANNELID and CHANNELID+1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 65535 and _port_free(port + 1):
            return port
    raise RuntimeError("no free pair of TCP ports for vpcd")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("0.0.0.0", port))  # vpcd binds INADDR_ANY
        except OSError:
            return False
    return True


class PrivatePcscd:
    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.socket_path = self.socket_path_for(workdir)
        self.port = port or free_port_pair()
        self.reader = READER
        self.log_path = workdir / "pcscd.log"
        self._process: subprocess.Popen | None = None
        self._isolated = os.geteuid() == 0 and shutil.which("unshare") is not None
        conf = workdir / "reader.conf.d"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x{self.port:04X}\n'
            f"LIBPATH      {VPCD_DRIVER}\nCHANNELID    0x{self.port:04X}\n"
        )
        self._conf = conf

    @staticmethod
    def socket_path_for(workdir: Path) -> Path:
        return workdir / "pcscd.comm"

    def use_in_this_process(self) -> None:
        os.environ["PCSCLITE_CSOCK_NAME"] = str(self.socket_path)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 5.0) -> None:
        if self.running:
            return
        if not self._isolated and (other := running_system_pcscd()):
            raise RuntimeError(
                f"another pcscd (pid {other}) is running and a private /run/pcscd needs root;"
                " stop it or run the tests as root"
            )
        self.socket_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        listener.listen(32)
        self.socket_path.chmod(0o666)
        # `sh` sets LISTEN_PID to its own pid, then `exec` keeps it for pcscd; the
        # socket arrives as stdin and moves to fd 3, where sd_listen_fds looks.
        daemon = f'LISTEN_PID=$$ LISTEN_FDS=1 exec pcscd --foreground -c "{self._conf}" 3<&0 0</dev/null'
        if self._isolated:
            Path("/run/pcscd").mkdir(exist_ok=True)
            command = ["unshare", "-m", "sh", "-c", f"mount -t tmpfs tmpfs /run/pcscd && {daemon}"]
        else:
            command = ["sh", "-c", daemon]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(command, stdin=listener.fileno(), stdout=log, stderr=log)
        # Our copy must go: while any process holds the listener, clients of a dead
        # daemon would queue on it instead of hearing "no service".
        listener.close()
        self._wait_until_listening(timeout_s)

    def _wait_until_listening(self, timeout_s: float) -> None:
        """vpcd's port opens once pcscd has loaded the reader: the daemon is ready then.
        Probing with connect() would look like a card, so look at the kernel's table."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"pcscd exited at start: {self.log_path.read_text()[-800:]}")
            if _tcp_listening(self.port):
                return
            time.sleep(0.02)
        raise RuntimeError(f"pcscd did not open vpcd's port {self.port} in {timeout_s} s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
            self._process = None
        self.socket_path.unlink(missing_ok=True)


def running_system_pcscd() -> int | None:
    """The pid of a pcscd owning /run/pcscd, if one is alive."""
    try:
        pid = int(Path("/run/pcscd/pcscd.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _tcp_listening(port: int) -> bool:
    wanted = f":{port:04X} "
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # local_address is "ADDR:PORT" in hex; state 0A is LISTEN
            if (fields[1] + " ").endswith(wanted) and fields[3] == "0A":
                return True
    return False
