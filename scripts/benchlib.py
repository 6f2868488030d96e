"""What the benchmarks share: a PostgreSQL of their own, the dev broker, a service in a
release build, tokens, and pgbench's figures. Each benchmark gives its own folder and ports,
so they never touch the suite started by scripts/run.sh."""
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / ".build" / "release"
SECRET = "bench-secret-bench-secret-bench-secret"


def psql_binary() -> str:
    """The newest PostgreSQL's own psql. Debian's /usr/bin/psql is a Perl wrapper that costs
    tens of milliseconds of CPU per call; a benchmark polling through it took a fifth of this
    2-core machine away from the services it measured."""
    versions = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin/psql") if p.parent.parent.name.isdigit()),
                      key=lambda p: int(p.parent.parent.name))
    return str(versions[-1]) if versions else "psql"


PSQL = psql_binary()


class Bench:
    def __init__(self, name: str, pgport: int):
        self.local = ROOT / ".local" / name
        self.pgport = pgport
        self.admin_url = f"postgres://postgres@127.0.0.1:{pgport}/postgres"
        self.db_url = f"postgres://postgres@127.0.0.1:{pgport}/samenplan"
        self.env = dict(os.environ, SAMENPLAN_LOCAL=str(self.local), SAMENPLAN_PGPORT=str(pgport))
        self.processes: list[subprocess.Popen] = []
        self.bootstrap = ""

    def sh(self, *command: str, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("env", self.env)
        return subprocess.run(command, check=True, text=True, **kwargs)

    def sql(self, query: str) -> str:
        return self.sh(PSQL, self.db_url, "-Atc", query, capture_output=True).stdout.strip()

    def build(self, *products: str) -> None:
        print("bench: building release binaries", flush=True)
        for product in products:
            self.sh("swift", "build", "-c", "release", "--product", product, stdout=subprocess.DEVNULL)

    def postgres(self, action: str) -> None:
        function = "start_postgres" if action == "start" else "stop_postgres"
        self.sh("bash", "-c", f'source "{ROOT}/scripts/common.sh"; {function} "$LOCAL/pg"')

    def start(self, partitions: int = 6) -> None:
        """A fresh database with the suite's roles and schemas, and the dev broker. The dev
        broker (librdkafka's mock cluster) keeps only the newest 5 MB of each partition: a
        benchmark that must read a topic from its start spreads it over more partitions."""
        subprocess.run(["rm", "-rf", str(self.local)], check=True)
        # and the server data kept outside the checkout when `postgres` may not enter it
        subprocess.run(["bash", "-c", f'source "{ROOT}/scripts/common.sh"; rm -rf "$(pg_data "$LOCAL/pg")"'],
                       env=self.env, check=True)
        self.local.mkdir(parents=True, exist_ok=True)
        self.postgres("start")
        self.sh(str(RELEASE / "samenplanctl"), "setup-database", "--admin-url", self.admin_url, stdout=subprocess.DEVNULL)
        broker = subprocess.Popen([str(RELEASE / "kafka-dev-broker"), "--partitions", str(partitions),
                                   "--bootstrap-file", str(self.local / "bootstrap")], stdout=subprocess.DEVNULL)
        self.processes.append(broker)
        while not (self.local / "bootstrap").exists():
            time.sleep(0.1)
        self.bootstrap = (self.local / "bootstrap").read_text().strip()

    def service(self, name: str, port: int) -> subprocess.Popen:
        """Starts a service (release build) and waits until it is ready."""
        process = subprocess.Popen([str(RELEASE / name)], env=dict(
            self.env, DATABASE_URL=f"postgres://{name}:{name}@127.0.0.1:{self.pgport}/samenplan",
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap, HTTP_PORT=str(port), LOG_LEVEL="warning", JWT_SECRET=SECRET),
            stdout=subprocess.DEVNULL, stderr=open(self.local / f"{name}.log", "w"))
        self.processes.append(process)
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2).status == 200:
                    return process
            except Exception:
                time.sleep(0.2)

    def token(self, role: str, subject: str, areas: str | None = None) -> str:
        command = [str(RELEASE / "samenplanctl"), "mint-token", "--role", role, "--subject", subject]
        if areas:
            command += ["--areas", areas]
        return self.sh(*command, capture_output=True, env=dict(self.env, JWT_SECRET=SECRET)).stdout.strip()

    def stop(self, process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                self.stop(process)
        self.postgres("stop")

    def pgbench(self, script: Path, role: str, clients: int, seconds: int) -> tuple[float, list[tuple[float, str]]]:
        """pgbench's transactions/s and per-statement latencies (ms, statement) for `script`."""
        output = self.sh("pgbench", "-n", "-r", "-f", str(script), "-c", str(clients), "-j", str(clients),
                         "-T", str(seconds), "-U", role, "-h", "127.0.0.1", "-p", str(self.pgport), "samenplan",
                         capture_output=True, env=dict(self.env, PGPASSWORD=role)).stdout
        tps = next(float(line.split("=")[1].split()[0]) for line in output.splitlines() if line.startswith("tps"))
        latencies: list[tuple[float, str]] = []
        in_latencies = False
        for line in output.splitlines():
            if line.startswith("statement latencies"):
                in_latencies = True
                continue
            if in_latencies and line.strip():
                parts = line.split()
                try:
                    latencies.append((float(parts[0]), " ".join(parts[2:])))
                except (ValueError, IndexError):
                    pass
        return tps, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def publish_paced(rate: int, seconds: int, make, publish, chunks_per_second: int = 10) -> dict[str, float]:
    """Publishes `rate * seconds` messages at a steady rate, `make(n)` giving (key, event) and
    `publish(chunk)` sending a list of them; answers, per event id, when it was published."""
    sent_at: dict[str, float] = {}
    batch = max(1, rate // chunks_per_second)
    total = rate * seconds
    wall_start = time.time()
    for start in range(0, total, batch):
        time.sleep(max(0.0, wall_start + start / rate - time.time()))
        chunk = [make(n) for n in range(start, min(total, start + batch))]
        now = time.time()
        publish(chunk)
        for _, event in chunk:
            sent_at[event["id"]] = now
    return sent_at
