"""A Bittensor validator's weight-setting step with vesting multipliers.

With the ``bittensor-vesting`` package (``pip install ./python``), the seeds' API::

    from bittensor_vesting import VestingSystem, VestingError

    vesting = VestingSystem(subtensor="finney", subnet_id=netuid, db_path="vesting.db",
                            minimum_stake=0.3, max_multiplier=1.5)
    await vesting.initialize()          # starts `vesting run`; url="http://..." attaches instead
    ...
    uids = list(range(len(scores)))
    hotkeys = [metagraph.hotkeys[u] for u in uids]
    try:
        adjusted = await vesting.adjust_weights(scores, uids, hotkeys)
    except VestingError as e:
        bt.logging.error(f"vesting: {e}")   # keep the old weights, or set yours unadjusted
        raise
    # subtensor.set_weights(wallet=wallet, netuid=netuid, uids=adjusted.chain_uids,
    #                       weights=adjusted.chain_weights, wait_for_inclusion=False)
    ...
    await vesting.shutdown()

``adjusted.weights`` are the adjusted float weights (``await
vesting.apply_vesting_multipliers(...)`` returns just those, the same kind as ``scores``).
When the service cannot be reached, the package runs the policy ``.wasm`` in process on
the latest multipliers the service returned.

This script is the same step as plain functions (:mod:`bittensor_vesting.weights`, re-exported
here) and a command line that runs both ways and compares them; they give the same result
(the full ``apply-weights`` output), bit for bit:

- :func:`apply_vesting_multipliers` asks the running service: ``POST /weights/apply``;
- :func:`apply_vesting_multipliers_local` takes only the latest multipliers from the service
  (``GET /multipliers``, or its SQLite database read-only) and runs the policy ``.wasm``'s
  ``apply-weights`` itself (the ``wasmtime`` package).

Command line (input: a JSON file ``{"uids": [...], "weights": [...], "hotkeys": [...]}``,
as for ``vesting apply --file``)::

    python3 validator.py api     --input w.json [--api URL]
    python3 validator.py local   --input w.json --wasm POLICY.wasm [--api URL | --db FILE] [--config TOML]
    python3 validator.py compare --input w.json --wasm POLICY.wasm [--api URL] [--config TOML]
    python3 validator.py body    --input w.json

``api`` and ``local`` print the policy's full output as one line of JSON (keys sorted);
``compare`` runs both and exits 1 if they differ; ``body`` prints the request body the API
path sends. Errors go to stderr as ``error: ...`` with exit code 1.

The package comes from this checkout's ``python/src`` when run from the repository, else
from the installed ``bittensor-vesting``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Optional, Sequence, Tuple

_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python", "src")
if os.path.isdir(os.path.join(_SRC, "bittensor_vesting")) and _SRC not in sys.path:
    sys.path.insert(0, _SRC)

from bittensor_vesting.weights import (  # noqa: E402
    DEFAULT_API,
    SERVICE_DEFAULTS,
    VestingError,
    apply_vesting_multipliers,
    apply_vesting_multipliers_local,
    apply_weights_api,
    apply_weights_local,
    check_served_policy,
    fetch_multipliers,
    request_body,
    service_params,
    wire_weights,
)

__all__ = [
    "DEFAULT_API",
    "SERVICE_DEFAULTS",
    "VestingError",
    "apply_vesting_multipliers",
    "apply_vesting_multipliers_local",
    "apply_weights_api",
    "apply_weights_local",
    "check_served_policy",
    "fetch_multipliers",
    "request_body",
    "service_params",
    "wire_weights",
]


# ----------------------------------------------------------------------- command line


def _read_input(path: str) -> Tuple[Any, Any, Any]:
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        data = json.loads(text)
    except (OSError, ValueError) as e:
        raise VestingError(f"cannot read the weights from {path}: {e}") from None
    if not isinstance(data, dict) or set(data) != {"uids", "weights", "hotkeys"}:
        raise VestingError(f'{path}: expected {{"uids": [...], "weights": [...], "hotkeys": [...]}}')
    return data["weights"], data["uids"], data["hotkeys"]


def _dump(out: Any) -> str:
    return json.dumps(out, sort_keys=True, separators=(",", ":"))


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    modes = {
        "api": "POST /weights/apply",
        "local": "run the policy .wasm here on the latest multipliers",
        "compare": "both; exit 1 if their outputs differ",
        "body": "print the request body the api mode sends",
    }
    for mode, text in modes.items():
        s = sub.add_parser(mode, help=text)
        s.add_argument("--input", required=True, help='JSON {"uids", "weights", "hotkeys"}; - for stdin')
        if mode != "body":
            s.add_argument("--api", default=DEFAULT_API, help=f"the service (default {DEFAULT_API})")
        if mode in ("local", "compare"):
            s.add_argument("--wasm", required=True, help="the policy component the service runs")
            s.add_argument("--config", help="the service's TOML config, if it was started with one")
            s.add_argument("--no-policy-check", action="store_true", help="skip the sha256 check against GET /policy")
        if mode == "local":
            s.add_argument("--db", help="read the multipliers from this database (read-only) instead of the API")
    args = p.parse_args(argv)
    try:
        weights, uids, hotkeys = _read_input(args.input)
        if args.mode == "body":
            print(request_body(weights, uids, hotkeys).decode())
            return 0
        if args.mode == "api":
            print(_dump(apply_weights_api(weights, uids, hotkeys, args.api)))
            return 0
        check = not args.no_policy_check
        if args.mode == "local":
            source = args.db if args.db else args.api
            print(_dump(apply_weights_local(weights, uids, hotkeys, args.wasm, source, args.config, check)))
            return 0
        # compare: the same multipliers for both (retried if a new epoch lands in between).
        if check:
            check_served_policy(args.api, args.wasm)
        for _ in range(3):
            before = fetch_multipliers(args.api)
            served = apply_weights_api(weights, uids, hotkeys, args.api)
            local = apply_weights_local(weights, uids, hotkeys, args.wasm, before, args.config)
            if fetch_multipliers(args.api) == before:
                break
        print("api:   " + _dump(served))
        print("local: " + _dump(local))
        if served != local:
            print("error: the outputs differ", file=sys.stderr)
            return 1
        print("identical")
        return 0
    except VestingError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
