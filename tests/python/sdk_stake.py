"""`AddStake` through the bittensor SDK (its own intent, composing, signing and
submitting) as the dev account //Alice against the devnet, then the stake and the free
balance read back with the SDK. Prints one JSON line; tests/tests/devnet_sdk.rs checks it.

Usage: sdk_stake.py <ws url> <netuid> <hotkey as 0x hex> <tao>
"""

import asyncio
import json
import sys

import bittensor as bt
from bittensor._transport.codec import ss58_encode
from bittensor.sp_core import Keypair


class DevWallet:
    """A wallet-shaped object whose coldkey and hotkey are one keypair from a URI."""

    def __init__(self, uri):
        self.keypair = Keypair.create_from_uri(uri)

    @property
    def coldkey(self):
        return self.keypair

    @property
    def coldkeypub(self):
        return self.keypair

    @property
    def hotkey(self):
        return self.keypair


def rao(b):
    return int(getattr(b, "rao", b))


def attrs(event):
    a = event.get("attributes")
    return list(a.values()) if isinstance(a, dict) else list(a or [])


async def main(url, netuid, hotkey_hex, tao):
    wallet = DevWallet("//Alice")
    me = wallet.keypair.ss58_address
    hotkey = ss58_encode(bytes.fromhex(hotkey_hex[2:]), 42)
    async with bt.Subtensor(url) as c:
        stake_before = rao(await c.staking.get(me, hotkey, netuid))
        free_before = rao(await c.balances.get(me))
        r = await c.execute(bt.AddStake(hotkey_ss58=hotkey, netuid=netuid, amount_tao=tao), wallet)
        stake_after = rao(await c.staking.get(me, hotkey, netuid))
        free_after = rao(await c.balances.get(me))
        added = [attrs(e) for e in r.events if e.get("event_id") == "StakeAdded"]
        print(
            json.dumps(
                {
                    "success": bool(r.success),
                    "message": str(r.message),
                    "extrinsic_id": str(r.extrinsic_id),
                    "fee": rao(r.fee),
                    "events": [f"{e.get('module_id')}.{e.get('event_id')}" for e in r.events],
                    # StakeAdded(coldkey, hotkey, tao, alpha, netuid, fee)
                    "stake_added": [[str(x) if isinstance(x, str) else x for x in a] for a in added],
                    "signer": me,
                    "hotkey": hotkey,
                    "stake_before": stake_before,
                    "stake_after": stake_after,
                    "free_before": free_before,
                    "free_after": free_after,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])))
