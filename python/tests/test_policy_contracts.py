"""Both contracts through `Policy`: the 0.1 fixture of the default policy and its 0.2 build
give identical 0.1-shaped results on every conformance vector and on a synthetic epoch;
raw calls pass the 0.2 shape; a component of another contract is refused.

The components come from ``conftest`` (``$VESTING_POLICY_WASM_V1`` / ``_V2`` /
``VESTING_POLICY_WASM``). Without a 0.2 build, the 0.2 side is the 0.1 fixture presented
as a 0.2 policy (:class:`V1AsV2`): the adapter then runs both ways around a real policy.
"""

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import wasmtime
from conftest import REPO, other_policy_wasms, policy_wasm_v1, policy_wasm_v2

from bittensor_vesting import contract
from bittensor_vesting.policy import CONTRACTS, Policy, PolicyCallError, PolicyInputError, PolicyLoadError

V1, V2 = contract.V1.name, contract.V2.name
# Vectors without a `contract` are contract-neutral (0.1 shape); those with one (the raw
# 0.2 ones of contract-0.2, and `info`, whose output names the contract) are for that
# contract's policies only.
VECTOR_DIRS = ["tests/vectors/default", "tests/vectors/contract", "tests/vectors/contract-0.2"]


class V1AsV2(Policy):
    """A 0.1 policy presented as a 0.2 one: its calls take and return the 0.2 shape (the
    adapter's other direction around the real 0.1 call), and :class:`Policy` adapts them
    back, exactly as for a 0.2 build."""

    def __init__(self, wasm: bytes, **kwargs: Any):
        super().__init__(wasm, **kwargs)
        self._contract = contract.V2
        self._info = dict(self._info, contract=V2)

    def _invoke(self, f, values):
        if self._contract is not contract.V2:  # still loading as what it is
            return super()._invoke(f, values)
        values = dict(values)
        accounts = None
        if "input" in values:
            values["input"], accounts = contract.input_to_v1(f.name, values["input"])
        out = super()._invoke(f, values)
        if f.name == "info":
            return dict(out, contract=V2)
        if accounts is not None and "Ok" in out:
            out = {"Ok": contract.output_to_v2(f.name, out["Ok"], accounts)}
        return out


def read(path: Path) -> bytes:
    if not path.is_file():
        pytest.fail(f"no policy component at {path} (the 0.1 fixture is committed at "
                    f"tests/fixtures/policies/default-0.1.0.wasm; or set VESTING_POLICY_WASM_V1)", pytrace=False)
    return path.read_bytes()


@pytest.fixture(scope="module")
def v1() -> Policy:
    path = policy_wasm_v1()
    return Policy(read(path), source=str(path))


CANDIDATES = ["fixture-as-0.2"] + [str(p) for p in other_policy_wasms()]


@pytest.fixture(scope="module", params=CANDIDATES, ids=lambda p: Path(p).name)
def other(request) -> Policy:
    """A policy that must answer exactly like the 0.1 fixture."""
    if request.param == "fixture-as-0.2":
        path = policy_wasm_v1()
        return V1AsV2(read(path), source=f"{path} as 0.2")
    policy = Policy.load(request.param)
    if Path(request.param) == policy_wasm_v2():
        assert policy.contract == V2, f"{request.param} is not a 0.2 build"
    return policy


def vectors(contract: Any = None) -> List[Tuple[str, Dict[str, Any]]]:
    """The repository's vectors with this ``contract`` field (None: the contract-neutral ones)."""
    out = []
    for d in VECTOR_DIRS:
        for p in sorted((REPO / d).glob("*.json")):
            v = json.loads(p.read_text(encoding="utf-8"))
            if v.get("contract") == contract:
                out.append((f"{d}/{p.name}", v))
    return out


def json_equal(a: Any, b: Any) -> bool:
    """Exact JSON equality as the Rust runner's: an integer never equals a float or a bool."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return a == b


def run_vector(policy: Policy, v: Dict[str, Any], raw: bool = False) -> Any:
    args = {"params": v.get("params", []), "input": v.get("input")}
    out = policy.call(v["function"], raw=raw, **{n: args[n] for n in policy.parameters(v["function"])})
    return out if isinstance(out, dict) and ("Ok" in out or "Err" in out) else {"Ok": out}


def judge(v: Dict[str, Any], got: Any, policy: Policy) -> bool:
    if v.get("expect_error") is not None:
        return isinstance(got.get("Err"), dict) and got["Err"].get("code") == v["expect_error"]
    want = v["expect"]
    if v["function"] == "info" and isinstance(want.get("Ok"), dict):
        # The one output that names the contract: each policy declares its own.
        want = {"Ok": dict(want["Ok"], contract=policy.contract)}
    return json_equal(want, got)


def test_the_fixture_speaks_0_1(v1):
    assert v1.contract == V1 == v1.info()["contract"]
    assert CONTRACTS == (V1, V2)


def test_every_vector_passes_on_the_0_1_fixture(v1):
    vs = vectors() + vectors(V1)
    assert len(vs) > 20
    failed = [name for name, v in vs if not judge(v, run_vector(v1, v, raw="contract" in v), v1)]
    assert failed == []


def test_every_vector_gives_identical_results(v1, other):
    assert v1.info() == dict(other.info(), contract=V1)
    vs = vectors()
    assert len(vs) > 20
    for name, v in vs:
        want, got = run_vector(v1, v), run_vector(other, v)
        assert judge(v, want, v1) and judge(v, got, other), name
        if v["function"] == "info":  # the one output that names the contract
            assert got["Ok"]["contract"] == other.contract
            got = {"Ok": dict(got["Ok"], contract=v1.contract)}
        assert json_equal(want, got), name
        assert json.dumps(want) == json.dumps(got), name  # key order too


# Accounts whose UTF-16 order differs from their byte order, the empty account (a dividend's
# coldkey, a fee of unknown hotkey), NUL, and accounts of no position.
MINERS = [("m\U0001f600", "c\ue000"), ("m\ue000", "c\U0001f600"), ("m", "c"), ("m\x00", "")]
VALI = ("v\u00e9", "n\uffff")


def synthetic_epoch(policy: Policy) -> List[Any]:
    """attribute -> ledger-step twice -> holdings -> multipliers -> weights, each step on the
    policy's own previous output."""
    day = 7200
    before = [{"hotkey": h, "coldkey": c, "netuid": 1, "alpha": 10**12 * (i + 1)} for i, (h, c) in enumerate(MINERS)]
    before.append({"hotkey": VALI[0], "coldkey": VALI[1], "netuid": 1, "alpha": 5 * 10**11})
    after = [dict(p) for p in before]
    flows = []
    for i, p in enumerate(after[:4]):
        p["alpha"] += 10**11
        flows.append({"block": 460, "extrinsic": None, "event_index": i, "kind": "Incentive", "hotkey": p["hotkey"],
                      "coldkey": p["coldkey"], "netuid": 1, "alpha": 10**11, "counterparty": None})
    after[4]["alpha"] += 4 * 10**10
    flows.append({"block": 460, "extrinsic": None, "event_index": 9, "kind": "Dividend", "hotkey": VALI[0],
                  "coldkey": "", "netuid": 1, "alpha": 4 * 10**10, "counterparty": None})
    after[1]["alpha"] -= 3 * 10**11
    flows.append({"block": 460, "extrinsic": 2, "event_index": 10, "kind": "Removed", "hotkey": MINERS[1][0],
                  "coldkey": MINERS[1][1], "netuid": 1, "alpha": 3 * 10**11, "counterparty": None})
    after[2]["alpha"] -= 5
    flows.append({"block": 460, "extrinsic": 3, "event_index": 11, "kind": "AlphaFee", "hotkey": "",
                  "coldkey": MINERS[2][1], "netuid": 1, "alpha": 5, "counterparty": None})
    after[0]["alpha"] -= 2 * 10**10
    after.append({"hotkey": VALI[0], "coldkey": MINERS[0][1], "netuid": 1, "alpha": 2 * 10**10})
    flows += [
        {"block": 460, "extrinsic": 4, "event_index": 12, "kind": "MovedOut", "hotkey": MINERS[0][0],
         "coldkey": MINERS[0][1], "netuid": 1, "alpha": 2 * 10**10, "counterparty": VALI[0]},
        {"block": 460, "extrinsic": 4, "event_index": 13, "kind": "MovedIn", "hotkey": VALI[0],
         "coldkey": MINERS[0][1], "netuid": 1, "alpha": 2 * 10**10, "counterparty": MINERS[0][0]},
    ]
    attributions = policy.attribute(None, {"netuid": 1, "before_block": 459, "after_block": 460,
                                           "before": before, "after": after, "flows": flows})
    earnings = [{"hotkey": a["hotkey"], "coldkey": a["coldkey"], "block": 460, "alpha": a["earned"]}
                for a in attributions if a["earned"]]
    manual = [f for f in flows if f["kind"] not in ("Incentive", "Dividend")]
    step1 = policy.ledger_step(None, {"netuid": 1, "block": 460, "ledgers": [], "earnings": earnings,
                                      "flows": manual})
    sell = {"block": 460 + 3 * day, "extrinsic": 1, "event_index": 0, "kind": "Removed", "hotkey": MINERS[2][0],
            "coldkey": MINERS[2][1], "netuid": 1, "alpha": 6 * 10**10, "counterparty": None}
    step2 = policy.ledger_step(None, {"netuid": 1, "block": 460 + 5 * day, "ledgers": step1["ledgers"],
                                      "earnings": [dict(e, block=460 + day) for e in earnings[:2]], "flows": [sell]})
    block = 460 + 10 * day
    holdings = policy.holdings(None, {"block": block, "ledgers": step2["ledgers"]})
    miners = [{"uid": i, "hotkey": h, "coldkey": c} for i, (h, c) in enumerate(MINERS)]
    miners.append({"uid": 9, "hotkey": "stranger", "coldkey": "nobody"})
    mults = policy.multipliers(None, {"block": block, "holdings": holdings, "miners": miners})
    uids = [m["uid"] for m in miners]
    weights = policy.apply_vesting_multipliers([0.5, 1.0, 2.0, 1.5, 1.0], uids, [m["hotkey"] for m in miners], mults)
    return [attributions, step1, step2, holdings, mults, weights]


def test_a_synthetic_epoch_gives_identical_results(v1, other):
    want, got = synthetic_epoch(v1), synthetic_epoch(other)
    attributions, step1, step2, holdings, mults, (weights, chain_uids, _) = want
    # Not vacuous: every step has content, "" and the non-ASCII accounts come through.
    assert any(a["earned"] for a in attributions) and any(a["coldkey"] == "" for a in attributions)
    assert [l["holder"] for l in step1["ledgers"]] == sorted(l["holder"] for l in step1["ledgers"])
    assert {"", "c\U0001f600", "c\ue000"} <= {l["holder"] for l in step2["ledgers"]}
    assert step2["releases"] and step2["consumptions"] and len(holdings) >= 4
    assert sum(1 for m in mults if m["multiplier"]) >= 2 and sum(weights) > 0.99 and chain_uids
    for i, (a, b) in enumerate(zip(want, got)):
        assert json.dumps(a) == json.dumps(b), f"step {i}"


def test_raw_calls_take_and_return_the_policys_own_shape(v1, other):
    v = json.loads((REPO / "tests/vectors/default/ledger-move-own-hotkeys.json").read_text())
    if other.contract == V1:
        assert other.call("ledger-step", [], v["input"], raw=True) == v["expect"]
        return
    v2_input, accounts = contract.input_to_v2("ledger-step", v["input"])
    assert accounts == ["a", "b", "c"]
    raw = other.call("ledger-step", [], v2_input, raw=True)
    assert raw == {"Ok": contract.output_to_v2("ledger-step", v["expect"]["Ok"], accounts)}
    assert raw["Ok"]["ledgers"]["holders"] == [2]
    # A 0.1-shaped input is not what a raw 0.2 call takes, and the adapter refuses 0.2 shape.
    with pytest.raises(PolicyInputError):
        other.call("ledger-step", [], v["input"], raw=True)
    with pytest.raises(PolicyInputError, match="raw=True"):
        other.call("ledger-step", [], v2_input)


def test_input_errors_keep_their_0_1_paths(v1, other):
    for policy in (v1, other):
        with pytest.raises(PolicyInputError, match=r"input\.uids\[0\]: 65536 is out of range for u16"):
            policy.apply_vesting_multipliers([1.0], [65536], ["h"], [])
        with pytest.raises(PolicyInputError, match=r"input\.hotkeys\[0\]: expected a string"):
            policy.apply_vesting_multipliers([1.0], [1], [7], [])


class Liar(V1AsV2):
    """A 0.2 policy whose output names an account past the input's table, or a tranche of
    an unknown kind."""

    def _invoke(self, f, values):
        out = super()._invoke(f, values)
        if f.name == "holdings" and self._contract is contract.V2:
            out["Ok"][0]["holder"] = len(values["input"]["accounts"])
        if f.name == "ledger-step" and self._contract is contract.V2:
            out["Ok"]["ledgers"]["tranches"][0] = 7
        return out


def test_output_that_breaks_the_0_2_contract_is_a_call_error():
    liar = Liar(read(policy_wasm_v1()), source="liar")
    v = json.loads((REPO / "tests/vectors/default/holdings-partial-seller.json").read_text())
    with pytest.raises(PolicyCallError, match=r"failed in `holdings`: returned invalid output: "
                                              r"result\.Ok\[0\]\.holder: account 2 is not an index"):
        liar.holdings(v["params"], v["input"])
    v = json.loads((REPO / "tests/vectors/default/ledger-move-own-hotkeys.json").read_text())
    with pytest.raises(PolicyCallError, match="invalid output: .*kind 7"):
        liar.ledger_step(v["params"], v["input"])


def component(export: str, imports: str = "") -> bytes:
    """A component exporting ``export`` with one function (``info``, returning a u32)."""
    return bytes(wasmtime.wat2wasm(f'''(component {imports}
      (core module $m (func (export "f") (result i32) i32.const 0))
      (core instance $mi (instantiate $m))
      (func $info (result u32) (canon lift (core func $mi "f")))
      (instance $i (export "info" (func $info)))
      (export "{export}" (instance $i)))'''))


def test_a_component_of_another_contract_is_refused():
    with pytest.raises(PolicyLoadError) as e:
        Policy(component("bittensor:vesting/policy@0.3.0"), source="future.wasm")
    msg = str(e.value)
    assert "future.wasm: " in msg and "exports bittensor:vesting/policy@0.3.0" in msg
    assert "this host speaks bittensor:vesting@0.1.0 and bittensor:vesting@0.2.0" in msg
    with pytest.raises(PolicyLoadError, match="imports bittensor:vesting/types@0.1.0"):
        Policy(component("bittensor:vesting/policy@0.2.0", '(import "bittensor:vesting/types@0.1.0" (instance))'))
    with pytest.raises(PolicyLoadError, match="does not implement bittensor:vesting/policy@0.2.0: missing resolve-params"):
        Policy(component("bittensor:vesting/policy@0.2.0"))


REAL_V2 = [str(p) for p in other_policy_wasms()]

if REAL_V2 and vectors(V2):
    # Only defined when there is something to run (the suite must never skip).

    @pytest.mark.parametrize("path", REAL_V2, ids=lambda p: Path(p).name)
    def test_raw_0_2_vectors_pass_on_a_0_2_build(path):
        policy = Policy.load(path)
        assert policy.contract == V2
        raw = vectors(V2)
        failed = [name for name, v in raw if not judge(v, run_vector(policy, v, raw=True), policy)]
        assert failed == []
