"""Compatibility shim: the policy loader now lives in the ``bittensor-vesting`` package
(``python/``, ``pip install ./python``) as :mod:`bittensor_vesting.policy`.

``import vesting_policy`` keeps working for the scripts next to this file
(``run_vectors.py``): it is the package's module, from this checkout's ``python/src``
(so the examples run the code they ship with), else from the installed package.

It runs policies of both contracts, ``bittensor:vesting@0.1.0`` and ``@0.2.0``, and presents
both in the 0.1 shape (the adapter is ``bittensor_vesting.contract``; ``raw=True`` skips it).
"""

import os
import sys

_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python", "src")
if os.path.isdir(os.path.join(_SRC, "bittensor_vesting")) and _SRC not in sys.path:
    sys.path.insert(0, _SRC)

import bittensor_vesting.policy as _policy  # noqa: E402

sys.modules[__name__] = _policy
