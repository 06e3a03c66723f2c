"""Weights through the vesting service or through the policy ``.wasm`` run here.

The two ways to the same result (the policy's full ``apply-weights`` output, bit for bit):

- :func:`apply_weights_api` asks the running service (``vesting run``): ``POST /weights/apply``;
- :func:`apply_weights_local` takes the latest multipliers (from the service's
  ``GET /multipliers``, its SQLite database read-only, or rows at hand) and runs the policy's
  ``apply-weights`` itself (:mod:`bittensor_vesting.policy`, the ``wasmtime`` package).

Why the two agree exactly:

- the local path passes the parameters the service passes: those it reports at
  ``GET /policy``, or those of its configuration (:func:`service_params`; with the default
  configuration :data:`SERVICE_DEFAULTS`);
- it checks that the service's policy (``GET /policy``) is the ``.wasm`` it runs;
- both send the policy the same float weights. The service reads JSON with serde_json's
  default float parser, which reads many 17-digit decimals (Python's ``repr``, about one
  float in ten) as a neighbouring float, and cannot read some floats at all. So each weight
  travels as a decimal that every parser reads as the same float (see :func:`wire_weights`):
  the weight itself for all but about 0.3% of weights between 1e-3 and 1e40, else a float
  a few units in the last place away, and weights below about 1e-6 are rounded to 22
  decimal places. The local path uses those same floats.

Standard library only, besides ``wasmtime`` for the local path.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import math
import os
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal
from fractions import Fraction
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

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

#: Where ``vesting run`` serves its API by default.
DEFAULT_API = "http://127.0.0.1:8090"

#: The service's default configuration of the policy parameters (``VestingConfig``):
#: (parameter, kind, value). Amounts and fractions are decimals, as in its TOML config.
SERVICE_DEFAULTS: Tuple[Tuple[str, str, Union[int, float]], ...] = (
    ("minimum_stake", "Amount", 0.3),
    ("retention_window_days", "Count", 30),
    ("retention_target", "Fixed", 0.9),
    ("max_multiplier", "Fixed", 1.5),
    ("vesting_duration_days", "Count", 30),
    ("vesting_interval_days", "Count", 1),
    ("min_vesting_amount", "Amount", 0.1),
    ("blocks_per_day", "Count", 7200),
)

#: The fields of the contract's ``miner-multiplier`` record, as the service passes them.
MULTIPLIER_FIELDS = ("uid", "hotkey", "holder", "multiplier", "held_factor", "duration_factor", "eligible")


class VestingError(Exception):
    """The weights could not be adjusted. ``message`` says why; ``status`` is the HTTP
    status when the service answered with an error; ``code`` the policy's error code
    (``"LengthMismatch"``, ``"DuplicateUid"``, ...) when known."""

    def __init__(self, message: str, *, status: Optional[int] = None, code: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


# ------------------------------------------------------------------ input and the wire


def _as_list(values: Any, name: str) -> List[Any]:
    if hasattr(values, "tolist"):  # numpy arrays, torch tensors
        values = values.tolist()
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise VestingError(f"{name} must be a list, got {type(values).__name__}")
    return list(values)


def _item(x: Any) -> Any:
    item = getattr(x, "item", None)  # numpy / torch scalars
    return item() if callable(item) and not isinstance(x, (int, float)) else x


def _prepare(weights: Any, uids: Any, hotkeys: Any) -> Tuple[List[str], List[float], List[int], List[str]]:
    """Checks the types (not the lengths: the policy does that) and turns the weights into
    their wire form: (JSON number texts, the floats they read as, uids, hotkeys)."""
    w = []
    for i, x in enumerate(_as_list(weights, "weights")):
        v = _item(x)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise VestingError(f"weights[{i}] must be a number, got {type(x).__name__} {x!r}")
        v = float(v)
        if not math.isfinite(v):
            raise VestingError(f"weights[{i}] is {v}: weights must be finite numbers")
        w.append(v)
    u = []
    for i, x in enumerate(_as_list(uids, "uids")):
        v = _item(x)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFFFF:
            raise VestingError(f"uids[{i}] must be an integer in [0, 65535], got {x!r}")
        u.append(int(v))
    h = []
    for i, x in enumerate(_as_list(hotkeys, "hotkeys")):
        if not isinstance(x, str):
            raise VestingError(f"hotkeys[{i}] must be a string (ss58 address), got {x!r}")
        h.append(x)
    texts, values = wire_weights(w)
    return texts, values, u, h


# 1e0 ... 1e22 are exact in binary64; serde_json multiplies or divides by them.
_POW10 = tuple(10.0**k for k in range(23))
_TWO64 = 1 << 64


def _reads_as(s: int, k: int) -> Optional[float]:
    """The float ``s * 10**-k`` reads as, if every parser reads it the same way: ``s`` an
    integer exact in binary64 and |k| <= 22, so one IEEE operation on exact operands (what
    serde_json does) is the correctly rounded value (what a correct parser returns)."""
    if not 0 <= s < _TWO64 or abs(k) > 22:
        return None
    f = float(s)
    if f != s:
        return None
    return f / _POW10[k] if k >= 0 else f * _POW10[-k]


def _text(s: int, k: int) -> str:
    return f"{s}e{-k}"


def _exact_decimal(y: float) -> Optional[str]:
    """A decimal every parser reads as exactly ``y`` (> 0), or None."""
    r = repr(y)
    _, digits, exp = Decimal(r).as_tuple()
    if _reads_as(int("".join(map(str, digits))), -int(exp)) == y:
        return r
    fy = Fraction(y)
    e10 = math.floor(math.log10(y))  # y * 10**k in [2^52, 2^64): k from about 15 - e10 to 19 - e10
    for k in range(min(22, 20 - e10), max(-23, 13 - e10), -1):
        target = fy * 10**k if k >= 0 else fy / 10**-k
        if not (1 << 52) <= target < _TWO64:
            continue
        near = float(target)  # an integer here; try it and its neighbours
        for c in (near, math.nextafter(near, 0.0), math.nextafter(near, math.inf)):
            if _reads_as(int(c), k) == y:
                return _text(int(c), k)
    return None


def _wire_number(x: float) -> Tuple[str, float]:
    if math.copysign(1.0, x) < 0:
        text, value = _wire_number(-x)
        return "-" + text, -value
    if x == 0.0:
        return "0.0", 0.0
    text = _exact_decimal(x)
    if text is not None:
        return text, x
    # No decimal reads as x: the nearest float (a few units in the last place away) that has one.
    lo = hi = x
    for _ in range(8):
        lo, hi = math.nextafter(lo, 0.0), math.nextafter(hi, math.inf)
        for y in (lo, hi):
            text = _exact_decimal(y)
            if text is not None:
                return text, y
    # Else (weights below about 1e-6): x rounded to as many decimal places as a u64
    # significand allows, at most 22.
    fx = Fraction(x)
    for k in range(22, -23, -1):
        target = fx * 10**k if k >= 0 else fx / 10**-k
        if target < _TWO64:
            s = round(target) if target < (1 << 53) else int(float(target))
            value = _reads_as(s, k)
            if value is not None:
                return _text(s, k), value
    raise VestingError(f"weight {x!r} is too large to send; weights are relative: scale them down")


def wire_weights(weights: Sequence[float]) -> Tuple[List[str], List[float]]:
    """The weights as the API path sends them: one JSON number text per weight and the float
    both serde_json (the service) and Python read it as. Both paths compute with those
    floats: they equal the weights except for rare, tiny roundings (see the module doc)."""
    pairs = [_wire_number(float(x)) for x in weights]
    return [t for t, _ in pairs], [v for _, v in pairs]


def request_body(weights: Any, uids: Any, hotkeys: Any) -> bytes:
    """The JSON body of ``POST /weights/apply`` for these weights."""
    texts, _, u, h = _prepare(weights, uids, hotkeys)
    return (
        '{"uids":' + json.dumps(u, separators=(",", ":")) + ',"weights":[' + ",".join(texts) + '],"hotkeys":' + json.dumps(h, separators=(",", ":")) + "}"
    ).encode()


# -------------------------------------------------------------------------- the API


def _url(api: str, path: str) -> str:
    return api.rstrip("/") + path


def _http(api: str, method: str, path: str, body: Optional[bytes] = None, timeout: float = 30.0) -> Any:
    url = _url(api, path)
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        text = e.read().decode("utf-8", "replace")
        try:
            message = json.loads(text)["error"]
        except (ValueError, KeyError, TypeError):
            message = text.strip() or e.reason
        m = re.search(r"\(ErrorCode::(\w+)\)", str(message))
        raise VestingError(
            f"{method} {url}: HTTP {e.code}: {message}", status=e.code, code=m.group(1) if m else None
        ) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise VestingError(f"cannot reach the vesting service at {api} ({method} {path}): {reason}") from None
    try:
        return json.loads(text)
    except ValueError:
        raise VestingError(f"{method} {url}: the answer is not JSON: {text[:200]!r}") from None


def apply_weights_api(weights: Any, uids: Any, hotkeys: Any, api: str = DEFAULT_API,
                      timeout: float = 30.0, allow_stale: bool = False) -> Dict[str, Any]:
    """``POST /weights/apply``: the policy's full output (``uids``, ``weights`` in fixed
    point, ``multipliers``, ``chain_uids``, ``chain_weights``). The service's ``freshness``
    (its ``/health`` at the time) is left out; a service whose multipliers are stale refuses
    (HTTP 503) unless ``allow_stale``."""
    path = "/weights/apply?allow_stale=true" if allow_stale else "/weights/apply"
    out = _http(api, "POST", path, request_body(weights, uids, hotkeys), timeout)
    if isinstance(out, dict):
        out.pop("freshness", None)
    return out


def apply_vesting_multipliers(weights: Any, uids: Any, hotkeys: Any, api: str = DEFAULT_API,
                              timeout: float = 30.0, allow_stale: bool = False) -> Tuple[List[int], List[int]]:
    """The validator's weights adjusted by the service: ``(uids, weights)`` for
    ``subtensor.set_weights`` (u16 weights, zero weights left out). ``weights``, ``uids``
    and ``hotkeys`` have one entry per uid (lists, numpy arrays or torch tensors); a uid whose
    hotkey is not the one its multiplier was computed for gets weight 0."""
    out = apply_weights_api(weights, uids, hotkeys, api, timeout, allow_stale)
    return list(out["chain_uids"]), list(out["chain_weights"])


# ------------------------------------------------------------------ the local path


def _nano(name: str, x: Any) -> int:
    """A decimal (at most 9 places) as an integer of 1e-9 units, as the service's ``nano``."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0:
        raise VestingError(f"config: {name} must be a finite, non-negative number, got {x!r}")
    d = Decimal(repr(float(x)))  # the shortest decimal that reads back, as Rust's `{}`
    if -d.as_tuple().exponent > 9:
        raise VestingError(f"config: {name} has more than 9 decimal places: {x!r}")
    return int(d * 1_000_000_000)


def service_params(config: Union[None, str, "os.PathLike[str]", Mapping[str, Any]] = None) -> List[Dict[str, Any]]:
    """The parameters the service passes to its policy: those of its configuration, which is
    ``config`` (its TOML file, or a dict of its keys) over the defaults. Keys that are no
    policy parameters (``netuid``, ``db_path``, ...) are ignored."""
    values: Dict[str, Any] = {}
    if isinstance(config, Mapping):
        values = dict(config)
    elif config is not None:
        try:
            import tomllib  # Python 3.11+
        except ImportError:
            raise VestingError("reading a TOML config needs Python 3.11 (tomllib); pass a dict instead") from None
        try:
            with open(config, "rb") as f:
                values = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise VestingError(f"config {config}: {e}") from None
    params = []
    for name, kind, default in SERVICE_DEFAULTS:
        v = values.get(name, default)
        if kind == "Count":
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 1 << 64:
                raise VestingError(f"config: {name} must be a non-negative integer, got {v!r}")
            params.append({"name": name, "value": {kind: v}})
        else:
            params.append({"name": name, "value": {kind: _nano(name, v)}})
    return params


def fetch_multipliers(source: Union[str, "os.PathLike[str]"] = DEFAULT_API, timeout: float = 30.0) -> List[Dict[str, Any]]:
    """The latest multiplier of every uid, as the service passes them to ``apply-weights``:
    from the API (``source`` an http(s) URL: ``GET /multipliers``) or read-only from the
    service's SQLite database (``source`` a path; the query of ``Store::latest_multipliers``)."""
    if _is_url(source):
        rows = _http(source, "GET", "/multipliers", timeout=timeout)
        if not isinstance(rows, list):
            raise VestingError(f"GET {_url(source, '/multipliers')}: expected a list, got {type(rows).__name__}")
    else:
        path = os.fspath(source)
        if not os.path.exists(path):
            raise VestingError(f"no vesting database at {path}")
        try:
            uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
            with sqlite3.connect(uri, uri=True, timeout=5.0) as db:
                cur = db.execute(
                    "SELECT m.uid, hotkey, holder, multiplier, held_factor, duration_factor, eligible"
                    " FROM multipliers m JOIN (SELECT uid, MAX(block) AS block FROM multipliers GROUP BY uid) l"
                    " ON m.uid = l.uid AND m.block = l.block ORDER BY m.uid"
                )
                # u64 values are stored bit-cast into SQLite's i64.
                rows = [
                    dict(zip(MULTIPLIER_FIELDS, (r[0], r[1], r[2], r[3] % _TWO64, r[4] % _TWO64, r[5] % _TWO64, bool(r[6]))))
                    for r in cur
                ]
        except sqlite3.Error as e:
            raise VestingError(f"cannot read multipliers from {path}: {e}") from None
    try:
        return [{k: row[k] for k in MULTIPLIER_FIELDS} for row in rows]
    except (KeyError, TypeError) as e:
        raise VestingError(f"a multiplier row lacks {e}: {str(rows)[:200]}") from None


_POLICIES: Dict[Tuple[str, float], Any] = {}
# Drop the compiled policies before the interpreter tears wasmtime's ctypes bindings down
# (else their finalizers print "Exception ignored in ... __del__" at exit).
atexit.register(_POLICIES.clear)


def _vesting_policy() -> Any:
    """The policy runner, :mod:`bittensor_vesting.policy` (it needs ``wasmtime``)."""
    try:
        from . import policy
    except ImportError as e:
        raise VestingError(f"the local path needs the wasmtime package (pip install wasmtime): {e}") from None
    return policy


def _load_policy(wasm: Any) -> Any:
    """A loaded ``bittensor_vesting.policy.Policy``: ``wasm`` is one, the bytes of a
    component (compiled once per sha256), or the path of a ``.wasm`` (compiled once per path
    and modification time)."""
    vp = _vesting_policy()
    if isinstance(wasm, vp.Policy):
        return wasm
    if isinstance(wasm, (bytes, bytearray, memoryview)):
        data = bytes(wasm)
        bkey = ("sha256:" + hashlib.sha256(data).hexdigest(), 0.0)
        if bkey not in _POLICIES:
            try:
                _POLICIES[bkey] = vp.Policy(data, source="policy " + bkey[0][7:19])
            except vp.PolicyLoadError as e:
                raise VestingError(str(e)) from None
        return _POLICIES[bkey]
    path = os.fspath(wasm)
    try:
        key = (os.path.abspath(path), os.path.getmtime(path))
    except OSError as e:
        raise VestingError(f"cannot read policy file {path}: {e.strerror}") from None
    if key not in _POLICIES:
        try:
            _POLICIES[key] = vp.Policy.load(path)
        except vp.PolicyLoadError as e:
            raise VestingError(str(e)) from None
    return _POLICIES[key]


def check_served_policy(api: str, wasm_path: Any, timeout: float = 30.0) -> None:
    """Raises :class:`VestingError` unless the service's policy (``GET /policy``) is the
    ``.wasm`` at ``wasm_path`` (same sha256)."""
    policy = _load_policy(wasm_path)
    served = _http(api, "GET", "/policy", timeout=timeout)
    if not isinstance(served, dict) or served.get("sha256") != policy.sha256:
        served = served if isinstance(served, dict) else {}
        raise VestingError(
            f"the service runs policy {served.get('policy')} (sha256 {served.get('sha256')}), "
            f"this path runs {policy.label} (sha256 {policy.sha256}): results would differ"
        )


def _is_url(source: Any) -> bool:
    return isinstance(source, str) and source.startswith(("http://", "https://"))


def apply_weights_local(weights: Any, uids: Any, hotkeys: Any, wasm_path: Any,
                        multipliers_source: Any = DEFAULT_API, config: Any = None,
                        check_policy: bool = True, timeout: float = 30.0) -> Dict[str, Any]:
    """The policy's full ``apply-weights`` output, computed here by the ``.wasm`` at
    ``wasm_path`` (or a loaded ``bittensor_vesting.policy.Policy``) with the service's parameters
    (``config``: see :func:`service_params`; without it and with an API URL, the
    parameters the service reports at ``GET /policy``) and its latest multipliers
    (``multipliers_source``: an API URL, a database path, or the rows themselves).

    With an API URL and ``check_policy``, the service's policy must be this ``.wasm``
    (:func:`check_served_policy`), or the results could differ."""
    _, values, u, h = _prepare(weights, uids, hotkeys)
    params = None
    if config is None and _is_url(multipliers_source):
        # The parameters the running service calls its policy with (``GET /policy``).
        served = _http(multipliers_source, "GET", "/policy", timeout=timeout)
        params = served.get("params") if isinstance(served, dict) else None
    if params is None:
        params = service_params(config)
    policy = _load_policy(wasm_path)
    if isinstance(multipliers_source, (list, tuple)):
        multipliers = [{k: row[k] for k in MULTIPLIER_FIELDS} for row in multipliers_source]
    else:
        if check_policy and _is_url(multipliers_source):
            check_served_policy(multipliers_source, policy, timeout)
        multipliers = fetch_multipliers(multipliers_source, timeout)
    vp = _vesting_policy()
    try:
        return policy.apply_weights(params, {"uids": u, "weights": values, "hotkeys": h, "multipliers": multipliers})
    except vp.PolicyError as e:
        raise VestingError(str(e), code=e.code) from None
    except (vp.PolicyInputError, vp.PolicyCallError) as e:
        raise VestingError(str(e)) from None


def apply_vesting_multipliers_local(weights: Any, uids: Any, hotkeys: Any, wasm_path: Any,
                                    multipliers_source: Any = DEFAULT_API, config: Any = None,
                                    check_policy: bool = True) -> Tuple[List[int], List[int]]:
    """As :func:`apply_vesting_multipliers`, with the policy run here (see
    :func:`apply_weights_local`): ``(uids, weights)`` for ``subtensor.set_weights``."""
    out = apply_weights_local(weights, uids, hotkeys, wasm_path, multipliers_source, config, check_policy)
    return list(out["chain_uids"]), list(out["chain_weights"])
