"""The 0.1 <-> 0.2 adapter (`bittensor_vesting.contract`) on its own, without a policy:
account tables sorted by UTF-8 bytes, indices that map back, ledgers that flatten and
unflatten, and the errors for input or output that does not fit."""

import random
from typing import Any, Dict, List

import pytest

from bittensor_vesting import contract
from bittensor_vesting.contract import InvalidOutput
from bittensor_vesting.errors import PolicyInputError, PolicyLoadError

# Strings whose order differs between UTF-16 code units (JavaScript's default sort) and
# UTF-8 bytes / code points, plus the empty account, NUL and plain ASCII.
TRICKY = ["", "\x00", "a", "A", "é", "\ue000", "\uffff", "\U00010000", "\U0001f600", "5F3sa2TJ", "c\u0301"]


def utf16_key(s: str) -> bytes:
    return s.encode("utf-16-be")


def test_accounts_sort_by_utf8_bytes_not_utf16():
    # U+E000 is one UTF-16 unit (E000) and U+1F600 a surrogate pair (D83D DE00): UTF-16
    # puts the emoji first, UTF-8 bytes (EE.. < F0..) the private-use character first.
    assert contract.sort_accounts(["\U0001f600", "\ue000"]) == ["\ue000", "\U0001f600"]
    assert sorted(["\U0001f600", "\ue000"], key=utf16_key) == ["\U0001f600", "\ue000"]
    assert contract.sort_accounts(["\U00010000", "\uffff", "", "\uffff"]) == ["", "\uffff", "\U00010000"]
    table = contract.sort_accounts(TRICKY * 2)
    assert [s.encode("utf-8") for s in table] == sorted({s.encode("utf-8") for s in TRICKY})
    assert table != sorted(set(TRICKY), key=utf16_key)


def test_the_empty_account_is_index_zero():
    out, accounts = contract.input_to_v2("apply-weights", {
        "uids": [0, 1], "weights": [1.0, 1.0], "hotkeys": ["h", ""], "multipliers": [],
    })
    assert accounts == ["", "h"]
    assert out == {"accounts": ["", "h"], "uids": [0, 1], "weights": [1.0, 1.0], "hotkeys": [1, 0], "multipliers": []}


# ------------------------------------------------------- random 0.1-shaped values


def account(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(TRICKY)
    alphabet = "ab\x00é\ue000\uffff\U00010000\U0001f600"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 4)))


def u64(rng: random.Random) -> int:
    return rng.choice([0, 1, 7, (1 << 64) - 1, rng.randrange(1 << 64)])


def tranche(rng: random.Random) -> Dict[str, Any]:
    t = {"kind": rng.choice(["Manual", "Earned"])}
    t.update((f, u64(rng)) for f in contract.TRANCHE_FIELDS[1:])
    return t


def ledgers(rng: random.Random) -> List[Dict[str, Any]]:
    return [{"holder": account(rng), "tranches": [tranche(rng) for _ in range(rng.randrange(4))],
             "unmatched_outflow": u64(rng)} for _ in range(rng.randrange(4))]


def pair(rng: random.Random, **more: Any) -> Dict[str, Any]:
    return {"hotkey": account(rng), "coldkey": account(rng), **more}


def flow(rng: random.Random) -> Dict[str, Any]:
    f = pair(rng, block=u64(rng), extrinsic=rng.choice([None, 3]), event_index=1, kind="MovedOut", netuid=1,
             alpha=u64(rng), counterparty=rng.choice([None, account(rng)]))
    if rng.random() < 0.2:
        del f["counterparty"]  # a missing option is none: left missing
    return f


def holding(rng: random.Random) -> Dict[str, Any]:
    return {"holder": account(rng), "total_stake": u64(rng), "earned_in_window": 1, "held_in_window": 1,
            "held_fraction": 10, "holding_blocks": 5, "holding_days": 2, "vested": 0, "locked": 3}


def multiplier(rng: random.Random) -> Dict[str, Any]:
    return {"uid": rng.randrange(1 << 16), "hotkey": account(rng), "holder": account(rng), "multiplier": 1,
            "held_factor": 2, "duration_factor": 3, "eligible": rng.random() < 0.5}


def some(rng: random.Random, make: Any) -> List[Any]:
    return [make(rng) for _ in range(rng.randrange(5))]


def random_input(function: str, rng: random.Random) -> Dict[str, Any]:
    if function == "attribute":
        return {"netuid": 1, "before_block": 1, "after_block": 2,
                "before": some(rng, lambda r: pair(r, netuid=1, alpha=u64(r))),
                "after": some(rng, lambda r: pair(r, netuid=1, alpha=u64(r))), "flows": some(rng, flow)}
    if function == "ledger-step":
        return {"netuid": 1, "block": 9, "ledgers": ledgers(rng),
                "earnings": some(rng, lambda r: pair(r, block=u64(r), alpha=u64(r))), "flows": some(rng, flow)}
    if function == "holdings":
        return {"block": 9, "ledgers": ledgers(rng)}
    if function == "multipliers":
        return {"block": 9, "holdings": some(rng, holding),
                "miners": some(rng, lambda r: pair(r, uid=r.randrange(1 << 16)))}
    assert function == "apply-weights"
    n = rng.randrange(5)
    return {"uids": list(range(n)), "weights": [1.0] * n, "hotkeys": [account(rng) for _ in range(n)],
            "multipliers": some(rng, multiplier)}


def random_output(function: str, rng: random.Random) -> Any:
    if function == "attribute":
        return some(rng, lambda r: pair(r, netuid=1, before=1, after=2, manual_in=0, manual_out=0, earned=1,
                                        residue=-1))
    if function == "ledger-step":
        return {"ledgers": ledgers(rng),
                "releases": some(rng, lambda r: {"holder": account(r), "tranche_start": 1, "block": 2, "alpha": 3}),
                "consumptions": some(rng, lambda r: {"holder": account(r), "block": 1, "alpha": 2, "from_manual": 0,
                                                     "from_released": 0, "from_locked": 2, "unmatched": 0})}
    if function == "holdings":
        return some(rng, holding)
    if function == "multipliers":
        return some(rng, multiplier)
    return {"uids": [1], "weights": [1], "multipliers": [1], "chain_uids": [1], "chain_weights": [65535]}


def strings_of(v: Any) -> set:
    """Every string in a value (the adapter's inputs here have strings only as accounts)."""
    if isinstance(v, str):
        return {v}
    if isinstance(v, dict):
        return set().union(*(strings_of(x) for k, x in v.items() if k != "kind"))
    if isinstance(v, list):
        return set().union(set(), *(strings_of(x) for x in v))
    return set()


ADAPTED = ["attribute", "ledger-step", "holdings", "multipliers", "apply-weights"]


@pytest.mark.parametrize("function", ADAPTED)
def test_inputs_round_trip_through_the_0_2_shape(function):
    rng = random.Random(f"input-{function}")
    for _ in range(200):
        original = random_input(function, rng)
        v2, accounts = contract.input_to_v2(function, original)
        # The table: every account string of the input, once, sorted by bytes.
        assert v2["accounts"] == accounts and list(v2)[0] == "accounts"
        assert set(accounts) == strings_of(original)
        encoded = [s.encode("utf-8") for s in accounts]
        assert all(a < b for a, b in zip(encoded, encoded[1:]))
        assert all(isinstance(i, int) for i in _indices(function, v2))
        if "ledgers" in original:
            flat = v2["ledgers"]
            assert len(flat["holders"]) == len(original["ledgers"]) == len(flat["tranche_counts"])
            assert len(flat["tranches"]) == 8 * sum(flat["tranche_counts"])
            assert set(flat["tranches"][::8]) <= {0, 1}
        back, table = contract.input_to_v1(function, v2)
        assert table == accounts
        assert back == original


def _indices(function: str, v2: Dict[str, Any]) -> List[Any]:
    out: List[Any] = []
    for key, kind in contract._INPUTS[function].items():  # noqa: SLF001 (the adapter's own table)
        if key not in v2:
            continue
        if kind == "ledgers":
            out += v2[key]["holders"]
        elif kind == "list<account>":
            out += v2[key]
        else:
            for r in v2[key]:
                out += [r[f] for f, k in contract._RECORDS[kind].items() if f in r and r[f] is not None]
    return out


@pytest.mark.parametrize("function", ADAPTED)
def test_outputs_round_trip_through_the_0_2_shape(function):
    rng = random.Random(f"output-{function}")
    for _ in range(200):
        original = random_output(function, rng)
        accounts = contract.sort_accounts(strings_of(original) | {account(rng) for _ in range(3)})
        v2 = contract.output_to_v2(function, original, accounts)
        assert strings_of(v2) <= {"Manual", "Earned"} or function == "apply-weights"
        back = contract.output_to_v1(function, v2, accounts)
        assert back == original
        # Key order too: a 0.2 policy's output reads exactly like a 0.1 policy's.
        assert repr(back) == repr(original)


def test_ledgers_flatten_as_the_contract_says():
    ledgers_v1 = [
        {"holder": "z", "tranches": [], "unmatched_outflow": 4},
        {"holder": "a", "tranches": [
            {"kind": "Manual", "start": 1, "block": 2, "amount": 3, "remaining": 4, "scheduled": 5, "released": 6,
             "sold_locked": 7},
            {"kind": "Earned", "start": 11, "block": 12, "amount": 13, "remaining": 14, "scheduled": 15,
             "released": 16, "sold_locked": 17},
        ], "unmatched_outflow": 0},
    ]
    v2, accounts = contract.input_to_v2("holdings", {"block": 1, "ledgers": ledgers_v1})
    assert accounts == ["a", "z"]
    # In input order (not re-sorted): the adapter only renames.
    assert v2["ledgers"] == {"holders": [1, 0], "unmatched_outflow": [4, 0], "tranche_counts": [0, 2],
                             "tranches": [0, 1, 2, 3, 4, 5, 6, 7, 1, 11, 12, 13, 14, 15, 16, 17]}
    out = contract.output_to_v1("ledger-step", {"ledgers": v2["ledgers"], "releases": [], "consumptions": []}, accounts)
    assert out["ledgers"] == ledgers_v1


# ------------------------------------------------------------------- errors


@pytest.mark.parametrize("bad, path", [
    ({"hotkeys": [5]}, "input.hotkeys[0]"),
    ({"hotkeys": "h"}, "input.hotkeys"),
    ({"hotkeys": ["\ud800"]}, "input.hotkeys[0]"),
    ({"multipliers": [{"hotkey": None, "holder": "x"}]}, "input.multipliers[0].hotkey"),
    ({"multipliers": ["x"]}, "input.multipliers[0]"),
    ({"accounts": ["h"]}, "input.accounts"),
])
def test_input_that_does_not_fit_names_its_0_1_path(bad, path):
    value = {"uids": [], "weights": [], "hotkeys": [], "multipliers": []}
    value.update(bad)
    with pytest.raises(PolicyInputError) as e:
        contract.input_to_v2("apply-weights", value)
    assert e.value.path == path


@pytest.mark.parametrize("ledger, path", [
    ({"holder": "h", "tranches": []}, "input.ledgers[0].unmatched_outflow"),
    ({"holder": "h", "tranches": [], "unmatched_outflow": -1}, "input.ledgers[0].unmatched_outflow"),
    ({"holder": "h", "tranches": [], "unmatched_outflow": 0, "extra": 1}, "input.ledgers[0]"),
    ({"holder": 3, "tranches": [], "unmatched_outflow": 0}, "input.ledgers[0].holder"),
    ({"holder": "h", "tranches": [{"kind": "Vested"}], "unmatched_outflow": 0}, "input.ledgers[0].tranches[0]"),
])
def test_malformed_input_ledgers_are_refused(ledger, path):
    with pytest.raises(PolicyInputError) as e:
        contract.input_to_v2("holdings", {"block": 1, "ledgers": [ledger]})
    assert e.value.path.startswith(path)


def test_a_bad_tranche_kind_names_the_field():
    t = tranche(random.Random(1))
    t["kind"] = "Vested"
    with pytest.raises(PolicyInputError, match="expected one of Manual, Earned") as e:
        contract.input_to_v2("holdings", {"block": 1, "ledgers": [{"holder": "h", "tranches": [t],
                                                                    "unmatched_outflow": 0}]})
    assert e.value.path == "input.ledgers[0].tranches[0].kind"


FLAT = {"holders": [0], "unmatched_outflow": [0], "tranche_counts": [1], "tranches": [1, 0, 0, 5, 5, 5, 0, 0]}


@pytest.mark.parametrize("function, output, problem", [
    ("holdings", [dict(holding(random.Random(0)), holder=2)], "not an index into the input's 2 accounts"),
    ("multipliers", [dict(multiplier(random.Random(0)), hotkey=0, holder=-1)], "not an index"),
    ("ledger-step", {"ledgers": dict(FLAT, holders=[2]), "releases": [], "consumptions": []}, "not an index"),
    ("ledger-step", {"ledgers": FLAT, "releases": [{"holder": 9, "tranche_start": 0, "block": 0, "alpha": 0}],
                     "consumptions": []}, "not an index"),
    ("ledger-step", {"ledgers": dict(FLAT, tranches=[2, 0, 0, 5, 5, 5, 0, 0]), "releases": [], "consumptions": []},
     "kind 2"),
    ("ledger-step", {"ledgers": dict(FLAT, tranche_counts=[2]), "releases": [], "consumptions": []},
     "add up to 2 tranches, tranches holds 1"),
    ("ledger-step", {"ledgers": dict(FLAT, tranches=[1, 0, 0]), "releases": [], "consumptions": []},
     "not 8 per tranche"),
    ("ledger-step", {"ledgers": dict(FLAT, unmatched_outflow=[]), "releases": [], "consumptions": []},
     "1 holders, 0 unmatched-outflow and 1 tranche-counts"),
])
def test_output_that_breaks_the_contract_is_invalid_output(function, output, problem):
    with pytest.raises(InvalidOutput, match=problem):
        contract.output_to_v1(function, output, ["a", "b"])


def test_functions_without_accounts_pass_unchanged():
    assert contract.input_to_v2("resolve-params", [1]) == ([1], None)
    assert contract.input_to_v2("info", None) == (None, None)
    out = random_output("apply-weights", random.Random(0))
    assert contract.output_to_v1("apply-weights", out, []) is out


# ------------------------------------------------------- which contract a component speaks


def test_select_picks_the_contract_of_the_export():
    assert contract.select(["bittensor:vesting/policy@0.1.0"], []) is contract.V1
    assert contract.select(["bittensor:vesting/policy@0.1.0"], ["bittensor:vesting/types@0.1.0"]) is contract.V1
    assert contract.select(["bittensor:vesting/policy@0.2.0"], ["bittensor:vesting/types@0.2.0"]) is contract.V2
    both = ["bittensor:vesting/policy@0.1.0", "bittensor:vesting/policy@0.2.0"]
    assert contract.select(both, []) is contract.V2


def test_select_refuses_another_version_saying_what_it_has_and_what_is_spoken():
    with pytest.raises(PolicyLoadError) as e:
        contract.select(["bittensor:vesting/policy@0.3.0"], [], "p.wasm")
    msg = str(e.value)
    assert msg.startswith("p.wasm: ")
    assert "exports bittensor:vesting/policy@0.3.0" in msg
    assert "bittensor:vesting@0.1.0 and bittensor:vesting@0.2.0" in msg


def test_select_allows_only_the_matching_types_import():
    with pytest.raises(PolicyLoadError, match="imports bittensor:vesting/types@0.1.0; .* may import nothing but "
                                              "bittensor:vesting/types@0.2.0"):
        contract.select(["bittensor:vesting/policy@0.2.0"], ["bittensor:vesting/types@0.1.0"])
    with pytest.raises(PolicyLoadError, match="imports wasi:io/streams@0.2.0"):
        contract.select(["bittensor:vesting/policy@0.1.0"], ["wasi:io/streams@0.2.0"])


def test_the_declared_contract_must_match_the_export():
    contract.check_declared(contract.V2, {"contract": "bittensor:vesting@0.2.0"})
    with pytest.raises(PolicyLoadError, match="exports bittensor:vesting/policy@0.2.0 but declares contract "
                                              "`bittensor:vesting@0.1.0`"):
        contract.check_declared(contract.V2, {"contract": "bittensor:vesting@0.1.0"})
