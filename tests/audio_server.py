"""Pytest fixture: a private PulseAudio server with a null sink, for real audio I/O tests.

Use it from a test module with ``from tests.audio_server import pulse_server  # noqa: F401``,
or project-wide with ``pytest_plugins = ["tests.audio_server"]`` in the root conftest.

The session-scoped ``pulse_server`` fixture

* skips (with the reason) when ``pulseaudio``/``pactl``/``parec``, PortAudio (``libportaudio2``)
  or ALSA's pulse plugin (``libasound2-plugins``) is missing, or when the daemon will not start;
* starts ``pulseaudio`` in the foreground as a child of the test process, with a private runtime
  directory and socket, no default script, a null sink ``nullsink`` (whose monitor
  ``nullsink.monitor`` is the default source, so whatever is played can be recorded back);
* sets ``XDG_RUNTIME_DIR``, ``PULSE_SERVER``, ``PULSE_COOKIE`` and ``PULSE_CLIENTCONFIG`` in
  ``os.environ`` before PortAudio is initialized (if ``sounddevice`` was already imported,
  PortAudio is re-initialized so that it enumerates the server's devices);
* stops the daemon (and its helper) by PID at the end and restores the environment.

PortAudio 19.6 has no PulseAudio backend: it reaches the server through ALSA's ``pulse`` and
``default`` devices (libasound2-plugins).

A quirk handled here: an idle null sink renders in 2 s blocks, so a stream that connects to it
waits up to 2 s before it starts flowing. The fixture keeps one low-latency recording client
(``parec`` into /dev/null) on the monitor and suspends/resumes the sink once, so the sink runs
at a short block size for the whole session and streams start at once.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import pytest

SINK = "nullsink"
MONITOR = f"{SINK}.monitor"
_ENV_KEYS = ("XDG_RUNTIME_DIR", "PULSE_SERVER", "PULSE_COOKIE", "PULSE_CLIENTCONFIG")


@dataclass
class PulseServer:
    runtime_dir: str
    server: str          # value of PULSE_SERVER, e.g. "unix:/tmp/mm-pulse-x/pulse.sock"
    pid: int             # the daemon's PID
    sink: str = SINK
    monitor: str = MONITOR
    log_path: str = ""

    def pactl(self, *args: str, timeout: float = 5.0) -> str:
        """Run ``pactl`` against this server and return its stdout (raises on failure)."""
        return subprocess.run(["pactl", *args], env=_client_env(self.runtime_dir, self.server),
                              capture_output=True, text=True, timeout=timeout,
                              check=True).stdout

    def log_tail(self, n: int = 20) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def missing_requirement() -> str | None:
    """Why a real sound server cannot be used here, or ``None`` when everything is installed."""
    for tool, pkg in (("pulseaudio", "pulseaudio"), ("pactl", "pulseaudio-utils"),
                      ("parec", "pulseaudio-utils")):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install {pkg})"
    if ctypes.util.find_library("portaudio") is None:
        return "PortAudio library not found (apt-get install libportaudio2)"
    plugin = "alsa-lib/libasound_module_pcm_pulse.so"
    if not any(glob.glob(f"{d}/{plugin}") for d in ("/usr/lib/*", "/usr/lib", "/usr/lib64")):
        return ("ALSA pulse plugin not found (apt-get install libasound2-plugins); "
                "PortAudio reaches PulseAudio only through it")
    return None


def _client_env(runtime_dir: str, server: str) -> dict:
    env = dict(os.environ)
    env.update(_client_vars(runtime_dir, server))
    return env


def _client_vars(runtime_dir: str, server: str) -> dict:
    return {
        "XDG_RUNTIME_DIR": runtime_dir,
        "PULSE_SERVER": server,
        "PULSE_COOKIE": os.path.join(runtime_dir, "cookie"),
        "PULSE_CLIENTCONFIG": os.path.join(runtime_dir, "client.conf"),
    }


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: no orphaned daemon if pytest dies
    except Exception:
        pass


def _kill(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def _reinit_portaudio() -> None:
    """PortAudio lists devices once, at initialization: redo it if sounddevice is loaded."""
    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


def start_pulse_server(procs: list, startup_timeout: float = 10.0) -> PulseServer:
    """Start the daemon and its keep-alive client, appending them to ``procs`` as they start.

    On failure raises RuntimeError; the caller stops what ``procs`` holds."""
    runtime = tempfile.mkdtemp(prefix="mm-pulse-")
    os.chmod(runtime, 0o700)
    sock = os.path.join(runtime, "pulse.sock")
    server = f"unix:{sock}"
    with open(os.path.join(runtime, "client.conf"), "w") as f:
        f.write("autospawn = no\n")
    log_path = os.path.join(runtime, "pulseaudio.log")
    daemon_env = _client_env(runtime, server)
    daemon_env.pop("PULSE_SERVER")
    daemon_env.update(HOME=runtime, XDG_CONFIG_HOME=os.path.join(runtime, "config"),
                      XDG_STATE_HOME=os.path.join(runtime, "state"))
    cmd = ["pulseaudio", "-n", "--daemonize=no", "--use-pid-file=no", "--system=no",
           "--exit-idle-time=-1", "--disallow-exit", "--log-target=stderr",
           f"--load=module-native-protocol-unix auth-anonymous=1 socket={sock}",
           f"--load=module-null-sink sink_name={SINK}",
           "--load=module-always-sink"]
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT, env=daemon_env,
                                  preexec_fn=_die_with_parent)
    procs.append(daemon)
    srv = PulseServer(runtime, server, daemon.pid, log_path=log_path)
    deadline = time.monotonic() + startup_timeout
    while True:
        if daemon.poll() is not None:
            raise RuntimeError(f"pulseaudio exited with {daemon.returncode}: {srv.log_tail(5)}")
        if os.path.exists(sock):
            try:
                srv.pactl("info", timeout=2)
                break
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"pulseaudio did not answer within {startup_timeout:.0f} s: "
                               f"{srv.log_tail(5)}")
        time.sleep(0.05)
    srv.pactl("set-default-sink", SINK)
    srv.pactl("set-default-source", MONITOR)
    # Keep the null sink on a short block size (see the module docstring).
    keeper = subprocess.Popen(["parec", f"--device={MONITOR}", "--latency-msec=20", "--raw"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=_client_env(runtime, server),
                              preexec_fn=_die_with_parent)
    procs.append(keeper)
    deadline = time.monotonic() + 5
    while "parec" not in srv.pactl("list", "source-outputs"):
        if keeper.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("parec could not record from the null sink's monitor")
        time.sleep(0.02)
    srv.pactl("suspend-sink", SINK, "1")
    srv.pactl("suspend-sink", SINK, "0")
    return srv


def stop_pulse_server(procs: list, runtime_dir: str | None = None) -> None:
    """Stop the processes by PID (newest first) and remove the runtime directory."""
    for proc in reversed(procs):
        _kill(proc)
    if runtime_dir:
        shutil.rmtree(runtime_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pulse_server():
    """A running private PulseAudio server; the test process's environment points at it."""
    why = missing_requirement()
    if why:
        pytest.skip(f"no sound server: {why}")
    procs: list = []
    try:
        srv = start_pulse_server(procs)
    except Exception as exc:
        stop_pulse_server(procs)
        pytest.skip(f"could not start a PulseAudio null sink: {exc}")
    saved = {k: os.environ.get(k) for k in _ENV_KEYS}
    os.environ.update(_client_vars(srv.runtime_dir, srv.server))
    try:
        _reinit_portaudio()
        yield srv
    finally:
        stop_pulse_server(procs, srv.runtime_dir)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
