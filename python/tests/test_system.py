"""`VestingSystem` against the real service: `vesting devnet` and `vesting run` processes."""

import asyncio
import json
import signal
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import listening, wait_for

from bittensor_vesting import AdjustedWeights, MinerStats, VestingError, VestingStats, VestingSystem
from bittensor_vesting.weights import request_body

STRANGER = "5StrangerHotkeyWithNoMultiplier"


def get_json(url: str, path: str):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return json.loads(r.read())


def post_weights(url: str, weights, uids, hotkeys):
    req = urllib.request.Request(
        url + "/weights/apply", data=request_body(weights, uids, hotkeys), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def run(coro):
    return asyncio.run(coro)


def settled_stats(vs: VestingSystem) -> VestingStats:
    """The stats once the multipliers stop changing (the chain was stopped)."""
    last = run(vs.get_vesting_stats())
    for _ in range(40):
        time.sleep(0.75)
        again = run(vs.get_vesting_stats())
        if again.multipliers_block == last.multipliers_block and again.multipliers() == last.multipliers():
            return again
        last = again
    pytest.fail("the multipliers did not settle after the chain stopped", pytrace=False)


def wait_distinct_multipliers(vs: VestingSystem, above: float) -> None:
    def ready() -> bool:
        m = list(run(vs.get_vesting_stats()).multipliers().values())
        return len(m) >= 2 and len(set(m)) > 1 and all(x > above for x in m)

    wait_for(f"distinct multipliers above {above}", 180, ready)


def test_started_service_end_to_end(procs, vesting_bin: str, tmp_path: Path) -> None:
    """initialize() starts `vesting run` with the constructor's parameters; weights go
    through the service; with the service gone, the policy .wasm here gives the same
    weights bit for bit; shutdown() stops it."""
    devnet, chain = procs.devnet()
    vs = VestingSystem(
        subtensor=f"ws://127.0.0.1:{chain}",
        subnet_id=1,
        db_path=tmp_path / "vesting.db",
        minimum_stake=0.5,
        retention_window_days=7,
        retention_target=0.8,
        max_multiplier=1.25,
        use_background_thread=True,
        query_interval_seconds=60,
        vesting_duration_days=14,
        vesting_interval_days=2,
        min_vesting_amount=0.2,
        vesting_bin=vesting_bin,
    )
    run(vs.initialize())
    try:
        assert vs.process is not None and vs.process.poll() is None
        # The constructor's parameters are the service's (GET /policy: what it calls the policy with).
        params = {p["name"]: p["value"] for p in get_json(vs.url, "/policy")["params"]}
        assert params["minimum_stake"] == {"Amount": 500_000_000}
        assert params["retention_window_days"] == {"Count": 7}
        assert params["retention_target"] == {"Fixed": 800_000_000}
        assert params["max_multiplier"] == {"Fixed": 1_250_000_000}
        assert params["vesting_duration_days"] == {"Count": 14}
        assert params["vesting_interval_days"] == {"Count": 2}
        assert params["min_vesting_amount"] == {"Amount": 200_000_000}

        wait_distinct_multipliers(vs, 1.001)
        # Stop the chain so every path below sees the same multipliers.
        devnet.send_signal(signal.SIGKILL)
        devnet.wait()
        stats = settled_stats(vs)

        # Typed stats.
        assert isinstance(stats, VestingStats) and stats.netuid == 1 and stats.epochs > 0
        assert stats.policy.startswith("default@") and len(stats.policy_sha256) == 64
        assert stats.contract == "bittensor:vesting@0.2.0"
        assert stats.param("max_multiplier") == {"Fixed": 1_250_000_000}, stats.params
        assert stats.miners and all(isinstance(m, MinerStats) for m in stats.miners)
        assert all(1.0 <= m.multiplier <= 1.25 for m in stats.miners), stats.miners
        assert all(m.multiplier == m.multiplier_fixed / 1e9 for m in stats.miners)
        assert all(0.0 <= m.held_fraction <= 1.0 and m.holding_days > 0 for m in stats.miners)
        assert stats.health.last_block is not None and stats.health.monitor, stats.health

        # Every miner with a varied weight, and a uid whose hotkey has no multiplier.
        uids = [m.uid for m in stats.miners] + [max(m.uid for m in stats.miners) + 1]
        hotkeys = [m.hotkey for m in stats.miners] + [STRANGER]
        weights = [0.9274858346060287, 1 / 3, 0.1 + 0.2, 0.75, 2.5e-7, 0.618][: len(uids)]
        weights += [0.5] * (len(uids) - len(weights))
        n = len(uids)

        # Lists in, a list out (the seeds' call).
        adjusted = run(vs.apply_vesting_multipliers(weights=weights, uids=uids, hotkeys=hotkeys))
        assert type(adjusted) is list and len(adjusted) == n
        assert all(isinstance(x, float) for x in adjusted)
        assert vs.last_source == "service"
        full = run(vs.adjust_weights(weights, uids, hotkeys))
        assert isinstance(full, AdjustedWeights) and full.source == "service"
        assert full.freshness is not None and full.freshness.decision_block == stats.multipliers_block
        assert full.weights == adjusted
        assert sum(full.weights_fixed) == 1_000_000_000
        assert full.uids == uids
        assert full.multipliers[:-1] == [m.multiplier for m in stats.miners]
        assert (full.multipliers[-1], full.weights[-1]) == (0.0, 0.0)
        assert STRANGER not in hotkeys[:-1] and uids[-1] not in full.chain_uids
        assert max(full.chain_weights) == 65535 and len(full.chain_uids) == len(full.chain_weights)
        # The multipliers differ, so the weights are not the input's proportions.
        total = sum(weights[:-1])
        assert max(abs(full.weights[i] - weights[i] / total) for i in range(n - 1)) > 1e-6
        # Exactly what POST /weights/apply answers.
        direct = post_weights(vs.url, weights, uids, hotkeys)
        for key in ("uids", "weights", "multipliers", "chain_uids", "chain_weights"):
            assert full.raw[key] == direct[key], key

        # numpy in, numpy out, the same values.
        as_np = run(vs.apply_vesting_multipliers(np.array(weights), np.array(uids, dtype=np.int64), np.array(hotkeys)))
        assert isinstance(as_np, np.ndarray) and as_np.dtype == np.float64
        assert as_np.tolist() == adjusted

        # The service's refusal is raised, not worked around.
        with pytest.raises(VestingError) as e:
            run(vs.apply_vesting_multipliers(weights[:-1], uids, hotkeys))
        assert e.value.code == "LengthMismatch" and e.value.status == 422, e.value

        # The service dies: the policy .wasm (read from its database) runs here, on the
        # latest multipliers the service returned, with its parameters: the same weights.
        vs.process.kill()
        vs.process.wait()
        assert not listening(int(vs.url.rsplit(":", 1)[1]))
        local = run(vs.adjust_weights(weights, uids, hotkeys))
        assert local.source == "local" and vs.last_source == "local" and local.freshness is None
        assert local.weights_fixed == full.weights_fixed
        assert local.multipliers == full.multipliers
        assert (local.chain_uids, local.chain_weights) == (full.chain_uids, full.chain_weights)
        local_np = run(vs.apply_vesting_multipliers(np.array(weights), np.array(uids), hotkeys))
        assert isinstance(local_np, np.ndarray) and local_np.tolist() == adjusted
        with pytest.raises(VestingError) as e:
            run(vs.apply_vesting_multipliers(weights, uids[:-1], hotkeys))
        assert e.value.code == "LengthMismatch", e.value
        with pytest.raises(VestingError, match="cannot reach the vesting service"):
            run(vs.get_vesting_stats())
    finally:
        run(vs.shutdown())
    assert vs.process is None
    run(vs.shutdown())  # twice is fine


def test_shutdown_stops_the_service(procs, vesting_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """shutdown() stops the started service with SIGINT (a clean exit), and the async
    context manager does initialize/shutdown. VESTING_* variables of the environment do not
    override the constructor's parameters."""
    _, chain = procs.devnet()
    monkeypatch.setenv("VESTING_MAX_MULTIPLIER", "7")

    async def session() -> "tuple[object, str]":
        async with VestingSystem(
            subtensor=f"ws://127.0.0.1:{chain}", subnet_id=1, db_path=tmp_path / "v.db", vesting_bin=vesting_bin
        ) as vs:
            process, url = vs.process, vs.url
            stats = await vs.get_vesting_stats()
            assert stats.netuid == 1 and stats.monitor_running
            params = {p["name"]: p["value"] for p in get_json(vs.url, "/policy")["params"]}
            assert params["max_multiplier"] == {"Fixed": 1_500_000_000}, params
        return process, url

    process, url = run(session())
    assert process.returncode == 0, f"vesting run exited with {process.returncode} on SIGINT"
    assert not listening(int(url.rsplit(":", 1)[1]))


def test_attach_to_a_running_service(procs, tmp_path: Path) -> None:
    """url= attaches: shutdown() leaves the service running; without the service, the local
    path takes the policy from the database, and says what it lacks without one."""
    _, chain = procs.devnet()
    db = tmp_path / "run.db"
    service, url = procs.run(chain, db)
    with_db = VestingSystem(url=url, db_path=db)
    bare = VestingSystem(url=url)
    run(with_db.initialize())
    run(bare.initialize())
    assert with_db.process is None
    wait_for("multipliers", 120, lambda: len(get_json(url, "/multipliers")) >= 2)
    rows = get_json(url, "/multipliers")
    uids, hotkeys = [r["uid"] for r in rows], [r["hotkey"] for r in rows]
    weights = [1.0] * len(uids)
    for vs in (with_db, bare):
        out = run(vs.adjust_weights(weights, uids, hotkeys))
        assert out.source == "service" and sum(out.weights_fixed) == 1_000_000_000
    strict = VestingSystem(url=url, db_path=db, fallback=False)
    run(strict.initialize())
    run(with_db.shutdown())
    assert service.poll() is None and listening(int(url.rsplit(":", 1)[1]))

    service.kill()
    service.wait()
    out = run(with_db.adjust_weights(weights, uids, hotkeys))
    assert out.source == "local" and sum(out.weights_fixed) == 1_000_000_000
    with pytest.raises(VestingError, match="needs the policy .wasm"):
        run(bare.adjust_weights(weights, uids, hotkeys))
    with pytest.raises(VestingError, match="cannot reach the vesting service"):
        run(strict.adjust_weights(weights, uids, hotkeys))
    with pytest.raises(VestingError, match="cannot reach the vesting service"):
        run(VestingSystem(url=url).initialize())


def test_start_errors(procs, vesting_bin: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing binary says how to build it; a service that refuses to start is reported
    with its log; a bad subtensor is refused at once."""
    with pytest.raises(VestingError, match="cargo build -p vesting-host --bin vesting"):
        run(VestingSystem(vesting_bin=tmp_path / "nothing-here").initialize())
    monkeypatch.delenv("VESTING_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(VestingError, match="VESTING_BIN.*cargo build"):
        run(VestingSystem().initialize())
    monkeypatch.undo()
    monkeypatch.setenv("VESTING_BIN", vesting_bin)  # found without vesting_bin=

    _, chain = procs.devnet()
    bad = VestingSystem(
        subtensor=f"ws://127.0.0.1:{chain}", db_path=tmp_path / "bad.db", retention_target=2.0, start_timeout=60
    )
    with pytest.raises(VestingError, match="(?s)exited with code .*retention_target"):
        run(bad.initialize())
    assert bad.process is None

    with pytest.raises(VestingError, match="subtensor must be"):
        VestingSystem(subtensor="not-a-network")


def test_stale_multipliers_are_refused_not_bypassed(procs, vesting_bin: str, tmp_path: Path) -> None:
    """A service that answers is never worked around: stale multipliers (503) raise, they
    are not replaced by the local path; allow_stale=True accepts them, marked stale."""
    devnet, chain = procs.devnet()
    vs = VestingSystem(
        subtensor=f"ws://127.0.0.1:{chain}", subnet_id=1, db_path=tmp_path / "v.db", vesting_bin=vesting_bin,
        config={"max_decision_age_seconds": 1},
    )
    run(vs.initialize())
    try:
        wait_for("multipliers", 120, lambda: len(run(vs.get_vesting_stats()).miners) >= 2)
        devnet.kill()
        devnet.wait()
        wait_for("the service to call its multipliers stale", 60, lambda: not run(vs.get_vesting_stats()).health.ok)
        stats = run(vs.get_vesting_stats())
        uids, hotkeys = [m.uid for m in stats.miners], [m.hotkey for m in stats.miners]
        with pytest.raises(VestingError, match="stale") as e:
            run(vs.apply_vesting_multipliers([1.0] * len(uids), uids, hotkeys))
        assert e.value.status == 503 and vs.last_source != "local"
        vs.allow_stale = True
        out = run(vs.adjust_weights([1.0] * len(uids), uids, hotkeys))
        assert out.source == "service" and out.freshness is not None and not out.freshness.ok
        assert sum(out.weights_fixed) == 1_000_000_000
    finally:
        run(vs.shutdown())
