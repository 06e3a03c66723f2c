"""`examples/python/run_vectors.py` with both contracts: contract-neutral vectors run against
every policy, raw 0.2 vectors (`"contract": "bittensor:vesting@0.2.0"`) only against 0.2
policies and are reported as skipped for the others."""

import json
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from conftest import REPO, policy_wasm_v1, policy_wasm_v2

RUNNER = REPO / "examples" / "python" / "run_vectors.py"
V2 = "bittensor:vesting@0.2.0"
EMPTY_LEDGERS = {"holders": [], "unmatched_outflow": [], "tranche_counts": [], "tranches": []}

# Raw 0.2 inputs the contract (wit/vesting.wit) says a policy refuses.
RAW = [
    {"name": "raw-unsorted-accounts", "function": "holdings",
     "input": {"accounts": ["b", "a"], "block": 1, "ledgers": EMPTY_LEDGERS}, "expect_error": "InvalidInput"},
    {"name": "raw-index-past-the-table", "function": "apply-weights",
     "input": {"accounts": ["a"], "uids": [0], "weights": [1.0], "hotkeys": [3], "multipliers": []},
     "expect_error": "InvalidInput"},
    {"name": "raw-counts-do-not-add-up", "function": "holdings",
     "input": {"accounts": ["a"], "block": 1, "ledgers": {"holders": [0], "unmatched_outflow": [0],
                                                          "tranche_counts": [2], "tranches": [0] * 8}},
     "expect_error": "LengthMismatch"},
]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUNNER), *args], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    for v in RAW:
        (tmp_path / f"{v['name']}.json").write_text(json.dumps(dict(v, contract=V2, params=[])))
    return tmp_path


def lines(out: str, prefix: str) -> List[str]:
    return [line for line in out.splitlines() if line.startswith(prefix)]


def test_a_0_1_policy_runs_the_neutral_vectors_and_skips_the_raw_ones(raw_dir):
    neutral = len(list((REPO / "tests/vectors/contract").glob("*.json")))
    p = run(str(policy_wasm_v1()), str(raw_dir), "tests/vectors/contract")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "contract bittensor:vesting@0.1.0" in p.stdout.splitlines()[1]
    skips = lines(p.stdout, "  skip  ")
    assert len(skips) == len(RAW)
    assert all("a bittensor:vesting@0.2.0 vector; the policy speaks bittensor:vesting@0.1.0" in s for s in skips)
    assert p.stdout.splitlines()[-1] == f"{neutral} passed, 0 failed, {len(RAW)} skipped"


def test_without_directories_it_runs_the_repositorys_vectors():
    dirs = [REPO / "tests/vectors/default", REPO / "tests/vectors/contract"]
    raw_dir = REPO / "tests" / "vectors" / "contract-0.2"
    if raw_dir.is_dir():
        dirs.append(raw_dir)
    tagged = [json.loads(p.read_text()).get("contract") for d in dirs for p in sorted(d.glob("*.json"))]
    neutral = sum(1 for c in tagged if c in (None, "bittensor:vesting@0.1.0"))
    p = run(str(policy_wasm_v1()))
    assert p.returncode == 0, p.stdout + p.stderr
    skipped = len(tagged) - neutral
    assert p.stdout.splitlines()[-1] == f"{neutral} passed, 0 failed" + (f", {skipped} skipped" if skipped else ""), \
        p.stdout
    if not raw_dir.is_dir():
        assert "(no raw vectors: tests/vectors/contract-0.2 does not exist)" in p.stdout


def test_a_vector_of_a_contract_not_spoken_is_not_a_vector(tmp_path):
    (tmp_path / "v.json").write_text(json.dumps(dict(RAW[0], contract="bittensor:vesting@9.0.0", params=[])))
    p = run(str(policy_wasm_v1()), str(tmp_path))
    assert p.returncode == 1
    assert "`contract` \"bittensor:vesting@9.0.0\" is none this host speaks" in p.stdout


if policy_wasm_v2() is not None:
    # Only defined with a 0.2 build (the suite must never skip).

    def test_a_0_2_policy_runs_raw_vectors_unadapted(raw_dir):
        p = run(str(policy_wasm_v2()), str(raw_dir))
        assert p.returncode == 0, p.stdout + p.stderr
        assert p.stdout.splitlines()[1].startswith("contract bittensor:vesting@0.2.0 (contract-neutral vectors through")
        assert p.stdout.splitlines()[-1] == f"{len(RAW)} passed, 0 failed"


def test_a_vector_runs_only_on_a_policy_of_its_contract(tmp_path):
    # As in the Rust runner: a `contract` of 0.1.0 runs (raw, the same shape) on 0.1 policies only.
    v = json.loads((REPO / "tests/vectors/contract/weights-duplicate-uids.json").read_text())
    (tmp_path / "v.json").write_text(json.dumps(dict(v, contract="bittensor:vesting@0.1.0")))
    p = run(str(policy_wasm_v1()), str(tmp_path))
    assert p.returncode == 0 and p.stdout.splitlines()[-1] == "1 passed, 0 failed", p.stdout + p.stderr
    if policy_wasm_v2() is not None:
        p = run(str(policy_wasm_v2()), str(tmp_path))
        assert p.returncode == 0 and p.stdout.splitlines()[-1] == "0 passed, 0 failed, 1 skipped", p.stdout
