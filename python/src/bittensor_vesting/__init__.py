"""Vesting multipliers for Bittensor validators, from Python.

    from bittensor_vesting import VestingSystem

    vesting = VestingSystem(subtensor="finney", subnet_id=1, db_path="vesting.db",
                            minimum_stake=0.3, max_multiplier=1.5)
    await vesting.initialize()                   # starts `vesting run` (or url=... attaches)
    weights = await vesting.apply_vesting_multipliers(weights, uids, hotkeys)
    stats = await vesting.get_vesting_stats()
    await vesting.shutdown()

:mod:`bittensor_vesting.weights` has the two weight paths as plain functions (the service's
``POST /weights/apply``, or the policy ``.wasm`` run here), :mod:`bittensor_vesting.policy`
runs any policy component with ``wasmtime``, of either contract (``bittensor:vesting@0.1.0``
or ``@0.2.0``, presented in the 0.1 shape through :mod:`bittensor_vesting.contract`).
"""

from .system import AdjustedWeights, Health, MinerStats, VestingStats, VestingSystem, find_vesting_bin
from .weights import VestingError

__version__ = "0.1.0"

__all__ = [
    "AdjustedWeights",
    "Health",
    "MinerStats",
    "VestingError",
    "VestingStats",
    "VestingSystem",
    "find_vesting_bin",
]
