#!/usr/bin/env python3
"""Run conformance vectors against a policy component from Python.

    python3 run_vectors.py <policy.wasm> [<vectors dir> ...]

Each ``*.json`` file of each directory (sorted by path) is one vector: a contract
function, its ``params`` and ``input``, and either the exact output it must produce
(``expect``, as serde writes a Rust ``Result``: ``{"Ok": ...}`` / ``{"Err": ...}``) or
only an error code (``expect_error``). The output is judged exactly like the Rust runner
(``host/src/policy/vectors.rs``): exact JSON equality, where an integer never equals a
float or a bool.

The policy may speak either contract this host speaks (``bittensor:vesting@0.1.0`` or
``@0.2.0``). A vector without a ``contract`` field is contract-neutral, in the 0.1 shape
(account strings, lists of holder ledgers): it runs against a 0.1 policy as it is and
against a 0.2 policy through the adapter (``bittensor_vesting.contract``). A vector with a
top-level ``"contract"`` (``"bittensor:vesting@0.2.0"``: those of ``tests/vectors/contract-0.2``
and ``info``, whose output names the contract) is raw: it runs only against a policy of that
contract, unadapted (``policy.call(..., raw=True)``), and is skipped, and said so, for the
others, as in the Rust runner. Without directories it runs the repository's
``tests/vectors/default``, ``tests/vectors/contract`` and, when it exists,
``tests/vectors/contract-0.2``.

Prints one line per vector (``  pass  ``, ``  FAIL  ``, ``  skip  ``) and a last line
``N passed, M failed`` (``, K skipped`` when some were); exits 0 only when no vector failed
(1 when one failed, 2 on a usage or load error).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vesting_policy import (  # noqa: E402
    CONTRACTS,
    Policy,
    PolicyCallError,
    PolicyInputError,
    PolicyLoadError,
)

#: The keys a vector may have (the Rust `Vector` denies unknown fields).
VECTOR_KEYS = {"name", "description", "contract", "function", "params", "input", "expect", "expect_error"}

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
#: The repository's contract-neutral vectors (0.1 shape), run against every policy.
DEFAULT_VECTORS = ["tests/vectors/default", "tests/vectors/contract"]
#: The raw 0.2 vectors, run only against 0.2 policies (when the directory exists).
RAW_VECTORS = "tests/vectors/contract-0.2"


def json_equal(a: Any, b: Any) -> bool:
    """serde_json's `Value` equality: numbers compare by kind (an integer never equals a
    float), bools are not numbers, objects compare regardless of key order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int) or isinstance(b, int):
        return isinstance(a, int) and isinstance(b, int) and a == b
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, float) and isinstance(b, float) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def dumps(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def first_difference(want: Any, got: Any, at: str = "$") -> str:
    """The path and values of the first place two JSON values differ (as the Rust runner)."""
    if isinstance(want, dict) and isinstance(got, dict):
        for k, va in want.items():
            if k not in got:
                return f"{at}.{k}: expected {dumps(va)}, missing"
            if not json_equal(va, got[k]):
                return first_difference(va, got[k], f"{at}.{k}")
        for k in got:
            if k not in want:
                return f"{at}.{k}: unexpected"
        return f"{at}: differs"
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return f"{at}: expected {len(want)} items, got {len(got)}"
        for i, (x, y) in enumerate(zip(want, got)):
            if not json_equal(x, y):
                return first_difference(x, y, f"{at}[{i}]")
        return f"{at}: differs"
    return f"{at}: expected {dumps(want)}, got {dumps(got)}"


def _reject_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_dir(directory: str) -> List[Tuple[str, Any]]:
    """Every ``*.json`` under ``directory``, sorted by path: (path, parsed JSON or the
    reason it is not a vector)."""
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".json"))
    except OSError as e:
        raise SystemExit(f"error: cannot read vectors directory {directory}: {e.strerror}")
    out = []
    for n in names:
        path = os.path.join(directory, n)
        if not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                v = json.load(f, parse_constant=_reject_constants)
            if not isinstance(v, dict):
                raise ValueError("not a JSON object")
            unknown = sorted(set(v) - VECTOR_KEYS)
            if unknown:
                raise ValueError(f"unknown field(s) {', '.join(unknown)}")
            for key in ("name", "function"):
                if not isinstance(v.get(key), str):
                    raise ValueError(f"missing or non-string `{key}`")
            if "contract" in v and v["contract"] not in CONTRACTS:
                raise ValueError(f"`contract` {dumps(v['contract'])} is none this host speaks ({', '.join(CONTRACTS)})")
            out.append((path, v))
        except (OSError, ValueError) as e:
            out.append((path, ValueError(f"not a conformance vector: {e}")))
    return out


def skip_reason(policy: Policy, v: dict) -> str:
    """Why ``policy`` does not run the vector (one of another contract), or ""."""
    contract = v.get("contract")
    if contract is None or contract == policy.contract:
        return ""
    return f"a {contract} vector; the policy speaks {policy.contract}"


def call(policy: Policy, v: dict) -> Any:
    """The vector's function on ``policy``: its JSON-shaped output ``{"Ok"|"Err": ...}``.
    A contract-neutral vector goes through the adapter (for a 0.2 policy), a raw one (with
    ``contract``) passes unadapted. Raises when the call fails outright (trap, limit, input
    that does not fit)."""
    function = v["function"]
    if function not in policy.functions:
        raise ValueError(f"unknown function `{function}`")
    available = {"params": v.get("params", []), "input": v.get("input")}
    args = {}
    for name in policy.parameters(function):
        if name not in available:
            raise ValueError(f"`{function}` takes `{name}`, which a vector cannot give")
        args[name] = available[name]
    out = policy.call(function, raw="contract" in v, **args)
    if isinstance(out, dict) and len(out) == 1 and ("Ok" in out or "Err" in out):
        return out
    return {"Ok": out}  # a function that cannot fail (info)


def judge(v: dict, got: Any) -> str:
    """Empty when ``got`` is what the vector expects, else why not."""
    if "expect_error" in v and v["expect_error"] is not None:
        want = v["expect_error"]
        err = got.get("Err") if isinstance(got, dict) else None
        code = err.get("code") if isinstance(err, dict) else None
        if json_equal(code, want):
            return ""
        return f"expected error {dumps(want)}, got {dumps(got)}"
    if "expect" in v and v["expect"] is not None:
        if json_equal(v["expect"], got):
            return ""
        return first_difference(v["expect"], got)
    return "the vector has neither `expect` nor `expect_error`"


def main(argv: List[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        print("usage: run_vectors.py <policy.wasm> [<vectors dir> ...]", file=sys.stderr)
        return 2
    try:
        policy = Policy.load(argv[1])
    except (PolicyLoadError, PolicyCallError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"policy {policy.label}")
    adapted = " (contract-neutral vectors through the 0.1 adapter)" if policy.contract != CONTRACTS[0] else ""
    print(f"contract {policy.contract}{adapted}")
    directories = argv[2:]
    if not directories:
        directories = [os.path.relpath(os.path.join(REPO, d)) for d in DEFAULT_VECTORS]
        raw = os.path.join(REPO, RAW_VECTORS)
        if os.path.isdir(raw):
            directories.append(os.path.relpath(raw))
        else:
            print(f"(no raw vectors: {RAW_VECTORS} does not exist)")
    passed = failed = skipped = 0
    for directory in directories:
        vectors = load_dir(directory)
        if not vectors:
            print(f"error: no vectors found in {directory}", file=sys.stderr)
            return 2
        for path, v in vectors:
            if isinstance(v, Exception):
                reason, name = str(v), os.path.basename(path)
            else:
                name = v["name"]
                skip = skip_reason(policy, v)
                if skip:
                    skipped += 1
                    print(f"  skip  {name} ({path}): {skip}")
                    continue
                try:
                    reason = judge(v, call(policy, v))
                except (PolicyCallError, PolicyInputError, ValueError, TypeError) as e:
                    reason = f"{type(e).__name__}: {e}"
            if reason:
                failed += 1
                print(f"  FAIL  {name} ({path}): {reason}")
            else:
                passed += 1
                print(f"  pass  {name}")
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
