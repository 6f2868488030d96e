"""A copy of the whole suite on this machine, started by scripts/run.sh on ports of its own.

Used by the scripts that drive the running suite from outside (scripts/chaos.py): where it
lives, how to start, stop and restart its parts, and how to ask it things.
"""
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ["intake", "planning", "volunteers", "notifications", "reporting"]


class LocalSuite:
    def __init__(self, name: str, pgport: int, port_base: int, webhook_port: int) -> None:
        self.local = ROOT / ".local" / name
        self.pgport = pgport
        self.ports = {service: port_base + index for index, service in enumerate(SERVICES)}
        self.webhook_port = webhook_port
        self.env = dict(
            os.environ,
            SAMENPLAN_LOCAL=str(self.local),
            SAMENPLAN_PGPORT=str(pgport),
            SAMENPLAN_PORT_BASE=str(port_base),
            SAMENPLAN_WEBHOOK_PORT=str(webhook_port),
            SAMENPLAN_NO_BUILD="1",
            LOG_LEVEL="notice",
        )
        self.database_url = f"postgres://postgres@127.0.0.1:{pgport}/samenplan"

    # -- the whole suite -----------------------------------------------------------------

    def clear(self) -> None:
        """Stops an earlier copy and throws its data away."""
        if self.local.exists():
            self.stop()
            subprocess.run(["rm", "-rf", str(self.local)], check=True)
            # the server data kept outside the checkout when `postgres` may not enter it
            self.bash(f'rm -rf "$(pg_data "$LOCAL/pg")"')

    def start_fresh(self, build: bool = False) -> None:
        """Stops an earlier copy, throws its data away and starts anew; waits until ready.
        Builds first only when `build` (the test command has built already)."""
        self.clear()
        environment = {name: value for name, value in self.env.items() if not (build and name == "SAMENPLAN_NO_BUILD")}
        subprocess.run([str(ROOT / "scripts" / "run.sh")], env=environment, check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run([str(ROOT / "scripts" / "run.sh"), "stop"], env=self.env, stdout=subprocess.DEVNULL)

    def bash(self, script: str) -> None:
        subprocess.run(["bash", "-c", f'source "{ROOT}/scripts/common.sh"; {script}'], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def bootstrap(self) -> str:
        return (self.local / "kafka.bootstrap").read_text().strip()

    @property
    def jwt_secret(self) -> str:
        return (self.local / "jwt-secret").read_text().strip()

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    # -- its parts -----------------------------------------------------------------------

    def pid_of(self, name: str) -> int:
        return int((self.local / "pids" / f"{name}.pid").read_text())

    def kill(self, service: str) -> None:
        try:
            os.kill(self.pid_of(service), signal.SIGKILL)
        except ProcessLookupError:
            pass

    def start_service(self, service: str) -> None:
        subprocess.run([str(ROOT / "scripts" / "run.sh"), "start-service", service], env=self.env, check=True)

    def command_of(self, service: str) -> tuple[str, dict[str, str]]:
        """The executable and the environment the running `service` was started with."""
        pid = self.pid_of(service)
        environment = dict(
            entry.split("=", 1) for entry in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in entry)
        return os.readlink(f"/proc/{pid}/exe"), environment

    def start_replica(self, service: str, port: int) -> subprocess.Popen:
        """A second process of a running service, with its environment and another HTTP port."""
        binary, environment = self.command_of(service)
        environment["HTTP_PORT"] = str(port)
        log = open(self.local / "logs" / f"{service}-replica.log", "a")
        return subprocess.Popen([binary], env=environment, stdout=log, stderr=log)

    def postgres(self, action: str) -> None:
        self.bash(f'{"start_postgres" if action == "start" else "stop_postgres"} "$LOCAL/pg"')

    def broker(self, up: bool) -> None:
        os.kill(self.pid_of("kafka-dev-broker"), signal.SIGUSR2 if up else signal.SIGUSR1)

    def broker_alive(self) -> bool:
        """Whether the dev broker process still runs (a zombie counts as gone)."""
        try:
            status = Path(f"/proc/{self.pid_of('kafka-dev-broker')}/status").read_text()
        except (OSError, ValueError):
            return False
        return "\nState:\tZ" not in status

    # -- asking it -----------------------------------------------------------------------

    def ready(self, port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=3) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def all_ready(self) -> bool:
        return all(self.ready(port) for port in self.ports.values())


def wait_for(condition, timeout: float, interval: float = 0.05) -> float | None:
    """Seconds until `condition()` held, or None when `timeout` passed first."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(interval)
    return None

