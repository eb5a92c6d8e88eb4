"""A cupsd of the tests' own, with receipt queues whose printer is a file.

Why not the machine's CUPS: the tests pause, refuse and stop queues, stop and hang the
daemon itself, and must not print on a real printer or change anyone's queues. So the
tests start a private scheduler that shares nothing with a system one:

- its configuration, spool, cache, state and logs live in a folder of ours
  (`cupsd -c DIR/cupsd.conf -s DIR/cups-files.conf`);
- it listens only on a Unix socket in that folder, and clients find it through
  CUPS_SERVER (libcups reads it for every request, so setting it per test is enough);
- its printers write to files (`FileDevice Yes`, device URI file:///...);
- its printcap goes into the folder too: an empty `Printcap` (which older CUPS read as
  "none") is refused by CUPS from 2.4.2-3+deb12u11 on ("Missing value for Printcap"),
  and the default would overwrite the system's /run/cups/printcap.

A raw queue (no PPD) writes nothing to a file device: with no filter to run, cupsd
marks the job completed and opens no output. So each queue gets a small PPD whose one
filter is CUPS's pass-through `gziptoany`: what lp sent is what lands in the file,
the way a PDF-capable printer would get it. cupsd runs filters as the `lp` user, which
must reach the spool: the folder is mode 755.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

# Debian keeps CUPS's programs in /usr/lib/cups, Fedora and others in /usr/libexec/cups.
SERVER_BINS = (Path("/usr/lib/cups"), Path("/usr/libexec/cups"))
# cupsd, lpadmin and cupsenable live in sbin, which a non-root PATH may lack.
SBIN_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
ADMIN_COMMANDS = ("cupsd", "lpadmin", "cupsenable", "cupsdisable", "cupsaccept", "cupsreject")

# An 80 mm roll that takes PDF as it is. cupsd adds "application/pdf -> this printer"
# through `gziptoany` (a copy, unless the job is gzipped).
RECEIPT_PPD = """*PPD-Adobe: "4.3"
*FormatVersion: "4.3"
*FileVersion: "1.0"
*LanguageVersion: English
*LanguageEncoding: ISOLatin1
*PCFileName: "SPILNORC.PPD"
*Manufacturer: "Spilno"
*Product: "(Spilno test receipt printer)"
*ModelName: "Spilno test receipt printer"
*ShortNickName: "Spilno test receipt printer"
*NickName: "Spilno test receipt printer, PDF to file"
*PSVersion: "(3010.000) 0"
*LanguageLevel: "3"
*ColorDevice: False
*DefaultColorSpace: Gray
*FileSystem: False
*Throughput: "1"
*LandscapeOrientation: Plus90
*TTRasterizer: Type42
*cupsVersion: 2.4
*cupsModelNumber: 0
*cupsManualCopies: True
*cupsFilter: "application/pdf 0 gziptoany"
*OpenUI *PageSize/Media Size: PickOne
*OrderDependency: 10 AnySetup *PageSize
*DefaultPageSize: X80MMY200MM
*PageSize X80MMY200MM/80 x 200 mm: "<</PageSize[227 567]/ImagingBBox null>>setpagedevice"
*CloseUI: *PageSize
*OpenUI *PageRegion/Media Size: PickOne
*OrderDependency: 10 AnySetup *PageRegion
*DefaultPageRegion: X80MMY200MM
*PageRegion X80MMY200MM/80 x 200 mm: "<</PageSize[227 567]/ImagingBBox null>>setpagedevice"
*CloseUI: *PageRegion
*DefaultImageableArea: X80MMY200MM
*ImageableArea X80MMY200MM/80 x 200 mm: "0 0 227 567"
*DefaultPaperDimension: X80MMY200MM
*PaperDimension X80MMY200MM/80 x 200 mm: "227 567"
"""

# Anyone may do anything: the only client is the test, through a socket in its folder.
CUPSD_CONF = """LogLevel warn
Listen {socket}
Browsing No
WebInterface No
DefaultAuthType None
MaxJobs 0
PreserveJobFiles No
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""

CUPS_FILES_CONF = """ServerRoot {root}/etc
ServerBin {server_bin}
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/state
TempDir {root}/tmp
AccessLog {root}/log/access_log
ErrorLog {root}/log/error_log
PageLog {root}/log/page_log
FileDevice Yes
Printcap {root}/state/printcap
{user}"""


def server_bin() -> Path | None:
    return next((d for d in SERVER_BINS if (d / "filter" / "gziptoany").is_file()), None)


def missing_parts() -> str | None:
    """Why a private CUPS cannot run here, or None when it can."""
    for command in ("lp", "lpstat"):
        if shutil.which(command) is None:
            return f"{command} is not installed (Debian: apt-get install cups-client)"
    for command in ADMIN_COMMANDS:
        if shutil.which(command, path=SBIN_PATH) is None:
            package = "cups-client" if command != "cupsd" else "cups-daemon"
            return f"{command} is not installed (Debian: apt-get install {package})"
    if server_bin() is None:
        return "CUPS's gziptoany filter is not installed (Debian: apt-get install cups-core-drivers)"
    return None


class PrivateCupsd:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.socket_path = workdir / "cups.sock"
        self.log_path = workdir / "log" / "error_log"
        self.ppd_path = workdir / "receipt.ppd"
        self._process: subprocess.Popen | None = None
        self._paused = False
        self._queues = 0
        # cupsd sets the owner and mode of these itself, but will not make them.
        for folder in ("etc", "log", "out", "spool", "cache", "state", "tmp"):
            (workdir / folder).mkdir(parents=True, exist_ok=True)
        workdir.chmod(0o755)
        # As root cupsd runs filters as "lp"; as anyone else, as that user.
        user = "" if os.geteuid() == 0 else f"User {os.getuid()}\nGroup {os.getgid()}\n"
        (workdir / "etc" / "cupsd.conf").write_text(CUPSD_CONF.format(socket=self.socket_path))
        (workdir / "etc" / "cups-files.conf").write_text(
            CUPS_FILES_CONF.format(root=workdir, server_bin=server_bin(), user=user)
        )
        self.ppd_path.write_text(RECEIPT_PPD)

    @property
    def env(self) -> dict[str, str]:
        """What a CUPS client needs in its environment to talk to this scheduler."""
        return {"CUPS_SERVER": str(self.socket_path)}

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 5.0) -> None:
        if self.running:
            self.resume()
            return
        self.socket_path.unlink(missing_ok=True)
        etc = self.workdir / "etc"
        command = [
            shutil.which("cupsd", path=SBIN_PATH) or "cupsd",
            "-f",  # foreground: the process we hold is the daemon
            "-c", str(etc / "cupsd.conf"),
            "-s", str(etc / "cups-files.conf"),
        ]  # fmt: skip
        with (self.workdir / "log" / "cupsd.out").open("ab") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"cupsd exited at start: {self.log_tail()}")
            if self.socket_path.exists() and "scheduler is running" in self.run("lpstat", "-r").stdout:
                return
            time.sleep(0.02)
        raise RuntimeError(f"cupsd did not open {self.socket_path} in {timeout_s} s: {self.log_tail()}")

    def stop(self) -> None:
        if self._process is not None:
            self.resume()  # a stopped process would not see SIGTERM until continued
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
            self._process = None

    def hang(self) -> None:
        """Freeze the daemon (SIGSTOP): its socket still takes connections, nobody answers."""
        if self.running and not self._paused:
            self._process.send_signal(signal.SIGSTOP)
            self._paused = True

    def resume(self) -> None:
        if self.running and self._paused:
            self._process.send_signal(signal.SIGCONT)
        self._paused = False

    def run(self, *command: str, check: bool = False) -> subprocess.CompletedProcess:
        """A CUPS client command against this scheduler, in English."""
        env = {**os.environ, **self.env, "LC_ALL": "C.UTF-8", "PATH": SBIN_PATH}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=10, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout} {done.stderr}")
        return done

    def add_queue(self, name: str) -> Path:
        """A new, enabled queue printing into a file of its own; the file's path."""
        self._queues += 1
        output = self.workdir / "out" / f"{self._queues}.pdf"
        self.run("lpadmin", "-p", name, "-v", f"file://{output}", "-P", str(self.ppd_path), "-E", check=True)
        return output

    def jobs(self, queue: str, which: str = "not-completed") -> list[str]:
        """Job ids on `queue`, e.g. ["receipts-3"]: `which` is "not-completed" or "completed"."""
        # All queues' jobs: `lpstat -o QUEUE` finds none on a queue named in Cyrillic,
        # whose job ids it prints percent-encoded.
        done = self.run("lpstat", "-W", which, "-o")
        ids = [unquote(line.split()[0]) for line in done.stdout.splitlines() if line.strip()]
        return [job for job in ids if job.rpartition("-")[0] == queue]

    def wait_for_job(self, job_id: str, timeout_s: float = 5.0) -> bool:
        """True once CUPS counts `job_id` as completed (its output file is written then)."""
        queue = job_id.rpartition("-")[0]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if job_id in self.jobs(queue, "completed"):
                return True
            time.sleep(0.02)
        return False

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-800:]
        except OSError:
            return "(no error_log)"


@contextmanager
def private_cupsd() -> Iterator[PrivateCupsd]:
    """A daemon in a fresh folder (not started), stopped and removed afterwards. Not under
    pytest's tmp_path, whose parents are mode 700: the `lp` user that runs CUPS filters
    must be able to walk into the spool."""
    daemon = PrivateCupsd(Path(tempfile.mkdtemp(prefix="spilno-cupsd-")))
    try:
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(daemon.workdir, ignore_errors=True)
