"""Command-line benchmark: each command on the embedded demo store, cold and then warm.

Run: ``.venv/bin/python bench/bench_cli.py [--repeats N]``

For ``rfm``, ``cohorts``, ``guests`` and ``export "At Risk"`` it runs ``selorax-analytics`` as a
subprocess with no ``SELORAX_*`` credentials (the embedded demo store), first on a fresh cache
folder (cold: the sandbox starts and the store is loaded) and then again on the same folder
(warm: the cache is minutes old, so no sandbox should start). It prints the seconds of each and
the ratio cold / warm, and whether the warm run started a sandbox (its stderr says so). The
warm target is under 1.5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import add_smoke_flag, emit, machine_line

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "rfm": ["rfm"],
    "cohorts": ["cohorts"],
    "guests": ["guests"],
    "export": ["export", "At Risk", "--out", "{out}"],
}
TARGET_WARM = 1.5


def _run(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "selorax_analytics.cli", *argv, "--no-progress"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return seconds, done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="warm runs per command (median)")
    add_smoke_flag(parser)
    args = parser.parse_args()
    if args.smoke:  # every command, cold and one warm run; the target is not held against it
        args.repeats = 1
    print(machine_line())
    base = {k: v for k, v in os.environ.items() if not k.startswith("SELORAX_")}
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), base.get("PYTHONPATH")]))
    print(f"{'command':<8} {'cold s':>7} {'warm s':>7} {'ratio':>6}  warm started a sandbox")
    failed = False
    for name, template in COMMANDS.items():
        with tempfile.TemporaryDirectory(prefix="bench-cli-") as folder:
            env = base | {"SELORAX_CACHE_DIR": str(Path(folder) / "cache")}
            out = Path(folder) / "out"
            argv = [a.format(out=out) for a in template]
            cold, _ = _run(argv, env, folder)
            warm_runs = []
            started = False
            for _ in range(args.repeats):
                if out.exists():
                    argv = [*argv, "--overwrite"] if "--overwrite" not in argv else argv
                seconds, stderr = _run(argv, env, folder)
                warm_runs.append(seconds)
                started |= "embedded sandbox" in stderr
            warm = statistics.median(warm_runs)
            failed |= warm >= TARGET_WARM or started
            print(f"{name:<8} {cold:7.2f} {warm:7.2f} {cold / warm:6.1f}  {started}")
            emit(f"cli_{name}_warm", warm, "s", baseline="cold", baseline_value=cold)
            emit(f"cli_{name}_warm_started_sandbox", int(started), "bool")
    print(f"target: warm under {TARGET_WARM} s and no sandbox: {'missed' if failed else 'met'}")
    return 1 if failed and not args.smoke else 0


if __name__ == "__main__":
    sys.exit(main())
