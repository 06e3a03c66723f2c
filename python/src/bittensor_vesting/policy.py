"""Run a Bittensor vesting policy component (``.wasm``) from Python.

A policy implements the contract in ``wit/vesting.wit`` (``bittensor:vesting@0.1.0``).
This module runs the very same ``.wasm`` the Rust host runs, through ``wasmtime``'s
component model support, so a Python validator gets bit-identical results.

Values go in and come out as plain Python data in the JSON shape of the conformance
vectors (``tests/vectors/*/*.json``), which is how the Rust host's serde writes them:

- records are dicts with snake_case keys (``default_value``, ``before_block``);
- enums are their CamelCase names (``"MovedIn"``), variants ``{"Amount": 5}`` (or the
  bare name for a case without payload); options are ``None`` or the value;
- ``u64`` / ``s64`` / ``u16`` ... are ints, ``f64`` are floats (ints accepted on input);
- a ``result`` is ``{"Ok": ...}`` / ``{"Err": ...}`` from :meth:`Policy.call`; the typed
  methods return the ``Ok`` value and raise :class:`PolicyError` for the ``Err``.

The conversion is derived from the component's own type information (record fields,
enum names, variant cases read from the loaded ``.wasm``), not written per record: a
contract that adds a field or a case needs no change here.

Every call runs in a fresh store with a fuel limit and a memory limit (defaults as in the
Rust host); a trap or exhausted fuel raises :class:`PolicyCallError` naming the policy and
the function. Bad input raises :class:`PolicyInputError` with the path of the bad value.

    >>> policy = Policy.load("vesting_policy_default.wasm")
    >>> policy.info()["name"]
    'default'
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import wasmtime
import wasmtime.component as wc

__all__ = [
    "CONTRACT",
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
]

#: The contract this module speaks.
CONTRACT = "bittensor:vesting@0.1.0"
#: The contract's interface a policy must export.
EXPORT = "bittensor:vesting/policy@0.1.0"
#: The only import a policy may have: the contract's own types (types only, no functions).
ALLOWED_IMPORTS = ("bittensor:vesting/types@0.1.0",)
#: 1.0 in the contract's fixed point (9 decimals).
ONE = 1_000_000_000
#: Fuel (about one unit per wasm instruction) one call may burn, as in the Rust host.
DEFAULT_FUEL = 2_000_000_000
#: Bytes a call's linear memory may grow to, as in the Rust host.
DEFAULT_MEMORY_BYTES = 256 << 20

#: The functions the contract's ``policy`` interface exports.
CONTRACT_FUNCTIONS = (
    "info",
    "resolve-params",
    "attribute",
    "ledger-step",
    "holdings",
    "multipliers",
    "apply-weights",
)


# --------------------------------------------------------------------------- errors


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


# ----------------------------------------------------------------- naming (as serde)

# Rust keywords: wasmtime's bindgen appends `_` to a field named like one, and serde
# then writes that name.
_RUST_KEYWORDS = frozenset(
    "as break const continue crate else enum extern false fn for if impl in let loop "
    "match mod move mut pub ref return self Self static struct super trait true type "
    "unsafe use where while async await dyn abstract become box do final macro override "
    "priv typeof unsized virtual yield try gen".split()
)


def _words(wit_name: str) -> List[str]:
    return [w for w in wit_name.lstrip("%").split("-") if w]


def snake_name(wit_name: str) -> str:
    """A WIT field name as the Rust binding's serde writes it: ``default-value`` ->
    ``default_value``."""
    name = "_".join(w.lower() for w in _words(wit_name))
    return name + "_" if name in _RUST_KEYWORDS else name


def camel_name(wit_name: str) -> str:
    """A WIT enum or variant case as the Rust binding's serde writes it: ``moved-in`` ->
    ``MovedIn``."""
    return "".join(w[:1].upper() + w[1:].lower() for w in _words(wit_name))


# ------------------------------------------------------ JSON shape <-> wasmtime values
#
# A `_Shape` is built once per function from wasmtime's type objects (`RecordType.fields`,
# `EnumType.names`, `VariantType.cases`, ...). It converts plain data to what
# `wasmtime.component.Func.__call__` accepts (Record objects with the WIT field names as
# attributes, `Variant(tag, payload)`, kebab-case enum strings, ...) and back.
#
# wasmtime-py passes an option / result / variant "untagged" (the bare payload) when its
# cases' Python classes do not overlap, and as `Variant(tag, payload)` otherwise; the
# shapes reproduce that rule from the public `ValType.add_classes`.


def _type_name(v: Any) -> str:
    return type(v).__name__


def _describe(v: Any) -> str:
    text = repr(v)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{_type_name(v)} {text}"


class _Shape:
    def to_wasm(self, v: Any, path: str) -> Any:
        raise NotImplementedError

    def from_wasm(self, v: Any, path: str) -> Any:
        raise NotImplementedError


class _Bool(_Shape):
    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, bool):
            raise PolicyInputError(path, f"expected a bool, got {_describe(v)}")
        return v

    def from_wasm(self, v: Any, path: str) -> Any:
        return bool(v)


class _Int(_Shape):
    def __init__(self, name: str, bits: int, signed: bool):
        self.name = name
        if signed:
            self.lo, self.hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        else:
            self.lo, self.hi = 0, (1 << bits) - 1

    def to_wasm(self, v: Any, path: str) -> Any:
        # ctypes would silently truncate an out-of-range int, so check here.
        if isinstance(v, bool) or not isinstance(v, int):
            raise PolicyInputError(path, f"expected an integer ({self.name}), got {_describe(v)}")
        if not self.lo <= v <= self.hi:
            raise PolicyInputError(path, f"{v} is out of range for {self.name} [{self.lo}, {self.hi}]")
        return int(v)

    def from_wasm(self, v: Any, path: str) -> Any:
        return int(v)


class _Float(_Shape):
    def __init__(self, name: str):
        self.name = name

    def to_wasm(self, v: Any, path: str) -> Any:
        # Like serde_json, an integer is accepted for a float.
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise PolicyInputError(path, f"expected a number ({self.name}), got {_describe(v)}")
        return float(v)

    def from_wasm(self, v: Any, path: str) -> Any:
        return float(v)


class _Char(_Shape):
    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, str) or len(v) != 1:
            raise PolicyInputError(path, f"expected a one-character string, got {_describe(v)}")
        return v

    def from_wasm(self, v: Any, path: str) -> Any:
        return v


class _String(_Shape):
    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, str):
            raise PolicyInputError(path, f"expected a string, got {_describe(v)}")
        return v

    def from_wasm(self, v: Any, path: str) -> Any:
        return v


class _List(_Shape):
    def __init__(self, element: _Shape, is_bytes: bool):
        self.element = element
        self.is_bytes = is_bytes  # wasmtime-py passes list<u8> as `bytes`

    def to_wasm(self, v: Any, path: str) -> Any:
        if self.is_bytes and isinstance(v, (bytes, bytearray)):
            return bytes(v)
        if not isinstance(v, (list, tuple)):
            raise PolicyInputError(path, f"expected a list, got {_describe(v)}")
        items = [self.element.to_wasm(e, f"{path}[{i}]") for i, e in enumerate(v)]
        return bytes(items) if self.is_bytes else items

    def from_wasm(self, v: Any, path: str) -> Any:
        if self.is_bytes:
            return list(v)
        return [self.element.from_wasm(e, f"{path}[{i}]") for i, e in enumerate(v)]


class _Record(_Shape):
    def __init__(self, fields: List[Tuple[str, str, _Shape]]):
        # (WIT name, JSON key, shape), in declaration order.
        self.fields = fields
        self.keys = {key for _, key, _ in fields}

    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, Mapping):
            raise PolicyInputError(path, f"expected a record (dict), got {_describe(v)}")
        unknown = sorted(str(k) for k in v if k not in self.keys)
        if unknown:
            raise PolicyInputError(
                path,
                f"unknown field(s) {', '.join(unknown)}; the fields are "
                f"{', '.join(key for _, key, _ in self.fields)}",
            )
        rec = wc.Record()
        for wit, key, shape in self.fields:
            if key in v:
                value = v[key]
            elif isinstance(shape, _Option):
                value = None  # as serde: a missing option is none
            else:
                raise PolicyInputError(f"{path}.{key}", "missing field")
            setattr(rec, wit, shape.to_wasm(value, f"{path}.{key}"))
        return rec

    def from_wasm(self, v: Any, path: str) -> Any:
        return {key: shape.from_wasm(getattr(v, wit), f"{path}.{key}") for wit, key, shape in self.fields}


class _Tuple(_Shape):
    def __init__(self, elements: List[_Shape]):
        self.elements = elements

    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, (list, tuple)) or len(v) != len(self.elements):
            raise PolicyInputError(path, f"expected a list of {len(self.elements)} items, got {_describe(v)}")
        return tuple(s.to_wasm(e, f"{path}[{i}]") for i, (s, e) in enumerate(zip(self.elements, v)))

    def from_wasm(self, v: Any, path: str) -> Any:
        return [s.from_wasm(e, f"{path}[{i}]") for i, (s, e) in enumerate(zip(self.elements, v))]


class _Enum(_Shape):
    def __init__(self, names: List[str]):
        self.to_wit = {camel_name(n): n for n in names}
        self.to_json = {n: camel_name(n) for n in names}

    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, str) or v not in self.to_wit:
            raise PolicyInputError(path, f"expected one of {', '.join(self.to_wit)}, got {_describe(v)}")
        return self.to_wit[v]

    def from_wasm(self, v: Any, path: str) -> Any:
        if v not in self.to_json:
            raise PolicyInputError(path, f"the policy returned unknown enum case {v!r}")
        return self.to_json[v]


def _classes(ty: Optional[wc.ValType]) -> set:
    s: set = set()
    if ty is None:
        s.add(object)
    else:
        ty.add_classes(s)
    return s


class _Cases(_Shape):
    """Variant, option and result: a set of named cases, each with an optional payload.

    ``json_names`` maps each WIT case to its JSON name (``None`` for the option's none).
    """

    def __init__(self, kind: str, cases: List[Tuple[str, Optional[wc.ValType]]], json_names: Dict[str, Optional[str]]):
        self.kind = kind
        self.cases: List[Tuple[str, Optional[_Shape], set]] = [
            (name, None if ty is None else _shape(ty), _classes(ty)) for name, ty in cases
        ]
        self.json_names = json_names
        self.by_json = {j: name for name, j in json_names.items() if j is not None}
        # The rule of wasmtime-py's VariantLikeType._tagged.
        seen: set = set()
        self.tagged = False
        for _, _, cls in self.cases:
            if cls & seen:
                self.tagged = True
            seen |= cls
        if not self.tagged:
            # wasmtime-py picks the first case whose classes match with isinstance: with a
            # case of `int` and one of `bool` (a subclass) it would pick wrongly.
            payload = [tuple(c) for _, s, c in self.cases if s is not None]
            for i, a in enumerate(payload):
                for b in payload[i + 1:]:
                    if any(issubclass(x, y) or issubclass(y, x) for x in a for y in b):
                        raise PolicyLoadError(
                            f"a {kind} whose cases wasmtime-py cannot tell apart "
                            f"({[n for n, _, _ in self.cases]}); this module does not support it"
                        )

    def _lower(self, name: str, payload: Any, path: str) -> Any:
        shape = next(s for n, s, _ in self.cases if n == name)
        raw = None if shape is None else shape.to_wasm(payload, path)
        if self.tagged:
            return wc.Variant(name, raw)
        return raw

    def _lift(self, v: Any, path: str) -> Tuple[str, Optional[_Shape], Any]:
        if self.tagged:
            if not isinstance(v, wc.Variant):
                raise PolicyInputError(path, f"wasmtime returned {_describe(v)} for a tagged {self.kind}")
            for name, shape, _ in self.cases:
                if name == v.tag:
                    return name, shape, v.payload
            raise PolicyInputError(path, f"the policy returned unknown case {v.tag!r}")
        for name, shape, cls in self.cases:
            if shape is None:
                if v is None:
                    return name, None, None
            elif type(v) in cls or isinstance(v, tuple(cls)):
                return name, shape, v
        raise PolicyInputError(path, f"wasmtime returned {_describe(v)}, which fits no case")


class _Variant(_Cases):
    def __init__(self, cases: List[Tuple[str, Optional[wc.ValType]]]):
        super().__init__("variant", cases, {n: camel_name(n) for n, _ in cases})

    def to_wasm(self, v: Any, path: str) -> Any:
        # serde's externally tagged form: "Case" for a case without payload, {"Case": x}.
        if isinstance(v, str) and v in self.by_json:
            name = self.by_json[v]
            if next(s for n, s, _ in self.cases if n == name) is not None:
                raise PolicyInputError(path, f"case {v} needs a payload: {{\"{v}\": ...}}")
            return self._lower(name, None, path)
        if isinstance(v, Mapping) and len(v) == 1:
            (key, payload), = v.items()
            if key in self.by_json:
                name = self.by_json[key]
                if next(s for n, s, _ in self.cases if n == name) is None:
                    if payload is not None:
                        raise PolicyInputError(path, f"case {key} takes no payload")
                return self._lower(name, payload, f"{path}.{key}")
        raise PolicyInputError(
            path,
            f"expected one of {', '.join(self.by_json)} as {{\"Case\": value}}, got {_describe(v)}",
        )

    def from_wasm(self, v: Any, path: str) -> Any:
        name, shape, payload = self._lift(v, path)
        key = self.json_names[name]
        if shape is None:
            return key
        return {key: shape.from_wasm(payload, f"{path}.{key}")}


class _Option(_Cases):
    def __init__(self, payload: wc.ValType):
        super().__init__("option", [("none", None), ("some", payload)], {"none": None, "some": None})

    def to_wasm(self, v: Any, path: str) -> Any:
        return self._lower("none", None, path) if v is None else self._lower("some", v, path)

    def from_wasm(self, v: Any, path: str) -> Any:
        name, shape, payload = self._lift(v, path)
        return None if shape is None else shape.from_wasm(payload, path)


class _Result(_Cases):
    def __init__(self, ok: Optional[wc.ValType], err: Optional[wc.ValType]):
        super().__init__("result", [("ok", ok), ("err", err)], {"ok": "Ok", "err": "Err"})

    def to_wasm(self, v: Any, path: str) -> Any:
        if isinstance(v, Mapping) and len(v) == 1:
            (key, payload), = v.items()
            if key in self.by_json:
                return self._lower(self.by_json[key], payload, f"{path}.{key}")
        raise PolicyInputError(path, f"expected {{\"Ok\": ...}} or {{\"Err\": ...}}, got {_describe(v)}")

    def from_wasm(self, v: Any, path: str) -> Any:
        name, shape, payload = self._lift(v, path)
        key = self.json_names[name]
        return {key: None if shape is None else shape.from_wasm(payload, f"{path}.{key}")}


_INTS = {
    wc.U8: ("u8", 8, False),
    wc.U16: ("u16", 16, False),
    wc.U32: ("u32", 32, False),
    wc.U64: ("u64", 64, False),
    wc.S8: ("s8", 8, True),
    wc.S16: ("s16", 16, True),
    wc.S32: ("s32", 32, True),
    wc.S64: ("s64", 64, True),
}


def _shape(ty: wc.ValType) -> _Shape:
    """The converter of one wasmtime component type, built from its type information."""
    if isinstance(ty, wc.Bool):
        return _Bool()
    for cls, (name, bits, signed) in _INTS.items():
        if isinstance(ty, cls):
            return _Int(name, bits, signed)
    if isinstance(ty, wc.F32):
        return _Float("f32")
    if isinstance(ty, wc.F64):
        return _Float("f64")
    if isinstance(ty, wc.Char):
        return _Char()
    if isinstance(ty, wc.String):
        return _String()
    if isinstance(ty, wc.ListType):
        element = ty.element
        return _List(_shape(element), isinstance(element, wc.U8))
    if isinstance(ty, wc.RecordType):
        return _Record([(name, snake_name(name), _shape(t)) for name, t in ty.fields])
    if isinstance(ty, wc.TupleType):
        return _Tuple([_shape(t) for t in ty.elements])
    if isinstance(ty, wc.EnumType):
        return _Enum(ty.names)
    if isinstance(ty, wc.VariantType):
        return _Variant(ty.cases)
    if isinstance(ty, wc.OptionType):
        return _Option(ty.payload)
    if isinstance(ty, wc.ResultType):
        return _Result(ty.ok, ty.err)
    # flags, resources, streams, futures: not in the contract.
    raise PolicyLoadError(f"the contract uses a type this module does not convert: {_type_name(ty)}")


class _Function:
    """One exported function: its export index and the converters of its signature."""

    def __init__(self, name: str, index: wc.ExportIndex, fty: wc.FuncType):
        self.name = name
        self.index = index
        self.params: List[Tuple[str, _Shape]] = [(snake_name(n), _shape(t)) for n, t in fty.params]
        result = fty.result
        self.result: Optional[_Shape] = None if result is None else _shape(result)


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
        foreign = [i for i in self.imports if i not in ALLOWED_IMPORTS]
        if foreign:
            raise PolicyLoadError(
                f"{source}: the component imports {', '.join(foreign)}; a policy may import "
                f"nothing but the contract's types ({', '.join(ALLOWED_IMPORTS)})"
            )
        exports = ctype.exports(self._engine)
        if EXPORT not in exports:
            raise PolicyLoadError(
                f"{source}: the component does not implement {EXPORT} (it exports {', '.join(exports) or 'nothing'})"
            )
        instance_type = exports[EXPORT].ty
        instance_index = self._component.get_export_index(EXPORT)
        self._functions: Dict[str, _Function] = {}
        for name, ext in instance_type.exports(self._engine).items():
            fty = ext.ty
            if isinstance(fty, wc.FuncType):
                index = self._component.get_export_index(name, instance=instance_index)
                self._functions[name] = _Function(name, index, fty)
        missing = [f for f in CONTRACT_FUNCTIONS if f not in self._functions]
        if missing:
            raise PolicyLoadError(f"{source}: the component does not implement {EXPORT}: missing {', '.join(missing)}")
        # The Rust host's empty linker: the only import is types-only, nothing to define.
        self._linker = wc.Linker(self._engine)

        self._info = self.call("info")
        if self._info.get("contract") != CONTRACT:
            raise PolicyLoadError(
                f"{source}: it declares contract `{self._info.get('contract')}`, this host speaks `{CONTRACT}`"
            )
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

    def _function(self, function: str) -> _Function:
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

    def call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """Calls an exported function with JSON-shaped arguments (positionally or by their
        snake_case parameter names) and returns its JSON-shaped result: for a function that
        returns a ``result``, ``{"Ok": ...}`` or ``{"Err": {"code": ..., "message": ...}}``.

        Raises :class:`PolicyInputError` for arguments that do not fit and
        :class:`PolicyCallError` when the call traps, runs out of fuel, or (for
        ``apply-weights``) returns output that breaks the contract's invariants.
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
        lowered = []
        for name, shape in f.params:
            if name not in values:
                raise TypeError(f"`{function}`: missing argument `{name}`")
            lowered.append(shape.to_wasm(values[name], name))

        store = wasmtime.Store(self._engine)
        store.set_fuel(self.fuel)
        store.set_limits(memory_size=self.memory_bytes)
        try:
            instance = self._linker.instantiate(store, self._component)
            func = instance.get_func(store, f.index)
            if func is None:
                raise PolicyCallError(self.label, function, "the instance has no such function")
            raw = func(store, *lowered)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as e:
            raise PolicyCallError(self.label, function, self._failure(e)) from None
        finally:
            try:
                self.fuel_used += self.fuel - store.get_fuel()
            except wasmtime.WasmtimeError:
                pass
            self.calls += 1
        if f.result is None:
            return None
        out = f.result.from_wasm(raw, "result")
        if function == "apply-weights" and isinstance(out, dict) and "Ok" in out and "input" in values:
            # The contract's invariants, checked like the Rust host does.
            why = check_weights_output(values["input"], out["Ok"])
            if why:
                raise PolicyCallError(self.label, function, f"returned invalid output: {why}")
        return out

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
        raise PolicyInputError(path, f"expected a number, got {_describe(x)}")
    return float(v)


def _integer(x: Any, path: str) -> int:
    v = _scalar(x)
    if isinstance(v, bool) or not isinstance(v, int):
        raise PolicyInputError(path, f"expected an integer, got {_describe(x)}")
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
