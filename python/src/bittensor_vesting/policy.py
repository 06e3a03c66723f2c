"""Run a Bittensor vesting policy component (``.wasm``) from Python.

A policy implements one of the two contracts this host speaks, and ``Policy.load`` takes
either: ``bittensor:vesting@0.2.0`` (``wit/vesting.wit``: accounts by index into an
``accounts`` table, flat ledgers) or ``bittensor:vesting@0.1.0`` (``wit/0.1.0/vesting.wit``:
account strings, a list of holder ledgers). ``policy.contract`` says which. This module
runs the very same ``.wasm`` the Rust host runs, through ``wasmtime``'s component model
support, so a Python validator gets bit-identical results.

Values go in and come out as plain Python data in the JSON shape of the conformance
vectors (``tests/vectors/*/*.json``), which is how the Rust host's serde writes them:

- records are dicts with snake_case keys (``default_value``, ``before_block``);
- enums are their CamelCase names (``"MovedIn"``), variants ``{"Amount": 5}`` (or the
  bare name for a case without payload); options are ``None`` or the value;
- ``u64`` / ``s64`` / ``u16`` ... are ints, ``f64`` are floats (ints accepted on input);
- a ``result`` is ``{"Ok": ...}`` / ``{"Err": ...}`` from :meth:`Policy.call`; the typed
  methods return the ``Ok`` value and raise :class:`PolicyError` for the ``Err``.

Callers use the 0.1 shape for both contracts (accounts are strings; ledgers a ``list`` of
``{"holder", "tranches", "unmatched_outflow"}``): for a 0.2 policy every call goes through
the adapter of :mod:`.contract` (the input's account strings deduplicated and sorted by
UTF-8 bytes into ``accounts``, indices in their place, ledgers flattened; the output mapped
back). ``policy.call(function, ..., raw=True)`` passes the policy's own shape unadapted.

The conversion to wasmtime's values (:mod:`.values`) is derived from the component's own
type information (record fields, enum names, variant cases read from the loaded ``.wasm``),
not written per record: a contract that adds a field or a case needs no change there.

Every call runs in a fresh store with a fuel limit and a memory limit (defaults as in the
Rust host); a trap or exhausted fuel raises :class:`PolicyCallError` naming the policy and
the function, as does output that breaks the contract. Bad input raises
:class:`PolicyInputError` with the path of the bad value.

    >>> policy = Policy.load("vesting_policy_default.wasm")
    >>> policy.info()["name"], policy.contract
    ('default', 'bittensor:vesting@0.2.0')
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import wasmtime
import wasmtime.component as wc

from . import contract as _contract
from .errors import PolicyCallError, PolicyError, PolicyInputError, PolicyLoadError
from .values import Function, camel_name, describe, snake_name

__all__ = [
    "CONTRACT",
    "CONTRACTS",
    "EXPORT",
    "ALLOWED_IMPORTS",
    "ONE",
    "DEFAULT_FUEL",
    "DEFAULT_MEMORY_BYTES",
    "Policy",
    "PolicyError",
    "PolicyCallError",
    "PolicyLoadError",
    "PolicyInputError",
    "camel_name",
    "snake_name",
    "check_weights_output",
]

#: The contracts this module speaks, oldest first.
CONTRACTS = tuple(c.name for c in _contract.CONTRACTS)
#: The newest contract this module speaks.
CONTRACT = _contract.V2.name
#: The newest contract's interface a policy exports (``@0.1.0`` is accepted too).
EXPORT = _contract.V2.export
#: The imports a policy may have: its contract's own types (types only, no functions); a
#: policy may import only the one of the contract it exports.
ALLOWED_IMPORTS = tuple(c.types for c in _contract.CONTRACTS)
#: 1.0 in the contract's fixed point (9 decimals).
ONE = 1_000_000_000
#: Fuel (about one unit per wasm instruction) one call may burn, as in the Rust host.
DEFAULT_FUEL = 2_000_000_000
#: Bytes a call's linear memory may grow to, as in the Rust host.
DEFAULT_MEMORY_BYTES = 256 << 20

#: The functions the contract's ``policy`` interface exports (the same in both versions).
CONTRACT_FUNCTIONS = (
    "info",
    "resolve-params",
    "attribute",
    "ledger-step",
    "holdings",
    "multipliers",
    "apply-weights",
)


# ------------------------------------------------------------------------ the policy


class Policy:
    """A loaded policy component. Use :meth:`load`; then call one method per contract
    function. Every call gets a fresh store: no state survives between calls."""

    def __init__(self, wasm: bytes, *, fuel: int = DEFAULT_FUEL, memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 source: str = "<bytes>"):
        if isinstance(fuel, bool) or not isinstance(fuel, int) or fuel <= 0:
            raise ValueError(f"fuel must be a positive int, got {fuel!r}")
        if isinstance(memory_bytes, bool) or not isinstance(memory_bytes, int) or memory_bytes <= 0:
            raise ValueError(f"memory_bytes must be a positive int, got {memory_bytes!r}")
        self.fuel = fuel
        self.memory_bytes = memory_bytes
        self.sha256 = hashlib.sha256(wasm).hexdigest()
        self.source = source
        self.fuel_used = 0
        self.calls = 0
        self._label = f"{source} ({self.sha256[:12]})"

        config = wasmtime.Config()
        config.consume_fuel = True
        self._engine = wasmtime.Engine(config)
        try:
            self._component = wc.Component(self._engine, wasm)
        except wasmtime.WasmtimeError as e:
            raise PolicyLoadError(f"{source}: not a valid wasm component: {e}") from None

        ctype = self._component.type
        self.imports = list(ctype.imports(self._engine))
        exports = ctype.exports(self._engine)
        # Which contract: the `policy` interface it exports, and only that one's types imported.
        self._contract = _contract.select(list(exports), self.imports, source)
        export = self._contract.export
        instance_type = exports[export].ty
        instance_index = self._component.get_export_index(export)
        self._functions: Dict[str, Function] = {}
        for name, ext in instance_type.exports(self._engine).items():
            fty = ext.ty
            if isinstance(fty, wc.FuncType):
                index = self._component.get_export_index(name, instance=instance_index)
                self._functions[name] = Function(name, index, fty)
        missing = [f for f in CONTRACT_FUNCTIONS if f not in self._functions]
        if missing:
            raise PolicyLoadError(f"{source}: the component does not implement {export}: missing {', '.join(missing)}")
        # The Rust host's empty linker: the only import is types-only, nothing to define.
        self._linker = wc.Linker(self._engine)

        self._info = self.call("info")
        _contract.check_declared(self._contract, self._info, source)
        self._label = f"{self._info['name']}@{self._info['version']} ({self.sha256[:12]})"

    @classmethod
    def load(cls, path: "str | os.PathLike[str]", *, fuel: int = DEFAULT_FUEL,
             memory_bytes: int = DEFAULT_MEMORY_BYTES) -> "Policy":
        """Compiles the component at ``path``, checks it against the contract and reads
        its ``info``. ``fuel`` and ``memory_bytes`` limit every later call."""
        try:
            with open(path, "rb") as f:
                wasm = f.read()
        except OSError as e:
            raise PolicyLoadError(f"cannot read policy file `{path}`: {e.strerror}") from None
        return cls(wasm, fuel=fuel, memory_bytes=memory_bytes, source=os.fspath(path))

    @property
    def contract(self) -> str:
        """The contract the policy speaks: ``"bittensor:vesting@0.1.0"`` or ``"...@0.2.0"``
        (the ``policy`` interface it exports, which its ``info`` declares)."""
        return self._contract.name

    @property
    def label(self) -> str:
        """``name@version (sha256 prefix)``: how errors name this policy (as in the Rust host)."""
        return self._label

    @property
    def functions(self) -> List[str]:
        """The functions the component exports."""
        return list(self._functions)

    def parameters(self, function: str) -> List[str]:
        """The (snake_case) parameter names of an exported function."""
        return [n for n, _ in self._function(function).params]

    def _function(self, function: str) -> Function:
        try:
            return self._functions[function]
        except KeyError:
            raise ValueError(f"the policy exports no function `{function}` (it has {', '.join(self._functions)})") from None

    def _failure(self, e: Exception) -> str:
        text = str(e)
        if (isinstance(e, wasmtime.Trap) and e.trap_code == wasmtime.TrapCode.OUT_OF_FUEL) or "all fuel consumed" in text:
            return f"ran out of fuel (limit {self.fuel})"
        # wasmtime's message is "error while executing at wasm backtrace: ... Caused by:
        # <the trap>": lead with the cause, keep the backtrace after it.
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        cause = lines[-1] if lines else "unknown error"
        detail = "" if len(lines) <= 1 else " | " + " ".join(lines[:-1])
        note = ""
        if "unreachable" in cause:
            # The Rust host makes a failed memory.grow trap with its own message
            # (`trap_on_grow_failure`); wasmtime-py cannot, so the policy's allocator sees
            # the failure and aborts, which looks like any other abort.
            note = f" (a policy abort; also how exceeding the memory limit of {self.memory_bytes} bytes shows)"
        return f"trapped: {cause}{note}{detail}"

    def call(self, function: str, *args: Any, raw: bool = False, **kwargs: Any) -> Any:
        """Calls an exported function with JSON-shaped arguments (positionally or by their
        snake_case parameter names) and returns its JSON-shaped result: for a function that
        returns a ``result``, ``{"Ok": ...}`` or ``{"Err": {"code": ..., "message": ...}}``.

        Arguments and results have the 0.1 shape whatever the policy's contract: a 0.2
        policy's input and output go through the adapter (:mod:`.contract`). With
        ``raw=True`` they have the policy's own shape (for a 0.2 policy: ``accounts`` and
        indices, flat ``ledgers``) and pass unadapted.

        Raises :class:`PolicyInputError` for arguments that do not fit and
        :class:`PolicyCallError` when the call traps, runs out of fuel, or returns output
        that breaks the contract (an account index past the input's table, ledgers that do
        not add up, ``apply-weights`` invariants).
        """
        f = self._function(function)
        if len(args) > len(f.params):
            raise TypeError(f"`{function}` takes {len(f.params)} argument(s), got {len(args)}")
        values: Dict[str, Any] = {}
        for (name, _), a in zip(f.params, args):
            values[name] = a
        for name, a in kwargs.items():
            if name not in {n for n, _ in f.params}:
                raise TypeError(f"`{function}` has no parameter `{name}` (it takes {', '.join(n for n, _ in f.params) or 'none'})")
            if name in values:
                raise TypeError(f"`{function}`: `{name}` given twice")
            values[name] = a
        for name, _ in f.params:
            if name not in values:
                raise TypeError(f"`{function}`: missing argument `{name}`")
        accounts = None
        if self._contract.indexed and not raw and "input" in values:
            values["input"], accounts = _contract.input_to_v2(function, values["input"])
        out = self._invoke(f, values)
        if accounts is not None and isinstance(out, dict) and "Ok" in out:
            try:
                out = {"Ok": _contract.output_to_v1(function, out["Ok"], accounts)}
            except _contract.InvalidOutput as e:
                raise PolicyCallError(self.label, function, f"returned invalid output: {e}") from None
        if function == "apply-weights" and isinstance(out, dict) and "Ok" in out and "input" in values:
            # The contract's invariants, checked like the Rust host does.
            why = check_weights_output(values["input"], out["Ok"])
            if why:
                raise PolicyCallError(self.label, function, f"returned invalid output: {why}")
        return out

    def _invoke(self, f: Function, values: Mapping[str, Any]) -> Any:
        """Runs ``f`` in a fresh store on arguments of the policy's own shape."""
        lowered = [shape.to_wasm(values[name], name) for name, shape in f.params]
        store = wasmtime.Store(self._engine)
        store.set_fuel(self.fuel)
        store.set_limits(memory_size=self.memory_bytes)
        try:
            instance = self._linker.instantiate(store, self._component)
            func = instance.get_func(store, f.index)
            if func is None:
                raise PolicyCallError(self.label, f.name, "the instance has no such function")
            raw = func(store, *lowered)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as e:
            raise PolicyCallError(self.label, f.name, self._failure(e)) from None
        finally:
            try:
                self.fuel_used += self.fuel - store.get_fuel()
            except wasmtime.WasmtimeError:
                pass
            self.calls += 1
        return None if f.result is None else f.result.from_wasm(raw, "result")

    def _unwrap(self, function: str, out: Any) -> Any:
        if "Err" in out:
            err = out["Err"]
            raise PolicyError(err["code"], err["message"], self.label, function)
        return out["Ok"]

    @staticmethod
    def _params(params: Optional[Sequence[Mapping[str, Any]]]) -> List[Any]:
        return [] if params is None else list(params)

    # One method per contract function. `params` is a list of {"name": ..., "value":
    # {"Amount"|"Fixed"|"Count"|"Flag"|"Choice": v}}; None means all defaults.

    def info(self) -> Dict[str, Any]:
        """Name, version, contract and the parameter schema with defaults."""
        return self.call("info")

    def resolve_params(self, params: Optional[Sequence[Mapping[str, Any]]] = None) -> List[Dict[str, Any]]:
        """The parameters the policy would use: defaults filled in, every value checked."""
        return self._unwrap("resolve-params", self.call("resolve-params", self._params(params)))

    def attribute(self, params: Optional[Sequence[Mapping[str, Any]]], input: Mapping[str, Any]) -> List[Dict[str, Any]]:
        """Split each position's change across an epoch into earned, manual and residue."""
        return self._unwrap("attribute", self.call("attribute", self._params(params), input))

    def ledger_step(self, params: Optional[Sequence[Mapping[str, Any]]], input: Mapping[str, Any]) -> Dict[str, Any]:
        """Advance holders' ledgers: new earnings, manual inflows, outflows, vesting payments."""
        return self._unwrap("ledger-step", self.call("ledger-step", self._params(params), input))

    def holdings(self, params: Optional[Sequence[Mapping[str, Any]]], input: Mapping[str, Any]) -> List[Dict[str, Any]]:
        """Holding metrics per holder."""
        return self._unwrap("holdings", self.call("holdings", self._params(params), input))

    def multipliers(self, params: Optional[Sequence[Mapping[str, Any]]], input: Mapping[str, Any]) -> List[Dict[str, Any]]:
        """One multiplier per miner."""
        return self._unwrap("multipliers", self.call("multipliers", self._params(params), input))

    def apply_weights(self, params: Optional[Sequence[Mapping[str, Any]]], input: Mapping[str, Any]) -> Dict[str, Any]:
        """The validator's weights times the multipliers, normalised, and the u16 chain
        vector. The output is checked against the contract's invariants (as the Rust host
        does); a policy that breaks them raises :class:`PolicyCallError`."""
        return self._unwrap("apply-weights", self.call("apply-weights", self._params(params), input))

    def apply_vesting_multipliers(
        self,
        weights: Iterable[Any],
        uids: Iterable[Any],
        hotkeys: Iterable[str],
        multipliers: Sequence[Mapping[str, Any]],
        params: Optional[Sequence[Mapping[str, Any]]] = None,
    ) -> Tuple[List[float], List[int], List[int]]:
        """The validator's weights adjusted by the vesting multipliers, ready for
        ``set_weights``: ``(weights, chain_uids, chain_weights)``.

        - ``weights``, ``uids``, ``hotkeys``: one entry per uid (Python numbers, or numpy /
          torch scalars; anything else is refused);
        - ``multipliers``: what :meth:`multipliers` returned (dicts with ``uid``,
          ``hotkey``, ``multiplier``, ...);
        - returns the adjusted weights as floats (``fixed / 1e9``, in input order; their
          fixed-point values sum to exactly 1.0, or all are 0), and the chain vector: the
          uids with a non-zero weight and their u16 weights (the largest is 65535).
        """
        w = [_number(x, f"weights[{i}]") for i, x in enumerate(weights)]
        u = [_integer(x, f"uids[{i}]") for i, x in enumerate(uids)]
        h = list(hotkeys)
        out = self.apply_weights(params, {"uids": u, "weights": w, "hotkeys": h, "multipliers": list(multipliers)})
        return [x / ONE for x in out["weights"]], list(out["chain_uids"]), list(out["chain_weights"])


def _scalar(x: Any) -> Any:
    # numpy and torch scalars (and 0-d arrays / tensors) have `.item()`.
    item = getattr(x, "item", None)
    if callable(item) and not isinstance(x, (int, float)):
        try:
            return item()
        except (TypeError, ValueError):
            return x
    return x


def _number(x: Any, path: str) -> float:
    v = _scalar(x)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise PolicyInputError(path, f"expected a number, got {describe(x)}")
    return float(v)


def _integer(x: Any, path: str) -> int:
    v = _scalar(x)
    if isinstance(v, bool) or not isinstance(v, int):
        raise PolicyInputError(path, f"expected an integer, got {describe(x)}")
    return v


def check_weights_output(input: Mapping[str, Any], out: Mapping[str, Any]) -> Optional[str]:
    """The contract's invariants on ``apply-weights`` output (as the Rust host's
    ``invariants::weights``): ``None`` when they hold, else what breaks."""
    uids = list(input["uids"])
    if list(out["uids"]) != uids:
        return "uids differ from the input's"
    if len(out["weights"]) != len(uids) or len(out["multipliers"]) != len(uids):
        return f"{len(out['weights'])} weights and {len(out['multipliers'])} multipliers for {len(uids)} uids"
    total = sum(out["weights"])
    if total not in (ONE, 0):
        return f"weights sum to {total}, not {ONE} (1.0)"
    if len(out["chain_uids"]) != len(out["chain_weights"]):
        return "chain-uids and chain-weights differ in length"
    known = set(uids)
    for u in out["chain_uids"]:
        if u not in known:
            return f"chain vector names uid {u}, which is not in the input"
    return None
