"""The errors of running a vesting policy component: the policy's typed refusal
(:class:`PolicyError`), a failed call (:class:`PolicyCallError`), an unusable component
(:class:`PolicyLoadError`) and input that does not fit the contract (:class:`PolicyInputError`).

They live here so that every module of the policy runner (:mod:`.values`, :mod:`.contract`,
:mod:`.policy`) raises the same classes; :mod:`bittensor_vesting.policy` re-exports them.
"""

from __future__ import annotations

__all__ = ["PolicyError", "PolicyCallError", "PolicyLoadError", "PolicyInputError"]


class PolicyError(Exception):
    """The policy refused the call with its typed error (``policy-error``).

    ``code`` is the CamelCase error code (``"DuplicateUid"``), ``message`` the policy's
    explanation.
    """

    def __init__(self, code: str, message: str, policy: str = "", function: str = ""):
        self.code = code
        self.message = message
        self.policy = policy
        self.function = function
        super().__init__(f"policy `{policy}` refused `{function}` ({code}): {message}")


class PolicyCallError(RuntimeError):
    """A call failed outright: a trap, exhausted fuel, or output that breaks the contract."""

    def __init__(self, policy: str, function: str, failure: str):
        self.policy = policy
        self.function = function
        self.failure = failure
        super().__init__(f"policy `{policy}` failed in `{function}`: {failure}")


class PolicyLoadError(RuntimeError):
    """The file is not a usable policy component."""


class PolicyInputError(ValueError):
    """A value handed to the policy does not fit the contract's type.

    ``path`` names the value (``input.flows[2].kind``).
    """

    def __init__(self, path: str, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")

