#!/usr/bin/env python3
"""Run conformance vectors against a policy component from Python.

    python3 run_vectors.py <policy.wasm> <vectors dir> [<vectors dir> ...]

Each ``*.json`` file of each directory (sorted by path) is one vector: a contract
function, its ``params`` and ``input``, and either the exact output it must produce
(``expect``, as serde writes a Rust ``Result``: ``{"Ok": ...}`` / ``{"Err": ...}``) or
only an error code (``expect_error``). The output is judged exactly like the Rust runner
(``host/src/policy/vectors.rs``): exact JSON equality, where an integer never equals a
float or a bool.

Prints one line per vector and a last line ``N passed, M failed``; exits 0 only when
every vector passed (1 when one failed, 2 on a usage or load error).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vesting_policy import (  # noqa: E402
    Policy,
    PolicyCallError,
    PolicyInputError,
    PolicyLoadError,
)

#: The keys a vector may have (the Rust `Vector` denies unknown fields).
VECTOR_KEYS = {"name", "description", "function", "params", "input", "expect", "expect_error"}


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
            out.append((path, v))
        except (OSError, ValueError) as e:
            out.append((path, ValueError(f"not a conformance vector: {e}")))
    return out


def call(policy: Policy, v: dict) -> Any:
    """The vector's function on ``policy``: its JSON-shaped output ``{"Ok"|"Err": ...}``.
    Raises when the call fails outright (trap, limit, input that does not fit)."""
    function = v["function"]
    if function not in policy.functions:
        raise ValueError(f"unknown function `{function}`")
    available = {"params": v.get("params", []), "input": v.get("input")}
    args = {}
    for name in policy.parameters(function):
        if name not in available:
            raise ValueError(f"`{function}` takes `{name}`, which a vector cannot give")
        args[name] = available[name]
    out = policy.call(function, **args)
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
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        print("usage: run_vectors.py <policy.wasm> <vectors dir> [<vectors dir> ...]", file=sys.stderr)
        return 2
    try:
        policy = Policy.load(argv[1])
    except (PolicyLoadError, PolicyCallError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"policy {policy.label}")
    passed = failed = 0
    for directory in argv[2:]:
        vectors = load_dir(directory)
        if not vectors:
            print(f"error: no vectors found in {directory}", file=sys.stderr)
            return 2
        for path, v in vectors:
            if isinstance(v, Exception):
                reason, name = str(v), os.path.basename(path)
            else:
                name = v["name"]
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
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
