"""The contracts this host speaks, and the adapter between their shapes.

This module owns everything that differs between the two versions of the policy contract:

- ``bittensor:vesting@0.1.0`` (``wit/0.1.0/vesting.wit``): accounts are strings, ledgers a
  ``list<holder-ledger>`` of records;
- ``bittensor:vesting@0.2.0`` (``wit/vesting.wit``): every input that names accounts carries
  them once, in ``accounts`` (sorted by the strings' UTF-8 bytes, no duplicates), and its
  records name them by index (``type account = u32``), as the output does; ledgers are one
  flat record of integer lists (``ledgers``).

It says which contract a component speaks (:func:`select`: its export and its one allowed
import; :func:`check_declared`: what its ``info`` declares), and adapts values between the
two shapes, as the WIT package comment of 0.2.0 specifies:

- :func:`input_to_v2` / :func:`output_to_v1`: what :class:`~bittensor_vesting.policy.Policy`
  does around every call of a 0.2 policy, so callers keep passing and getting the 0.1 shape
  (account strings, a list of holder ledgers) whichever contract the policy speaks;
- :func:`input_to_v1` / :func:`output_to_v2`: the other direction (a 0.2-shaped value for a
  0.1 policy), which the tests use to present a 0.1 policy as a 0.2 one.

``info``, ``resolve-params`` and ``apply-weights``' output have the same shape in both
contracts and pass unchanged. Values are the JSON shape of :mod:`.values` (dicts with
snake_case keys). Structure this module does not look at (amounts, blocks, unknown fields)
is copied as is, for the converters of :mod:`.values` to check against the component's types.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, MutableMapping, Optional, Sequence, Tuple, Union

from .errors import PolicyInputError, PolicyLoadError
from .values import describe

__all__ = [
    "Contract",
    "V1",
    "V2",
    "CONTRACTS",
    "ADAPTED_FUNCTIONS",
    "InvalidOutput",
    "select",
    "check_declared",
    "sort_accounts",
    "input_to_v2",
    "output_to_v1",
    "input_to_v1",
    "output_to_v2",
    "flatten_ledgers",
    "unflatten_ledgers",
]


class Contract:
    """One version of the contract: its name (what ``info().contract`` declares), the
    interface a policy exports and the one interface it may import (types only)."""

    def __init__(self, version: str, indexed: bool):
        self.version = version
        self.name = f"bittensor:vesting@{version}"
        self.export = f"bittensor:vesting/policy@{version}"
        self.types = f"bittensor:vesting/types@{version}"
        #: Accounts by index into the input's ``accounts``, and flat ``ledgers`` (0.2).
        self.indexed = indexed

    def __repr__(self) -> str:
        return f"Contract({self.name!r})"


V1 = Contract("0.1.0", indexed=False)
V2 = Contract("0.2.0", indexed=True)
#: Every contract this host speaks, oldest first.
CONTRACTS: Tuple[Contract, ...] = (V1, V2)


def _spoken() -> str:
    return " and ".join(c.name for c in CONTRACTS) + " (a policy exports " + " or ".join(
        c.export for c in CONTRACTS) + ")"


def select(exports: Sequence[str], imports: Sequence[str], source: str = "the component") -> Contract:
    """The contract a component with these exports and imports speaks: the newest whose
    ``policy`` interface it exports. Its only allowed import is that contract's ``types``.
    Raises :class:`PolicyLoadError` naming what the component has and what this host speaks."""
    chosen = next((c for c in reversed(CONTRACTS) if c.export in exports), None)
    if chosen is None:
        raise PolicyLoadError(
            f"{source}: the component does not implement a contract this host speaks: it exports "
            f"{', '.join(exports) or 'nothing'}; this host speaks {_spoken()}"
        )
    foreign = [i for i in imports if i != chosen.types]
    if foreign:
        raise PolicyLoadError(
            f"{source}: the component imports {', '.join(foreign)}; a policy of {chosen.name} "
            f"(it exports {chosen.export}) may import nothing but {chosen.types}"
        )
    return chosen


def check_declared(contract: Contract, info: Mapping[str, Any], source: str = "the component") -> None:
    """Raises :class:`PolicyLoadError` unless ``info().contract`` is the contract exported."""
    declared = info.get("contract") if isinstance(info, Mapping) else None
    if declared != contract.name:
        raise PolicyLoadError(
            f"{source}: it exports {contract.export} but declares contract `{declared}`; "
            f"a policy that exports {contract.export} must declare `{contract.name}` "
            f"(this host speaks {_spoken()})"
        )


class InvalidOutput(ValueError):
    """A policy's output does not fit its contract (an account index past the input's
    table, ledgers whose lists do not add up, an unknown tranche kind). The policy runner
    reports it as :class:`~bittensor_vesting.errors.PolicyCallError` (invalid output)."""

    def __init__(self, path: str, problem: str):
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


# ----------------------------------------------------------------- where accounts are

_ACCOUNT, _OPTION, _LIST, _LEDGERS = "account", "option<account>", "list<account>", "ledgers"

#: The account fields of each record of the contract (0.1 names them by string, 0.2 by index).
_RECORDS: Dict[str, Dict[str, str]] = {
    "position": {"hotkey": _ACCOUNT, "coldkey": _ACCOUNT},
    "flow": {"hotkey": _ACCOUNT, "coldkey": _ACCOUNT, "counterparty": _OPTION},
    "position-attribution": {"hotkey": _ACCOUNT, "coldkey": _ACCOUNT},
    "earning": {"hotkey": _ACCOUNT, "coldkey": _ACCOUNT},
    "release": {"holder": _ACCOUNT},
    "consumption": {"holder": _ACCOUNT},
    "holding": {"holder": _ACCOUNT},
    "miner": {"hotkey": _ACCOUNT, "coldkey": _ACCOUNT},
    "miner-multiplier": {"hotkey": _ACCOUNT, "holder": _ACCOUNT},
}

# A layout says where a value's accounts are: a dict (the value is a record: field -> a
# record name for a list of those records, `_LIST` or `_LEDGERS`), or a record name (the
# value is a list of those records).
_Layout = Union[str, Dict[str, str]]

#: Each adapted function's `input` (0.2 adds `accounts` as its first field).
_INPUTS: Dict[str, _Layout] = {
    "attribute": {"before": "position", "after": "position", "flows": "flow"},
    "ledger-step": {"ledgers": _LEDGERS, "earnings": "earning", "flows": "flow"},
    "holdings": {"ledgers": _LEDGERS},
    "multipliers": {"holdings": "holding", "miners": "miner"},
    "apply-weights": {"hotkeys": _LIST, "multipliers": "miner-multiplier"},
}

#: Each adapted function's `Ok` output (`apply-weights`' has no accounts).
_OUTPUTS: Dict[str, Optional[_Layout]] = {
    "attribute": "position-attribution",
    "ledger-step": {"ledgers": _LEDGERS, "releases": "release", "consumptions": "consumption"},
    "holdings": "holding",
    "multipliers": "miner-multiplier",
    "apply-weights": None,
}

#: The functions whose input (and output) the adapter converts; the others pass unchanged.
ADAPTED_FUNCTIONS = frozenset(_INPUTS)

#: A 0.1 tranche's fields, in the order of a 0.2 tranche's 8 integers.
TRANCHE_FIELDS = ("kind", "start", "block", "amount", "remaining", "scheduled", "released", "sold_locked")
_HOLDER_LEDGER_FIELDS = ("holder", "tranches", "unmatched_outflow")
#: A 0.2 tranche's kind number <-> the 0.1 ``tranche-kind``.
TRANCHE_KINDS = {0: "Manual", 1: "Earned"}
_KIND_NUMBERS = {name: n for n, name in TRANCHE_KINDS.items()}
_FLAT_FIELDS = ("holders", "unmatched_outflow", "tranche_counts", "tranches")
_U64_MAX = (1 << 64) - 1

# An account callback: reads container[key] (the account at `path`) and replaces it.
_AccountFn = Callable[[MutableMapping[Any, Any], Any, str], None]
_Error = Callable[[str, str], Exception]


def _list(v: Any, path: str, error: _Error) -> List[Any]:
    if not isinstance(v, (list, tuple)):
        raise error(path, f"expected a list, got {describe(v)}")
    return list(v)


def _record(v: Any, path: str, error: _Error) -> Dict[str, Any]:
    if not isinstance(v, Mapping):
        raise error(path, f"expected a record (dict), got {describe(v)}")
    return dict(v)


def _walk(layout: _Layout, value: Any, path: str, account: _AccountFn,
          ledgers: Callable[[Any, str], Any], error: _Error) -> Any:
    """A copy of ``value`` (of ``layout``) in which ``account`` replaced every account and
    ``ledgers`` every ledgers value. Fields the layout does not name are copied as is; a
    missing field is left missing (the type converter reports it)."""
    if isinstance(layout, str):
        return [_walk_record(layout, r, f"{path}[{i}]", account, error)
                for i, r in enumerate(_list(value, path, error))]
    out = _record(value, path, error)
    for key, kind in layout.items():
        if key not in out:
            continue
        p = f"{path}.{key}"
        if kind == _LEDGERS:
            out[key] = ledgers(out[key], p)
        elif kind == _LIST:
            items = out[key] = _list(out[key], p, error)
            for i in range(len(items)):
                account(items, i, f"{p}[{i}]")
        else:
            out[key] = _walk(kind, out[key], p, account, ledgers, error)
    return out


def _walk_record(name: str, value: Any, path: str, account: _AccountFn, error: _Error) -> Dict[str, Any]:
    out = _record(value, path, error)
    for key, kind in _RECORDS[name].items():
        if key in out and not (kind == _OPTION and out[key] is None):
            account(out, key, f"{path}.{key}")
    return out


# --------------------------------------------------------------------- account tables


def _utf8(s: str) -> bytes:
    return s.encode("utf-8")


def sort_accounts(strings: Any) -> List[str]:
    """The account table of these strings: deduplicated, sorted by their UTF-8 bytes
    (explicitly by bytes, as the contract says, whatever order the language's strings have)."""
    return sorted(set(strings), key=_utf8)


def _check_account_string(v: Any, path: str) -> str:
    if not isinstance(v, str):
        raise PolicyInputError(path, f"expected a string (an account), got {describe(v)}")
    try:
        _utf8(v)
    except UnicodeEncodeError:
        raise PolicyInputError(path, f"an account must be valid Unicode, got {describe(v)} (a lone surrogate)") from None
    return v


def _index_in(accounts: Sequence[str], error: _Error, what: str) -> _AccountFn:
    """The callback that replaces an index by ``accounts[index]``."""

    def account(container: MutableMapping[Any, Any], key: Any, path: str) -> None:
        i = container[key]
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(accounts):
            shown = i if isinstance(i, int) and not isinstance(i, bool) else describe(i)
            raise error(path, f"account {shown} is not an index into the {what}'s {len(accounts)} accounts")
        container[key] = accounts[i]

    return account


def _u64(v: Any, path: str, error: _Error) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise error(path, f"expected an integer (u64), got {describe(v)}")
    if not 0 <= v <= _U64_MAX:
        raise error(path, f"{v} is out of range for u64 [0, {_U64_MAX}]")
    return v


# --------------------------------------------------------------------------- ledgers


def flatten_ledgers(ledgers: Any, path: str, account: Optional[_AccountFn] = None,
                    error: _Error = PolicyInputError) -> Dict[str, Any]:
    """0.1 ``list<holder-ledger>`` -> 0.2 ``ledgers``, in the same order. Holders stay
    what they were (strings) unless ``account`` replaces them."""
    flat: Dict[str, List[Any]] = {k: [] for k in _FLAT_FIELDS}
    for i, item in enumerate(_list(ledgers, path, error)):
        p = f"{path}[{i}]"
        ledger = _record(item, p, error)
        _check_fields(ledger, _HOLDER_LEDGER_FIELDS, p, error)
        flat["holders"].append(ledger["holder"])
        if account is not None:
            account(flat["holders"], i, f"{p}.holder")
        flat["unmatched_outflow"].append(_u64(ledger["unmatched_outflow"], f"{p}.unmatched_outflow", error))
        tranches = _list(ledger["tranches"], f"{p}.tranches", error)
        flat["tranche_counts"].append(len(tranches))
        for j, t in enumerate(tranches):
            tp = f"{p}.tranches[{j}]"
            tranche = _record(t, tp, error)
            _check_fields(tranche, TRANCHE_FIELDS, tp, error)
            kind = tranche["kind"]
            if not isinstance(kind, str) or kind not in _KIND_NUMBERS:
                raise error(f"{tp}.kind", f"expected one of {', '.join(_KIND_NUMBERS)}, got {describe(kind)}")
            flat["tranches"].append(_KIND_NUMBERS[kind])
            flat["tranches"].extend(_u64(tranche[f], f"{tp}.{f}", error) for f in TRANCHE_FIELDS[1:])
    return flat


def _check_fields(record: Mapping[str, Any], fields: Sequence[str], path: str, error: _Error) -> None:
    unknown = sorted(str(k) for k in record if k not in fields)
    if unknown:
        raise error(path, f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(fields)}")
    for f in fields:
        if f not in record:
            raise error(f"{path}.{f}", "missing field")


def unflatten_ledgers(flat: Any, path: str, account: Optional[_AccountFn] = None,
                      error: _Error = InvalidOutput) -> List[Dict[str, Any]]:
    """0.2 ``ledgers`` -> 0.1 ``list<holder-ledger>``. Raises ``error`` (by default
    :class:`InvalidOutput`) when the lists do not add up or a kind is not 0 or 1."""
    rec = _record(flat, path, error)
    _check_fields(rec, _FLAT_FIELDS, path, error)
    holders, unmatched, counts, tranches = (_list(rec[k], f"{path}.{k}", error) for k in _FLAT_FIELDS)
    if not len(holders) == len(unmatched) == len(counts):
        raise error(path, f"{len(holders)} holders, {len(unmatched)} unmatched-outflow and "
                          f"{len(counts)} tranche-counts: one each per ledger")
    if len(tranches) % 8:
        raise error(f"{path}.tranches", f"{len(tranches)} integers, not 8 per tranche")
    total = 0
    for i, c in enumerate(counts):
        total += _u64(c, f"{path}.tranche_counts[{i}]", error)
    if total * 8 != len(tranches):
        raise error(path, f"tranche-counts add up to {total} tranches, tranches holds {len(tranches) // 8}")
    out: List[Dict[str, Any]] = []
    at = 0
    for i, (holder, outflow, count) in enumerate(zip(holders, unmatched, counts)):
        ledger: Dict[str, Any] = {"holder": holder, "tranches": [], "unmatched_outflow": _u64(
            outflow, f"{path}.unmatched_outflow[{i}]", error)}
        if account is not None:
            account(ledger, "holder", f"{path}.holders[{i}]")
        for _ in range(count):
            t = tranches[at * 8:at * 8 + 8]
            values = [_u64(x, f"{path}.tranches[{at * 8 + k}]", error) for k, x in enumerate(t)]
            if values[0] not in TRANCHE_KINDS:
                raise error(f"{path}.tranches[{at * 8}]", f"tranche {at} has kind {values[0]}; "
                                                          f"the kinds are 0 (manual) and 1 (earned)")
            tranche: Dict[str, Any] = {"kind": TRANCHE_KINDS[values[0]]}
            tranche.update(zip(TRANCHE_FIELDS[1:], values[1:]))
            ledger["tranches"].append(tranche)
            at += 1
        out.append(ledger)
    return out


# ------------------------------------------------------------------------ the adapter


def input_to_v2(function: str, input: Any, path: str = "input") -> Tuple[Any, Optional[List[str]]]:
    """A 0.1-shaped ``input`` of ``function`` in the 0.2 shape, and its account table.

    Every account string of the input (including ``""`` and counterparties) is collected,
    deduplicated and sorted by UTF-8 bytes into ``accounts`` (the input's first field);
    each is replaced by its index; ledgers are flattened in input order. A function without
    accounts (``info``, ``resolve-params``) returns ``(input, None)``. Raises
    :class:`PolicyInputError` (with the 0.1 path) for an account that is not a string,
    malformed ledgers, or an input that already has ``accounts``.
    """
    layout = _INPUTS.get(function)
    if layout is None:
        return input, None
    if isinstance(input, Mapping) and "accounts" in input:
        raise PolicyInputError(
            f"{path}.accounts",
            "a 0.1-shaped input has no account table (the adapter builds it from the account "
            "strings); pass 0.2-shaped input with raw=True",
        )
    slots: List[Tuple[MutableMapping[Any, Any], Any, str]] = []

    def collect(container: MutableMapping[Any, Any], key: Any, p: str) -> None:
        slots.append((container, key, _check_account_string(container[key], p)))

    out = _walk(layout, input, path, collect, lambda v, p: flatten_ledgers(v, p, collect), PolicyInputError)
    accounts = sort_accounts(s for _, _, s in slots)
    index = {s: i for i, s in enumerate(accounts)}
    for container, key, s in slots:
        container[key] = index[s]
    return {"accounts": list(accounts), **out}, accounts


def output_to_v1(function: str, output: Any, accounts: Sequence[str], path: str = "result.Ok") -> Any:
    """A 0.2 policy's ``Ok`` output of ``function`` in the 0.1 shape: each index becomes
    ``accounts[index]`` (``accounts``: the table of the call's input), ledgers a list of
    holder ledgers. Raises :class:`InvalidOutput` for an index past the table or
    ledgers that do not add up."""
    layout = _OUTPUTS.get(function)
    if layout is None:
        return output
    account = _index_in(accounts, InvalidOutput, "input")
    return _walk(layout, output, path, account, lambda v, p: unflatten_ledgers(v, p, account), InvalidOutput)


def input_to_v1(function: str, input: Any, path: str = "input") -> Tuple[Any, Optional[List[str]]]:
    """The other direction: a 0.2-shaped ``input`` in the 0.1 shape, and its account table
    (``input["accounts"]``, which must be sorted by bytes without duplicates). Raises
    :class:`PolicyInputError`."""
    if _INPUTS.get(function) is None:
        return input, None
    rec = _record(input, path, PolicyInputError)
    accounts = [_check_account_string(s, f"{path}.accounts[{i}]")
                for i, s in enumerate(_list(rec.pop("accounts", None), f"{path}.accounts", PolicyInputError))]
    if accounts != sort_accounts(accounts) or len(set(accounts)) != len(accounts):
        raise PolicyInputError(f"{path}.accounts", "not sorted by UTF-8 bytes without duplicates")
    account = _index_in(accounts, PolicyInputError, "input")
    out = _walk(_INPUTS[function], rec, path, account,
                lambda v, p: unflatten_ledgers(v, p, account, PolicyInputError), PolicyInputError)
    return out, accounts


def output_to_v2(function: str, output: Any, accounts: Sequence[str], path: str = "result.Ok") -> Any:
    """The other direction: a 0.1-shaped ``Ok`` output in the 0.2 shape, accounts by index
    into ``accounts`` (the input's table). Raises :class:`InvalidOutput` for an account
    the table lacks."""
    layout = _OUTPUTS.get(function)
    if layout is None:
        return output
    index = {s: i for i, s in enumerate(accounts)}

    def account(container: MutableMapping[Any, Any], key: Any, p: str) -> None:
        s = container[key]
        if not isinstance(s, str) or s not in index:
            raise InvalidOutput(p, f"account {describe(s)} is not in the input's accounts")
        container[key] = index[s]

    return _walk(layout, output, path, account,
                 lambda v, p: flatten_ledgers(v, p, account, InvalidOutput), InvalidOutput)
