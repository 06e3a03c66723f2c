"""Plain Python data <-> wasmtime component values, derived from the component's own types.

This module owns the conversion between the JSON shape of the conformance vectors (what the
Rust host's serde writes: dicts with snake_case keys, CamelCase enum names, ``{"Case": x}``
variants, ``None`` for a none) and what ``wasmtime.component.Func`` takes and returns. A
converter (:class:`Shape`) is built once per function from wasmtime's type objects, so a
contract that adds a field or a case needs no change here; it knows nothing of any one
contract (the 0.1 <-> 0.2 adapter is :mod:`.contract`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

import wasmtime.component as wc

from .errors import PolicyInputError, PolicyLoadError

__all__ = ["Shape", "Function", "shape_of", "snake_name", "camel_name", "describe"]


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
# A `Shape` is built once per function from wasmtime's type objects (`RecordType.fields`,
# `EnumType.names`, `VariantType.cases`, ...). It converts plain data to what
# `wasmtime.component.Func.__call__` accepts (Record objects with the WIT field names as
# attributes, `Variant(tag, payload)`, kebab-case enum strings, ...) and back.
#
# wasmtime-py passes an option / result / variant "untagged" (the bare payload) when its
# cases' Python classes do not overlap, and as `Variant(tag, payload)` otherwise; the
# shapes reproduce that rule from the public `ValType.add_classes`.


def _type_name(v: Any) -> str:
    return type(v).__name__


def describe(v: Any) -> str:
    text = repr(v)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{_type_name(v)} {text}"


class Shape:
    def to_wasm(self, v: Any, path: str) -> Any:
        raise NotImplementedError

    def from_wasm(self, v: Any, path: str) -> Any:
        raise NotImplementedError


class _Bool(Shape):
    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, bool):
            raise PolicyInputError(path, f"expected a bool, got {describe(v)}")
        return v

    def from_wasm(self, v: Any, path: str) -> Any:
        return bool(v)


class _Int(Shape):
    def __init__(self, name: str, bits: int, signed: bool):
        self.name = name
        if signed:
            self.lo, self.hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        else:
            self.lo, self.hi = 0, (1 << bits) - 1

    def to_wasm(self, v: Any, path: str) -> Any:
        # ctypes would silently truncate an out-of-range int, so check here.
        if isinstance(v, bool) or not isinstance(v, int):
            raise PolicyInputError(path, f"expected an integer ({self.name}), got {describe(v)}")
        if not self.lo <= v <= self.hi:
            raise PolicyInputError(path, f"{v} is out of range for {self.name} [{self.lo}, {self.hi}]")
        return int(v)

    def from_wasm(self, v: Any, path: str) -> Any:
        return int(v)


class _Float(Shape):
    def __init__(self, name: str):
        self.name = name

    def to_wasm(self, v: Any, path: str) -> Any:
        # Like serde_json, an integer is accepted for a float.
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise PolicyInputError(path, f"expected a number ({self.name}), got {describe(v)}")
        return float(v)

    def from_wasm(self, v: Any, path: str) -> Any:
        return float(v)


class _Char(Shape):
    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, str) or len(v) != 1:
            raise PolicyInputError(path, f"expected a one-character string, got {describe(v)}")
        return v

    def from_wasm(self, v: Any, path: str) -> Any:
        return v


class _String(Shape):
    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, str):
            raise PolicyInputError(path, f"expected a string, got {describe(v)}")
        return v

    def from_wasm(self, v: Any, path: str) -> Any:
        return v


class _List(Shape):
    def __init__(self, element: Shape, is_bytes: bool):
        self.element = element
        self.is_bytes = is_bytes  # wasmtime-py passes list<u8> as `bytes`

    def to_wasm(self, v: Any, path: str) -> Any:
        if self.is_bytes and isinstance(v, (bytes, bytearray)):
            return bytes(v)
        if not isinstance(v, (list, tuple)):
            raise PolicyInputError(path, f"expected a list, got {describe(v)}")
        items = [self.element.to_wasm(e, f"{path}[{i}]") for i, e in enumerate(v)]
        return bytes(items) if self.is_bytes else items

    def from_wasm(self, v: Any, path: str) -> Any:
        if self.is_bytes:
            return list(v)
        return [self.element.from_wasm(e, f"{path}[{i}]") for i, e in enumerate(v)]


class _Record(Shape):
    def __init__(self, fields: List[Tuple[str, str, Shape]]):
        # (WIT name, JSON key, shape), in declaration order.
        self.fields = fields
        self.keys = {key for _, key, _ in fields}

    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, Mapping):
            raise PolicyInputError(path, f"expected a record (dict), got {describe(v)}")
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


class _Tuple(Shape):
    def __init__(self, elements: List[Shape]):
        self.elements = elements

    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, (list, tuple)) or len(v) != len(self.elements):
            raise PolicyInputError(path, f"expected a list of {len(self.elements)} items, got {describe(v)}")
        return tuple(s.to_wasm(e, f"{path}[{i}]") for i, (s, e) in enumerate(zip(self.elements, v)))

    def from_wasm(self, v: Any, path: str) -> Any:
        return [s.from_wasm(e, f"{path}[{i}]") for i, (s, e) in enumerate(zip(self.elements, v))]


class _Enum(Shape):
    def __init__(self, names: List[str]):
        self.to_wit = {camel_name(n): n for n in names}
        self.to_json = {n: camel_name(n) for n in names}

    def to_wasm(self, v: Any, path: str) -> Any:
        if not isinstance(v, str) or v not in self.to_wit:
            raise PolicyInputError(path, f"expected one of {', '.join(self.to_wit)}, got {describe(v)}")
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


class _Cases(Shape):
    """Variant, option and result: a set of named cases, each with an optional payload.

    ``json_names`` maps each WIT case to its JSON name (``None`` for the option's none).
    """

    def __init__(self, kind: str, cases: List[Tuple[str, Optional[wc.ValType]]], json_names: Dict[str, Optional[str]]):
        self.kind = kind
        self.cases: List[Tuple[str, Optional[Shape], set]] = [
            (name, None if ty is None else shape_of(ty), _classes(ty)) for name, ty in cases
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

    def _lift(self, v: Any, path: str) -> Tuple[str, Optional[Shape], Any]:
        if self.tagged:
            if not isinstance(v, wc.Variant):
                raise PolicyInputError(path, f"wasmtime returned {describe(v)} for a tagged {self.kind}")
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
        raise PolicyInputError(path, f"wasmtime returned {describe(v)}, which fits no case")


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
            f"expected one of {', '.join(self.by_json)} as {{\"Case\": value}}, got {describe(v)}",
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
        raise PolicyInputError(path, f"expected {{\"Ok\": ...}} or {{\"Err\": ...}}, got {describe(v)}")

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


def shape_of(ty: wc.ValType) -> Shape:
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
        return _List(shape_of(element), isinstance(element, wc.U8))
    if isinstance(ty, wc.RecordType):
        return _Record([(name, snake_name(name), shape_of(t)) for name, t in ty.fields])
    if isinstance(ty, wc.TupleType):
        return _Tuple([shape_of(t) for t in ty.elements])
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


class Function:
    """One exported function: its export index and the converters of its signature."""

    def __init__(self, name: str, index: wc.ExportIndex, fty: wc.FuncType):
        self.name = name
        self.index = index
        self.params: List[Tuple[str, Shape]] = [(snake_name(n), shape_of(t)) for n, t in fty.params]
        result = fty.result
        self.result: Optional[Shape] = None if result is None else shape_of(result)

