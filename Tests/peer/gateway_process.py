"""Start the real krea-gateway binary on a free loopback port for a peer test, and stop it."""
import os
import re
import subprocess
import sys
import threading
import time


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
