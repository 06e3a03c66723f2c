"""Fixtures: the real `vesting` binary, `vesting devnet` and `vesting run` as subprocesses,
and the policy components the contract tests run.

The binary is ``$VESTING_BIN``, else this checkout's ``target/debug/vesting``; without one
every test that needs it fails (never skips) saying how to build it.

The policy components (see ``test_policy_contracts.py``):

- ``$VESTING_POLICY_WASM_V1``, else ``tests/fixtures/policies/default-0.1.0.wasm``: the
  default policy speaking ``bittensor:vesting@0.1.0`` (required: without it those tests fail);
- ``$VESTING_POLICY_WASM_V2`` (the Rust end-to-end test passes its build of the default
  policy), else ``/work/artifacts/default-0.2.wasm`` when it exists: the default policy
  built for ``bittensor:vesting@0.2.0``, compared with the 0.1 fixture vector by vector.

Without a 0.2 build the 0.2 side runs on the fixture presented as a 0.2 policy (through the
adapter both ways), and the tests that need a real 0.2 build are not defined (none skips).
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = "cargo build -p vesting-host --bin vesting"

try:
    import bittensor_vesting  # noqa: F401  (the installed package, as `pip install ./python`)
except ImportError:
    # Not installed: the checkout's sources (`python3 -m pytest python/tests` in a checkout).
    sys.path.insert(0, str(REPO / "python" / "src"))

V1_FIXTURE = REPO / "tests" / "fixtures" / "policies" / "default-0.1.0.wasm"
V2_ARTIFACT = Path("/work/artifacts/default-0.2.wasm")


def policy_wasm_v1() -> Path:
    return Path(os.environ.get("VESTING_POLICY_WASM_V1") or V1_FIXTURE)


def policy_wasm_v2() -> Optional[Path]:
    """``$VESTING_POLICY_WASM_V2``, else the 0.2 artifact when it exists, else None."""
    v2 = os.environ.get("VESTING_POLICY_WASM_V2")
    if v2:
        return Path(v2)
    return V2_ARTIFACT if V2_ARTIFACT.is_file() else None


def other_policy_wasms() -> List[Path]:
    """The builds to compare with the 0.1 fixture: the 0.2 build, when there is one."""
    v2 = policy_wasm_v2()
    return [] if v2 is None else [v2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, timeout: float, f: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while not f():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(0.25)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def vesting_bin() -> str:
    path = os.environ.get("VESTING_BIN") or str(REPO / "target" / "debug" / "vesting")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"no vesting binary at {path}: build it with `{BUILD}` in {REPO} (or set VESTING_BIN)",
            pytrace=False,
        )
    return path


class Procs:
    """`vesting` subprocesses, killed at the end of the test."""

    def __init__(self, binary: str, tmp: Path):
        self.binary, self.tmp = binary, tmp
        self.children: List[subprocess.Popen] = []

    def spawn(self, *args: str, log: str) -> subprocess.Popen:
        out = open(self.tmp / log, "wb")
        p = subprocess.Popen([self.binary, *args], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.children.append(p)
        return p

    def devnet(self) -> "tuple[subprocess.Popen, int]":
        """`vesting devnet --scenario tiny` with 20 ms blocks; returns once it listens."""
        port = free_port()
        p = self.spawn(
            "devnet", "--scenario", "tiny", "--port", str(port), "--block-time-ms", "20", "--archive",
            log="devnet.log",
        )
        wait_for("the devnet to listen", 60, lambda: p.poll() is None and listening(port))
        return p, port

    def run(self, chain_port: int, db: Path) -> "tuple[subprocess.Popen, str]":
        """`vesting run` on the devnet; returns once its API answers."""
        port = free_port()
        p = self.spawn(
            "run", "--netuid", "1", "--subtensor.chain_endpoint", f"ws://127.0.0.1:{chain_port}",
            "--db", str(db), "--api", f"127.0.0.1:{port}",
            log="run.log",
        )
        wait_for("`vesting run` to serve", 120, lambda: p.poll() is None and listening(port))
        return p, f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        for p in self.children:
            if p.poll() is None:
                p.kill()
            p.wait()


@pytest.fixture
def procs(vesting_bin: str, tmp_path: Path) -> Iterator[Procs]:
    p = Procs(vesting_bin, tmp_path)
    yield p
    p.stop()
