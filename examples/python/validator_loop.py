"""A validator loop with vesting multipliers, through the bittensor SDK (11.3.0).

Every tempo of subnet ``--netuid``:

1. sync the metagraph with the SDK (``subnets.metagraph``);
2. base weights: **uniform over the miners** (a stand-in for a real validator's scores;
   any scores work). The miners are the uids the subnet pays incentive to at the loop's
   first sync, other than the validator's own (on a small subnet every staked uid holds a
   validator permit, so a permit does not tell a miner apart), or the uids of ``--uids``;
   they stay the same for the whole run, so a miner whose adjusted weight is 0 keeps its
   base weight;
3. vesting: the running service adjusts them (``VestingSystem(url=--api).adjust_weights``,
   i.e. ``POST /weights/apply``, with the policy ``.wasm`` in process as its fallback)
   into u16 chain weights; with ``--no-vesting`` the base weights go on chain as they are;
4. ``set_weights`` signed by the wallet's hotkey (the SDK's ``SetWeights`` intent through
   ``Client.execute``: a plain ``set_mechanism_weights`` of mechanism 0 when commit-reveal
   is off), then the row read back with ``weights.weights``;
5. wait for the subnet's next epoch (``epochs.next_epoch_start_block``) and read each
   miner's incentive back with the SDK: Yuma paid it by the weights just set.

One JSON line per epoch on stdout::

    {"epoch": 1, "vesting": true, "set_block": 845, "epoch_block": 960, "block": 961,
     "uids": [1, 2, 3], "base": [...], "weights": [65535, 0, 64897], "multipliers": {...},
     "read_back": {"1": 0.502, ...}, "incentive": {"1": 0.5, "2": 0.0, "3": 0.49}}

``--wallet-uri //Alice`` signs with a dev key (sr25519 from the URI; the devnet's dev
accounts, ``vesting devnet --accounts``); ``--wallet NAME[/HOTKEY]`` uses a bittensor
wallet on disk instead. The hotkey must be registered on the subnet with a validator
permit (on ``vesting devnet``: ``tests/python/validator_loop_scenario.toml``).

    python3 validator_loop.py --chain ws://127.0.0.1:9944 --api http://127.0.0.1:8090 \\
        --netuid 1 --wallet-uri //Alice --epochs 3 [--no-vesting]

Needs the SDK (``pip install -r tests/python/requirements-sdk.txt``) and this checkout's
``python/src`` (or the installed ``bittensor-vesting``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from typing import Any, Dict, List

_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python", "src")
if os.path.isdir(os.path.join(_SRC, "bittensor_vesting")) and _SRC not in sys.path:
    sys.path.insert(0, _SRC)

import bittensor as bt  # noqa: E402
from bittensor.sp_core import Keypair  # noqa: E402

from bittensor_vesting import VestingSystem  # noqa: E402


class DevWallet:
    """A wallet-shaped object (the SDK's ``KeyedWallet``) whose coldkey and hotkey are one
    keypair from a secret URI (``//Alice``): what a dev-account validator signs with."""

    def __init__(self, uri: str):
        self.keypair = Keypair.create_from_uri(uri)

    @property
    def coldkey(self) -> Any:
        return self.keypair

    @property
    def coldkeypub(self) -> Any:
        return self.keypair

    @property
    def hotkey(self) -> Any:
        return self.keypair


def paid_miners(mg: Any, own_uid: int) -> List[int]:
    """The uids the subnet pays incentive to, other than ``own_uid``."""
    return [int(n.uid) for n in mg.neurons if int(n.uid) != own_uid and float(n.incentive) > 0]


def base_weights(miners: List[int]) -> Dict[int, float]:
    """The base rule: 1.0 for every miner."""
    return {u: 1.0 for u in miners}


async def wait_past(c: Any, block: int, poll: float) -> int:
    """Waits until the chain's head is past ``block``; returns the head."""
    while True:
        head = await c.block()
        if head > block:
            return head
        await asyncio.sleep(poll)


async def set_weights(c: Any, wallet: Any, netuid: int, uids: List[int], weights: List[int]) -> Any:
    """``SetWeights`` through the SDK, waiting out the rate limit if the SDK's preflight
    reports it (``WeightsSetRateLimit`` blocks since the last set)."""
    for _ in range(30):
        try:
            result = await c.execute(bt.SetWeights(netuid=netuid, uids=uids, weights=weights), wallet)
        except bt.ChainError as e:
            if "rate limit" not in str(e):
                raise
            await asyncio.sleep(0.5)
            continue
        if not result.success:
            raise RuntimeError(f"set_weights failed: {result.message}")
        return result
    raise RuntimeError("set_weights: still rate limited")


async def run(args: argparse.Namespace) -> None:
    wallet: Any = DevWallet(args.wallet_uri) if args.wallet_uri else bt.Wallet(args.wallet)
    hotkey = wallet.hotkey.ss58_address
    vesting = None if args.no_vesting else VestingSystem(subnet_id=args.netuid, url=args.api)
    if vesting is not None:
        await vesting.initialize()
    try:
        miners = None
        async with bt.Subtensor(args.chain) as c:
            for epoch in range(1, args.epochs + 1):
                mg = await c.subnets.metagraph(args.netuid, commitments=False)
                hotkeys = [str(h) for h in mg.hotkeys]
                if hotkey not in hotkeys:
                    raise RuntimeError(f"{hotkey} is not registered on netuid {args.netuid}")
                own = hotkeys.index(hotkey)
                if miners is None:
                    miners = args.uids or paid_miners(mg, own)
                    if not miners:
                        raise RuntimeError(f"no miner is paid on netuid {args.netuid}: pass --uids")
                base = base_weights(miners)
                uids = sorted(base)
                scores = [base[u] for u in uids]
                multipliers = None
                if vesting is None:
                    chain_uids, chain_weights = uids, [65535] * len(uids)
                else:
                    adjusted = await vesting.adjust_weights(scores, uids, [hotkeys[u] for u in uids])
                    chain_uids = [int(u) for u in adjusted.chain_uids]
                    chain_weights = [int(w) for w in adjusted.chain_weights]
                    multipliers = {str(u): m for u, m in zip(adjusted.uids, adjusted.multipliers)}
                result = await set_weights(c, wallet, args.netuid, chain_uids, chain_weights)
                # `extrinsic_id` is "<block>-<index>": the block that included it.
                set_block = int(str(result.extrinsic_id).split("-")[0])
                rows = await c.weights.weights(args.netuid)
                read_back = {str(u): round(w, 6) for u, w in sorted(rows.get(own, {}).items())}
                nxt = await c.epochs.next_epoch_start_block(args.netuid)
                head = await wait_past(c, int(nxt), args.poll)
                mg = await c.subnets.metagraph(args.netuid, commitments=False)
                incentive = {str(u): round(float(mg.neurons[u].incentive), 6) for u in uids}
                print(
                    json.dumps(
                        {
                            "epoch": epoch,
                            "vesting": vesting is not None,
                            "uid": own,
                            "set_block": set_block,
                            "extrinsic": result.extrinsic_id,
                            "epoch_block": int(nxt),
                            "block": head,
                            "uids": uids,
                            "base": scores,
                            "chain_uids": chain_uids,
                            "weights": chain_weights,
                            "multipliers": multipliers,
                            "read_back": read_back,
                            "incentive": incentive,
                        }
                    ),
                    flush=True,
                )
    finally:
        if vesting is not None:
            await vesting.shutdown()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--chain", required=True, help="the node's WebSocket URL, ws://...")
    p.add_argument("--api", default="http://127.0.0.1:8090", help="the vesting service (vesting run)")
    p.add_argument("--netuid", type=int, default=1)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--wallet-uri", help="sign with a dev key from a secret URI, e.g. //Alice")
    who.add_argument("--wallet", help="a bittensor wallet on disk, NAME or NAME/HOTKEY")
    p.add_argument("--epochs", type=int, default=3, help="epochs to run (default 3)")
    p.add_argument("--no-vesting", action="store_true", help="set the base weights unadjusted")
    p.add_argument("--uids", type=lambda t: [int(x) for x in t.split(",")],
                   help="the miners' uids, comma-separated (default: those paid at the first sync)")
    p.add_argument("--poll", type=float, default=0.2, help="seconds between head polls")
    args = p.parse_args()
    t0 = time.monotonic()
    try:
        asyncio.run(run(args))
    except Exception as e:  # noqa: BLE001 - one line for the caller
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(f"done in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
