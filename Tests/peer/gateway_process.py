"""Start the real krea-gateway binary on a free loopback port for a peer test, and stop it."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

from peer_checks import free_port

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class GatewayProcess:
    """Runs `krea-gateway serve --config CONFIG` with GATEWAY_LISTEN=127.0.0.1:0 and reads the port
    back from its 'listening' log line. Bounded in time; always stopped by `stop()`."""

    def __init__(self, binary, config, extra_env=None, start_timeout=20.0):
        env = dict(os.environ)
        env["GATEWAY_LISTEN"] = "127.0.0.1:0"
        env.update(extra_env or {})
        self.process = subprocess.Popen(
            [binary, "serve", "--config", config],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
        self.port = None
        self.log = []
        threading.Thread(target=self._read_log, daemon=True).start()
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline and self.port is None and self.process.poll() is None:
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            sys.exit("gateway did not start:\n" + "".join(self.log))

    def _read_log(self):
        """Reads the log in the background (a blocking readline must never hang the test)."""
        for line in self.process.stderr:
            self.log.append(line)
            match = re.search(r"port=(\d+)|\"port\":\"(\d+)\"", line)
            if self.port is None and "listening" in line and match:
                self.port = int(match.group(1) or match.group(2))

    def stop(self, timeout=30.0):
        """SIGTERM, then wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


class DemoGateway:
    """`krea-gateway demo --step-seconds 0.05` on a copy of config/demo.yaml written to
    `config_path`, with the gateway and both simulators on free loopback ports; `edit` changes the
    YAML text before it is written. Its log is collected in `log` in the background; it is not
    waited for (each peer has its own test of readiness)."""

    def __init__(self, binary, config_path, edit=lambda text: text):
        self.port = free_port()
        text = open(os.path.join(ROOT, "config", "demo.yaml"), encoding="utf-8").read()
        text = text.replace("127.0.0.1:9101", "127.0.0.1:%d" % free_port()).replace("127.0.0.1:9102", "127.0.0.1:%d" % free_port())
        self.config = config_path
        with open(config_path, "w", encoding="utf-8") as file:
            file.write(edit(text))
        self.log = []
        self.process = subprocess.Popen([binary, "demo", "--config", self.config, "--step-seconds", "0.05"],
                                        env=dict(os.environ, GATEWAY_LISTEN="127.0.0.1:%d" % self.port),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
        threading.Thread(target=lambda: [self.log.append(line) for line in self.process.stderr], daemon=True).start()
        self.base = "http://127.0.0.1:%d" % self.port

    def stop(self):
        """SIGTERM, then up to 30 s; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()
