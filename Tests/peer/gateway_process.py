"""Start the real krea-gateway binary on a free loopback port for a peer test, and stop it."""
import os
import re
import subprocess
import sys
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
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.log.append(line)
            match = re.search(r"port=(\d+)", line)
            if "listening" in line and match:
                self.port = int(match.group(1))
                return
        self.stop()
        sys.exit("gateway did not start:\n" + "".join(self.log))

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
