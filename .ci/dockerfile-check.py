"""Run the Dockerfile's install steps in a fresh virtual environment, without a Docker engine.

It reads the Dockerfile, copies what its COPY lines copy into a scratch /app, runs its
`python -m pip install` commands with a new venv's python, removes /app as the image does, then
runs the image's HEALTHCHECK command and an offline question from another folder. A Dockerfile
whose install breaks fails this check.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text(encoding="utf-8"))
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def copy(sources: list[str], target: str, app: Path) -> None:
    """Docker's COPY, with /app mapped to ``app`` (the WORKDIR)."""
    destination = app / target.removeprefix("/app").lstrip("/")
    into_folder = len(sources) > 1 or target.endswith("/")
    for source in sources:
        path = REPO / source
        if into_folder:
            destination.mkdir(parents=True, exist_ok=True)
            if path.is_dir():
                shutil.copytree(path, destination, dirs_exist_ok=True)
            else:
                shutil.copy(path, destination / path.name)
        elif path.is_dir():
            shutil.copytree(path, destination)
        else:
            shutil.copy(path, destination)


def main() -> int:
    """Run the check; 0 when the Dockerfile's install works."""
    steps = instructions(REPO / "Dockerfile")
    scratch = Path(tempfile.mkdtemp(prefix="armsbot-docker-"))
    try:
        app = scratch / "app"
        app.mkdir()
        venv.create(scratch / "venv", with_pip=True)
        bin_dir = scratch / "venv" / "bin"
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "ARMSBOT_DATABASE": str(scratch / "data" / "armsbot.sqlite3"),
        }
        env.pop("ARMSBOT_DATA_DIR", None)
        installs = 0
        health: list[str] = []
        for word, args in steps:
            if word == "COPY":
                *sources, target = shlex.split(args)
                copy(sources, target, app)
            elif word == "RUN":
                for command in args.split("&&"):
                    parts = shlex.split(command)
                    if parts[:4] == ["python", "-m", "pip", "install"]:
                        parts = [str(app) if p == "/app" else p for p in parts]
                        subprocess.run(
                            [str(bin_dir / "python"), *parts[1:4], "--quiet", *parts[4:]],
                            check=True, cwd=app, env=env,
                        )
                        installs += 1
            elif word == "HEALTHCHECK":
                health = json.loads(args[args.index("CMD") + 3 :].strip())
        if installs == 0:
            print("dockerfile-check: the Dockerfile installs nothing with pip", file=sys.stderr)
            return 1
        shutil.rmtree(app)  # the image removes /app: the installed package must stand alone
        elsewhere = scratch / "elsewhere"
        elsewhere.mkdir()
        answer = subprocess.run(
            ["armsbot", "ask", "country", "azerbajan"],
            check=True, cwd=elsewhere, env=env, capture_output=True, text=True,
        )
        print("\n".join(answer.stdout.splitlines()[:2]))
        if not answer.stdout.startswith("Azerbaijan (AZ) — country"):
            print("dockerfile-check: unexpected answer", file=sys.stderr)
            return 1
        if not health:
            print("dockerfile-check: the Dockerfile has no HEALTHCHECK", file=sys.stderr)
            return 1
        subprocess.run(health, check=True, cwd=elsewhere, env=env)
        print("dockerfile-check: ok (install steps, offline answer, health check)")
        return 0
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
