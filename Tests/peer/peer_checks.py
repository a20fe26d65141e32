"""What every peer script shares: counted checks and a free loopback port."""
import socket

results = {"passed": 0, "failed": 0}


def check(name, condition, detail=""):
    """Counts and prints one check; returns the condition."""
    results["passed" if condition else "failed"] += 1
    print(("ok   " if condition else "FAIL ") + name + ("" if condition else " " + str(detail)), flush=True)
    return condition


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
