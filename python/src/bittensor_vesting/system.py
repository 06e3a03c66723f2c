"""``VestingSystem``: the seeds' Python API over the ``vesting run`` service.

:meth:`VestingSystem.initialize` starts ``vesting run`` as a subprocess with the
constructor's parameters (or attaches to a service already serving at ``url``);
:meth:`~VestingSystem.apply_vesting_multipliers` adjusts a validator's weights through
``POST /weights/apply``, or, when the service cannot be reached, by running the policy
``.wasm`` here on the latest multipliers the service returned (bit-identical to what the
service would answer for those multipliers); :meth:`~VestingSystem.get_vesting_stats`
reads ``GET /stats`` and ``GET /health``; :meth:`~VestingSystem.shutdown` stops the
subprocess (SIGINT: it finishes the block it is writing).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import weights as _w
from .weights import VestingError

__all__ = [
    "AdjustedWeights",
    "Health",
    "MinerStats",
    "VestingStats",
    "VestingSystem",
    "find_vesting_bin",
]

ONE = 1_000_000_000
_NETWORKS = ("finney", "test", "local", "archive")
_BUILD_HINT = "build it with `cargo build -p vesting-host --bin vesting` (target/debug/vesting)"


def _fixed(x: Any) -> float:
    return x / ONE if isinstance(x, int) and not isinstance(x, bool) else float("nan")


@dataclass(frozen=True)
class Health:
    """``GET /health``: ``ok`` when the monitor follows the chain and the multipliers are
    fresh (within ``max_lag_blocks`` and ``max_decision_age_seconds``)."""

    ok: bool
    status: str
    monitor: Optional[str]
    last_block: Optional[int]
    finalized_head: Optional[int]
    lag_blocks: Optional[int]
    decision_block: Optional[int]
    decision_age_seconds: Optional[int]
    raw: Dict[str, Any] = field(repr=False, default_factory=dict)

    @classmethod
    def from_json(cls, d: Mapping[str, Any], http_status: int) -> "Health":
        return cls(
            ok=http_status == 200,
            status=str(d.get("status", "unknown")),
            monitor=d.get("monitor"),
            last_block=d.get("last_block"),
            finalized_head=d.get("finalized_head"),
            lag_blocks=d.get("lag_blocks"),
            decision_block=d.get("decision_block"),
            decision_age_seconds=d.get("decision_age_seconds"),
            raw=dict(d),
        )


@dataclass(frozen=True)
class MinerStats:
    """One miner of ``GET /stats``. Fractions as floats (``multiplier`` 1.0 to
    ``max_multiplier``, ``held_fraction`` 0 to 1), ``holding_days`` in days, amounts in
    alpha (the ``*_rao`` fields are the exact integers)."""

    uid: int
    hotkey: str
    holder: Optional[str]
    multiplier: float
    eligible: bool
    held_fraction: float
    holding_days: float
    total_stake: float
    earned_in_window: float
    vested: float
    locked: float
    multiplier_fixed: int
    total_stake_rao: int
    earned_in_window_rao: int

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "MinerStats":
        return cls(
            uid=int(d["uid"]),
            hotkey=str(d["hotkey"]),
            holder=d.get("holder"),
            multiplier=_fixed(d.get("multiplier")),
            eligible=bool(d.get("eligible")),
            held_fraction=_fixed(d.get("held_fraction")),
            holding_days=_fixed(d.get("holding_days")),
            total_stake=_fixed(d.get("total_stake")),
            earned_in_window=_fixed(d.get("earned_in_window")),
            vested=_fixed(d.get("vested")),
            locked=_fixed(d.get("locked")),
            multiplier_fixed=int(d.get("multiplier") or 0),
            total_stake_rao=int(d.get("total_stake") or 0),
            earned_in_window_rao=int(d.get("earned_in_window") or 0),
        )


@dataclass(frozen=True)
class VestingStats:
    """``GET /stats`` and ``GET /health`` of the service."""

    netuid: int
    policy: str
    policy_sha256: str
    last_block: Optional[int]
    epochs: int
    multipliers_block: Optional[int]
    miners: List[MinerStats]
    apply_requests: int
    policy_failures: int
    monitor_running: bool
    health: Health
    raw: Dict[str, Any] = field(repr=False, default_factory=dict)
    #: The contract the policy implements, e.g. ``"bittensor:vesting@0.2.0"``.
    contract: str = ""
    #: The parameters in force, resolved by the policy: ``[{"name": ..., "value": {...}}]``.
    params: List[Dict[str, Any]] = field(default_factory=list)

    def param(self, name: str) -> Any:
        """A parameter's value in force (``{"Fixed": 1500000000}`` and so on), or None."""
        return next((p.get("value") for p in self.params if p.get("name") == name), None)

    def multipliers(self) -> Dict[int, float]:
        """``{uid: multiplier}``."""
        return {m.uid: m.multiplier for m in self.miners}


@dataclass(frozen=True)
class AdjustedWeights:
    """The policy's ``apply-weights`` output for one call.

    ``weights`` are the adjusted weights as floats, the same kind as the input (a numpy
    array for a numpy array, a list otherwise), summing to 1.0 (or all 0);
    ``weights_fixed`` their exact fixed-point values (summing to exactly 1_000_000_000);
    ``chain_uids`` / ``chain_weights`` what goes to ``subtensor.set_weights`` (non-zero
    weights as u16, the largest 65535). ``source`` is ``"service"`` (``POST
    /weights/apply``) or ``"local"`` (the policy ``.wasm`` run here because the service was
    unreachable). ``freshness`` is the service's health with its answer (None for the local
    path: the multipliers are the latest the service returned)."""

    uids: List[int]
    weights: Any
    weights_fixed: List[int]
    multipliers: List[float]
    chain_uids: List[int]
    chain_weights: List[int]
    source: str
    freshness: Optional[Health] = None
    raw: Dict[str, Any] = field(repr=False, default_factory=dict)


def find_vesting_bin(vesting_bin: Union[None, str, "os.PathLike[str]"] = None) -> str:
    """The ``vesting`` binary: ``vesting_bin``, else ``$VESTING_BIN``, else ``vesting`` on
    ``PATH``. Raises :class:`VestingError` saying how to get one."""
    for what, candidate in (("vesting_bin", vesting_bin), ("VESTING_BIN", os.environ.get("VESTING_BIN"))):
        if candidate:
            path = os.fspath(candidate)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
            raise VestingError(f"{what} is {path}, which is not an executable file; {_BUILD_HINT}")
    found = shutil.which("vesting")
    if found:
        return found
    raise VestingError(
        "no `vesting` binary: pass vesting_bin=, set VESTING_BIN, or put `vesting` on PATH; " + _BUILD_HINT
    )


def _toml_value(name: str, v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (str, os.PathLike)):
        return json.dumps(os.fspath(v))  # a JSON string is a TOML basic string
    raise VestingError(f"config: {name} must be a string, number or bool, got {v!r}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, path: str, timeout: float) -> Tuple[int, Any]:
    """``GET``: (status, JSON body) for any status with a JSON body; VestingError if the
    service cannot be reached or does not answer JSON."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + path, timeout=timeout) as resp:
            status, text = resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        raise VestingError(f"cannot reach the vesting service at {url} (GET {path}): {getattr(e, 'reason', e)}") from None
    try:
        return status, json.loads(text)
    except ValueError:
        raise VestingError(f"GET {url}{path}: HTTP {status}, not JSON: {text[:200]!r}") from None


def _same_kind(like: Any, values: List[float]) -> Any:
    """``values`` as the kind of ``like``: a numpy array (float64) for a numpy array, a
    tensor for a torch tensor, else a list."""
    if type(like).__module__ == "numpy" and hasattr(like, "dtype"):
        import numpy

        return numpy.asarray(values, dtype=numpy.float64)
    new_tensor = getattr(like, "new_tensor", None)
    if callable(new_tensor):
        return new_tensor(values)
    return list(values)


class VestingSystem:
    """Vesting multipliers for a validator's weights, from the ``vesting`` service.

    The seeds' parameters are the service's configuration (``vesting run``'s TOML keys):
    ``subtensor`` is ``None`` (the service's default network, finney), a network name
    (``"finney"``, ``"test"``, ``"local"``, ``"archive"``), a ``ws://``/``wss://`` URL, or an
    object with a ``chain_endpoint`` (a ``bittensor.subtensor``); amounts are in alpha,
    fractions and ``max_multiplier`` as floats. ``config`` adds any other key of the
    service's configuration (``blocks_per_day``, ``follow``, ``api_token``, ``policy``, ...).

    Attach to a service already running instead with ``url="http://127.0.0.1:8090"`` (the
    parameters are then the service's own; pass its ``db_path`` to let the local path read
    the policy from its database).

    The local path (service unreachable) needs the policy ``.wasm``: ``policy_wasm`` (a
    path), ``$VESTING_POLICY_WASM``, or the service's database at ``db_path`` (read-only: the
    component in service is stored there). Set ``fallback=False`` to raise instead. A
    service that answers is never bypassed: its refusals raise :class:`VestingError`,
    including 503 when its multipliers are stale (``allow_stale=True`` accepts them).
    """

    def __init__(
        self,
        subtensor: Any = None,
        subnet_id: int = 1,
        db_path: Union[None, str, "os.PathLike[str]"] = None,
        minimum_stake: float = 0.3,
        retention_window_days: int = 30,
        retention_target: float = 0.9,
        max_multiplier: float = 1.5,
        use_background_thread: bool = True,
        query_interval_seconds: int = 300,
        vesting_duration_days: int = 30,
        vesting_interval_days: int = 1,
        min_vesting_amount: float = 0.1,
        *,
        url: Optional[str] = None,
        vesting_bin: Union[None, str, "os.PathLike[str]"] = None,
        api_port: Optional[int] = None,
        policy_wasm: Union[None, str, "os.PathLike[str]"] = None,
        config: Optional[Mapping[str, Any]] = None,
        fallback: bool = True,
        allow_stale: bool = False,
        start_timeout: float = 120.0,
        request_timeout: float = 30.0,
        log_path: Union[None, str, "os.PathLike[str]"] = None,
        db_manager: Any = None,
    ):
        del db_manager  # the seeds' DatabaseManager: the service keeps its own database (db_path)
        self.subnet_id = int(subnet_id)
        self.url = url.rstrip("/") if url else None
        self.db_path = os.fspath(db_path) if db_path is not None else None
        self.vesting_bin = vesting_bin
        self.api_port = api_port
        self.fallback = fallback
        self.allow_stale = allow_stale
        self.start_timeout = start_timeout
        self.request_timeout = request_timeout
        self.log_path = os.fspath(log_path) if log_path is not None else None
        wasm = policy_wasm or os.environ.get("VESTING_POLICY_WASM")
        self.policy_wasm = os.fspath(wasm) if wasm else None
        self.config: Dict[str, Any] = {
            "netuid": self.subnet_id,
            "db_path": self.db_path or "vesting.db",
            "minimum_stake": minimum_stake,
            "retention_window_days": retention_window_days,
            "retention_target": retention_target,
            "max_multiplier": max_multiplier,
            "use_background_thread": use_background_thread,
            "query_interval_seconds": query_interval_seconds,
            "vesting_duration_days": vesting_duration_days,
            "vesting_interval_days": vesting_interval_days,
            "min_vesting_amount": min_vesting_amount,
        }
        endpoint = getattr(subtensor, "chain_endpoint", None) if subtensor is not None else None
        if subtensor is None:
            pass
        elif isinstance(subtensor, str) and subtensor in _NETWORKS:
            self.config["network"] = subtensor
        elif isinstance(subtensor, str) and subtensor.startswith(("ws://", "wss://")):
            self.config["chain_endpoint"] = subtensor
        elif isinstance(endpoint, str) and endpoint:
            self.config["chain_endpoint"] = endpoint
        else:
            raise VestingError(
                f"subtensor must be None, one of {', '.join(_NETWORKS)}, a ws:// or wss:// URL, "
                f"or have a chain_endpoint; got {subtensor!r}"
            )
        self.config.update(config or {})
        self.last_source: Optional[str] = None
        self._process: Optional[subprocess.Popen] = None
        self._log: Any = None
        self._tmp: Optional[tempfile.TemporaryDirectory] = None
        # What the local path needs, as the service last reported it.
        self._params: Optional[List[Dict[str, Any]]] = None
        self._sha256: Optional[str] = None
        self._multipliers: Optional[List[Dict[str, Any]]] = None
        self._decision_block: Optional[int] = None
        self._wasm: Union[None, str, bytes] = self.policy_wasm

    # ------------------------------------------------------------------ lifecycle

    @property
    def process(self) -> Optional[subprocess.Popen]:
        """The ``vesting run`` subprocess :meth:`initialize` started, if any."""
        return self._process

    async def __aenter__(self) -> "VestingSystem":
        await self.initialize()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.shutdown()

    async def initialize(self) -> None:
        """Starts ``vesting run`` (or attaches to ``url``) and returns once its API answers;
        then reads the policy, its parameters and the latest multipliers for the local path.
        Raises :class:`VestingError` when the binary is missing, the service exits (its log's
        last lines say why, e.g. a parameter out of range) or does not answer in time."""
        if self.url is None:
            await asyncio.to_thread(self._start)
        else:
            await asyncio.to_thread(_get, self.url, "/health", self.request_timeout)
        await asyncio.to_thread(self._refresh)

    def _start(self) -> None:
        binary = find_vesting_bin(self.vesting_bin)
        self._tmp = tempfile.TemporaryDirectory(prefix="bittensor-vesting-")
        cfg = os.path.join(self._tmp.name, "vesting.toml")
        with open(cfg, "w", encoding="utf-8") as f:
            for k, v in self.config.items():
                if v is not None:
                    f.write(f"{k} = {_toml_value(k, v)}\n")
        port = self.api_port or _free_port()
        log = self.log_path or os.path.join(self._tmp.name, "vesting.log")
        self._log = open(log, "ab")
        # The parameters are the constructor's: VESTING_* variables would override the file.
        env = {k: v for k, v in os.environ.items() if not k.startswith("VESTING_") or k == "VESTING_CACHE_DIR"}
        self._process = subprocess.Popen(
            [binary, "run", "--config", cfg, "--api", f"127.0.0.1:{port}"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.start_timeout
        while True:
            code = self._process.poll()
            if code is not None:
                tail = self._log_tail(log)
                self._stop()
                self.url = None
                raise VestingError(f"`vesting run` exited with code {code}:\n{tail}")
            try:
                _get(self.url, "/health", 5.0)
                return
            except VestingError:
                pass
            if time.monotonic() > deadline:
                tail = self._log_tail(log)
                self._stop()
                self.url = None
                raise VestingError(f"`vesting run` did not serve its API within {self.start_timeout:.0f} s:\n{tail}")
            time.sleep(0.2)

    @staticmethod
    def _log_tail(path: str, lines: int = 15) -> str:
        try:
            with open(path, "rb") as f:
                text = f.read()[-8000:].decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    async def shutdown(self) -> None:
        """Stops the service this object started (SIGINT, then SIGKILL after 30 s); a
        service it attached to keeps running. Safe to call twice."""
        await asyncio.to_thread(self._stop)

    def _stop(self) -> None:
        p, self._process = self._process, None
        if p is not None:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            self.url = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # ------------------------------------------------------------------ the local path's inputs

    def _refresh(self) -> None:
        """Reads what the local path needs from the service: policy, parameters, latest
        multipliers, and the policy's bytes from the database when it has no ``.wasm``."""
        assert self.url is not None
        served = _w._http(self.url, "GET", "/policy", timeout=self.request_timeout)
        rows = _w._http(self.url, "GET", "/multipliers", timeout=self.request_timeout)
        if not isinstance(served, dict) or not isinstance(rows, list):
            raise VestingError(f"{self.url}: unexpected answer to GET /policy or /multipliers")
        self._params = served.get("params")
        sha = served.get("sha256")
        if sha != self._sha256 and self.policy_wasm is None:
            self._wasm = self._wasm_from_db(sha)
        self._sha256 = sha
        self._multipliers = [{k: r[k] for k in _w.MULTIPLIER_FIELDS} for r in rows]
        self._decision_block = max((r.get("block", -1) for r in rows), default=None)

    def _wasm_from_db(self, sha256: Optional[str]) -> Optional[bytes]:
        if not self.db_path or not sha256 or not os.path.exists(self.db_path):
            return None
        try:
            uri = "file:" + urllib.parse.quote(os.path.abspath(self.db_path)) + "?mode=ro"
            with sqlite3.connect(uri, uri=True, timeout=5.0) as db:
                row = db.execute("SELECT wasm FROM policies WHERE sha256 = ?", (sha256,)).fetchone()
        except sqlite3.Error:
            return None
        return bytes(row[0]) if row else None

    def _apply_local(self, weights: Any, uids: Any, hotkeys: Any, why: VestingError) -> Dict[str, Any]:
        if not self._multipliers:
            # None read from the service yet: its database's latest, if known.
            if not self.db_path:
                raise VestingError(f"{why.message}; no multipliers for the local path (none read yet, no db_path)")
            self._multipliers = _w.fetch_multipliers(self.db_path)
        if self._wasm is None:
            raise VestingError(
                f"{why.message}; the local path needs the policy .wasm: pass policy_wasm=, set "
                f"VESTING_POLICY_WASM, or pass the service's db_path"
            )
        policy = _w._load_policy(self._wasm)
        if self._sha256 is not None and policy.sha256 != self._sha256:
            raise VestingError(
                f"{why.message}; the service runs policy sha256 {self._sha256}, the local path has "
                f"{policy.label}: results would differ"
            )
        params = self._params if self._params is not None else _w.service_params(self.config)
        _, values, u, h = _w._prepare(weights, uids, hotkeys)
        vp = _w._vesting_policy()
        try:
            return policy.apply_weights(
                params, {"uids": u, "weights": values, "hotkeys": h, "multipliers": self._multipliers}
            )
        except vp.PolicyError as e:
            raise VestingError(str(e), code=e.code) from None
        except (vp.PolicyInputError, vp.PolicyCallError) as e:
            raise VestingError(str(e)) from None

    # ------------------------------------------------------------------ the seeds' API

    async def adjust_weights(self, weights: Any, uids: Any, hotkeys: Any) -> AdjustedWeights:
        """The full result of :meth:`apply_vesting_multipliers` (see :class:`AdjustedWeights`)."""
        return await asyncio.to_thread(self._adjust, weights, uids, hotkeys)

    def _adjust(self, weights: Any, uids: Any, hotkeys: Any) -> AdjustedWeights:
        out: Optional[Dict[str, Any]] = None
        source = "service"
        freshness: Optional[Health] = None
        if self.url is not None:
            path = "/weights/apply?allow_stale=true" if self.allow_stale else "/weights/apply"
            body = _w.request_body(weights, uids, hotkeys)
            try:
                out = _w._http(self.url, "POST", path, body, self.request_timeout)
            except VestingError as e:
                # Unreachable: the same answer from the policy here. An answer (a refusal,
                # stale multipliers: 503) is the service's word and is raised.
                if not self.fallback or e.status is not None:
                    raise
                out, source = self._apply_local(weights, uids, hotkeys, e), "local"
            else:
                if isinstance(out.get("freshness"), dict):
                    freshness = Health.from_json(out["freshness"], 200 if out["freshness"].get("status") == "ok" else 503)
                block = (out.get("freshness") or {}).get("decision_block")
                if block is None or block != self._decision_block:
                    try:
                        self._refresh()
                    except VestingError:
                        pass  # keep the previous multipliers for the local path
        elif self.fallback:
            out, source = self._apply_local(weights, uids, hotkeys, VestingError("not initialized")), "local"
        else:
            raise VestingError("not initialized: await initialize() first")
        self.last_source = source
        fixed = [int(x) for x in out["weights"]]
        return AdjustedWeights(
            uids=[int(x) for x in out["uids"]],
            weights=_same_kind(weights, [x / ONE for x in fixed]),
            weights_fixed=fixed,
            multipliers=[x / ONE for x in out["multipliers"]],
            chain_uids=[int(x) for x in out["chain_uids"]],
            chain_weights=[int(x) for x in out["chain_weights"]],
            source=source,
            freshness=freshness,
            raw=dict(out),
        )

    async def apply_vesting_multipliers(self, weights: Any, uids: Any, hotkeys: Any) -> Any:
        """The validator's weights adjusted by the vesting multipliers, the same kind as
        ``weights`` (numpy array or list; one entry per uid; summing to 1.0). ``uids`` and
        ``hotkeys`` have one entry per weight; a uid whose hotkey is not the one its
        multiplier was computed for gets 0. Through the service, or the policy here when it
        cannot be reached; :meth:`adjust_weights` gives the full result (``chain_uids``,
        ``chain_weights`` for ``set_weights``, the multipliers, which way it went)."""
        return (await self.adjust_weights(weights, uids, hotkeys)).weights

    async def get_vesting_stats(self) -> VestingStats:
        """Every miner's multiplier and holding, the policy, and the service's health."""
        if self.url is None:
            raise VestingError("not initialized: await initialize() first")
        status, stats = await asyncio.to_thread(_get, self.url, "/stats", self.request_timeout)
        if status != 200 or not isinstance(stats, dict):
            raise VestingError(f"GET {self.url}/stats: HTTP {status}: {stats}", status=status)
        hstatus, health = await asyncio.to_thread(_get, self.url, "/health", self.request_timeout)
        return VestingStats(
            netuid=int(stats.get("netuid", self.subnet_id)),
            policy=str(stats.get("policy", "")),
            policy_sha256=str(stats.get("policy_sha256", "")),
            last_block=stats.get("last_block"),
            epochs=int(stats.get("epochs") or 0),
            multipliers_block=stats.get("multipliers_block"),
            miners=[MinerStats.from_json(m) for m in stats.get("miners") or []],
            apply_requests=int(stats.get("apply_requests") or 0),
            policy_failures=int(stats.get("policy_failures") or 0),
            monitor_running=bool(stats.get("monitor_running")),
            health=Health.from_json(health if isinstance(health, dict) else {}, hstatus),
            raw=stats,
            contract=str(stats.get("contract", "")),
            params=list(stats.get("params") or []),
        )
