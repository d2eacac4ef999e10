"""Redaction throughput of the privacy gate, in MB/s, on generated multi-megabyte text.

    python scripts/bench_redaction.py [--megabytes 8] [--repeat 3] [--seed 1]

Three inputs are generated: realistic mixed source (Python, JS, YAML, JSON, .ini, shell,
with a secret every ~200 lines), the same text joined into one line (minified-style), and
random printable noise. Each is redacted ``--repeat`` times; the best wall-clock and CPU
times are reported. The number of findings is printed so a regression that finds nothing
(and is therefore fast) is visible.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slm_lsp.privacy import redact

_LINES = [
    "def handler(event, context):",
    "    items = [normalise(x) for x in event.get('items', [])]",
    "    if not items:",
    "        return {'statusCode': 204}",
    "    logger.info('processing %d items', len(items))",
    "    token = next(tokens)",
    "    password = getpass.getpass('Password: ')",
    "const apiKey = process.env.API_KEY;",
    "export function render(props) { return <Button onClick={props.onClick}>{props.label}</Button>; }",
    "  retries: 3",
    "  timeout_seconds: 30",
    '  "name": "example-package", "version": "1.2.3",',
    "[database]",
    "host = db.internal",
    "for f in *.log; do gzip \"$f\"; done",
    "# TODO: handle the error case properly",
    "    return sha256(data).hexdigest()",
    "SELECT id, name FROM users WHERE created_at > NOW() - INTERVAL '1 day';",
]


def _secret(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    pick = lambda n, a=alnum: "".join(rng.choice(a) for _ in range(n))
    return rng.choice([
        f'AWS_ACCESS_KEY_ID = "AKIA{pick(16, string.ascii_uppercase + string.digits)}"',
        f"github_token: ghp_{pick(36)}",
        f'DB_URL = "postgres://app:{pick(16)}@db:5432/app"',
        f"API_KEY={pick(32)}",
        f'    client_secret = "{pick(40)}"',
        f'blob = "{pick(64, alnum + "+/")}"',
    ])


def realistic(size: int, rng: random.Random) -> str:
    out: list[str] = []
    total = 0
    while total < size:
        line = _secret(rng) if rng.random() < 0.005 else rng.choice(_LINES)
        out.append(line)
        total += len(line) + 1
    return "\n".join(out) + "\n"


def noise(size: int, rng: random.Random) -> str:
    alphabet = string.printable.replace("\x0b", "").replace("\x0c", "")
    return "".join(rng.choice(alphabet) for _ in range(size))


def measure(name: str, text: str, repeat: int) -> float:
    best_wall = best_cpu = float("inf")
    findings = 0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = redact(text)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        findings = len(result.findings)
    megabytes = len(text.encode("utf-8")) / 1e6
    print(f"{name:28s} {megabytes:6.2f} MB  {megabytes / best_wall:7.2f} MB/s wall  "
          f"{megabytes / best_cpu:7.2f} MB/s CPU  {findings:6d} findings")
    return megabytes / best_cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=8.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    size = int(args.megabytes * 1_000_000)
    source = realistic(size, rng)
    measure("mixed source", source, args.repeat)
    measure("mixed source, one line", source.replace("\n", " "), args.repeat)
    measure("random printable", noise(min(size, 4_000_000), rng), args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
