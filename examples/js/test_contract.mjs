// Tests of the two contracts' host (`node --test test_contract.mjs`, or `npm test`): the
// 0.1 <-> 0.2 adapter of `contract.mjs` on its own (the account table's UTF-8 byte order,
// ledgers flattened and back, every vector's input adapted and back), a 0.1 policy behind a
// 0.2 face (the 0.1 component under jco-shaped 0.2 bindings: every vector through the
// adapter, invalid output caught), load refusals, and, when a real 0.2 build is given, that
// it gives the 0.1 build's results on every vector.
//
// The components come from env vars: VESTING_WASM_0_1 (default
// tests/fixtures/policies/default-0.1.0.wasm), VESTING_WASM_0_2 (a `bittensor:vesting@0.2.0`
// build of the default policy; its tests are skipped without it).

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { compareVector } from "./compare_contracts.mjs";
import { Adapter, CONTRACTS, LATEST, PRESENTED, accountTable, compareUtf8, flattenLedgers, unflattenLedgers } from "./contract.mjs";
import { Converter } from "./convert.mjs";
import { DEFAULT_VECTORS, RAW_VECTORS, call, judge, load } from "./run_vectors.mjs";
import { Policy, PolicyInputError, PolicyLoadError, PolicyOutputError, jcoName, jsonEqual, parseWit, snakeName } from "./vesting_policy.mjs";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const WASM_01 = process.env.VESTING_WASM_0_1 || join(REPO, "tests/fixtures/policies/default-0.1.0.wasm");
const WASM_02 = process.env.VESTING_WASM_0_2 || "";

const wit01 = parseWit(readFileSync(PRESENTED.wit, "utf8"));
const wit02 = parseWit(readFileSync(LATEST.wit, "utf8"));
const conv01 = new Converter(wit01.resolve);
const conv02 = new Converter(wit02.resolve);
const adapter = new Adapter(wit02);
const fn01 = (fn) => wit01.interfaces.get("policy").functions.get(fn);
const fn02 = (fn) => wit02.interfaces.get("policy").functions.get(fn);

/** Every contract-neutral vector of the repository: [path, vector]. */
const VECTORS = DEFAULT_VECTORS.flatMap((d) => load(join(REPO, d))).filter(([, v]) => !(v instanceof Error) && v.contract === undefined);

/** A value in the 0.1 shape, as the converter would read it back (missing options null,
 * every integer BigInt): what a round trip must give. */
function canonical01(ty, v, path) {
  return conv01.fromJco(ty, conv01.toJco(ty, v, path), path);
}

// ---------------------------------------------------------------- the account table

describe("account table", () => {
  test("sorted by UTF-8 bytes, not by UTF-16 code units", () => {
    // U+E000 is EE 80 80 in UTF-8, U+1F600 is F0 9F 98 80: E000 first. In UTF-16 U+1F600 is
    // D83D DE00, before E000: JS's default sort gets it the other way round.
    assert.deepEqual(["\u{1F600}", "\uE000"].sort(), ["\u{1F600}", "\uE000"]);
    assert.deepEqual(accountTable(["\u{1F600}", "\uE000"]), ["\uE000", "\u{1F600}"]);
    assert.deepEqual(accountTable(["\u{10000}", "\uFFFF"]), ["\uFFFF", "\u{10000}"]);
    assert.ok(compareUtf8("\uE000", "\u{1F600}") < 0);
    assert.ok(compareUtf8("\u{1F600}", "\u{1F600}") === 0);
  });

  test('deduplicated, with "" first', () => {
    const t = accountTable(["b", "", "a", "\u{1F600}", "é", "\uE000", "a", "", "5F"]);
    assert.deepEqual(t, ["", "5F", "a", "b", "é", "\uE000", "\u{1F600}"]);
  });

  test("a lone surrogate is refused (it has no UTF-8 bytes)", () => {
    const input = { block: 1, holdings: [], miners: [{ uid: 0, hotkey: "\uD800", coldkey: "c" }] };
    assert.throws(
      () => adapter.input(fn02("multipliers").params, [[], input]),
      (e) => e instanceof PolicyInputError && e.path === "input.miners[0].hotkey",
    );
  });
});

// ------------------------------------------------------------------ adapting inputs

const tranche = (kind, start, extra = 0n) => ({
  kind,
  start,
  block: start + 1n,
  amount: 100n + extra,
  remaining: 90n + extra,
  scheduled: 80n,
  released: 10n,
  sold_locked: 5n,
});

describe("adapter input 0.1 -> 0.2", () => {
  test("ledger-step: every account field, the table, flat ledgers", () => {
    const input = {
      netuid: 1,
      block: 7200n,
      ledgers: [
        { holder: "\u{1F600}", tranches: [tranche("Earned", 0n), tranche("Manual", 7n, 1n)], unmatched_outflow: 3n },
        { holder: "", tranches: [], unmatched_outflow: 0n },
        { holder: "\uE000", tranches: [tranche("Manual", 9n)], unmatched_outflow: 18446744073709551615n },
      ],
      earnings: [{ hotkey: "h", coldkey: "\uE000", block: 5n, alpha: 1n }],
      flows: [
        { block: 6n, extrinsic: 2, event_index: 0, kind: "MovedOut", hotkey: "h", coldkey: "c", netuid: 1, alpha: 4n, counterparty: "z-other" },
        { block: 6n, extrinsic: null, event_index: 1, kind: "Dividend", hotkey: "h", coldkey: "", netuid: 1, alpha: 4n, counterparty: null },
        { block: 7n, event_index: 2, kind: "AlphaFee", hotkey: "", coldkey: "c", netuid: 1, alpha: 1n },
      ],
    };
    const { args, accounts } = adapter.input(fn02("ledger-step").params, [[], input]);
    assert.deepEqual(accounts, ["", "c", "h", "z-other", "\uE000", "\u{1F600}"]);
    const [params, got] = args;
    assert.deepEqual(params, []);
    assert.equal(got.accounts, accounts);
    const ix = (s) => accounts.indexOf(s);
    assert.deepEqual(got.ledgers, {
      holders: [ix("\u{1F600}"), ix(""), ix("\uE000")],
      unmatched_outflow: [3n, 0n, 18446744073709551615n],
      tranche_counts: [2, 0, 1],
      tranches: [1n, 0n, 1n, 100n, 90n, 80n, 10n, 5n, 0n, 7n, 8n, 101n, 91n, 80n, 10n, 5n, 0n, 9n, 10n, 100n, 90n, 80n, 10n, 5n],
    });
    assert.deepEqual(got.earnings, [{ hotkey: ix("h"), coldkey: ix("\uE000"), block: 5n, alpha: 1n }]);
    assert.deepEqual(
      got.flows.map((f) => [f.hotkey, f.coldkey, f.counterparty]),
      [
        [ix("h"), ix("c"), ix("z-other")],
        [ix("h"), 0, null],
        [0, ix("c"), null],
      ],
    );
    // It fits the 0.2 contract, and comes back as it went in.
    conv02.toJco(fn02("ledger-step").params[1].type, got, "input");
    const back = adapter.to01(fn02("ledger-step").params[1].type, got, accounts, "input");
    const t = fn01("ledger-step").params[1].type;
    assert.ok(jsonEqual(canonical01(t, back, "input"), canonical01(t, input, "input")));
  });

  test("weights-input: hotkeys list and the multipliers' accounts", () => {
    const input = {
      uids: [0, 1],
      weights: [0.5, 0.5],
      hotkeys: ["\u{1F600}", "\uE000"],
      multipliers: [
        { uid: 0, hotkey: "\u{1F600}", holder: "", multiplier: 1n, held_factor: 1n, duration_factor: 1n, eligible: true },
      ],
    };
    const { args, accounts } = adapter.input(fn02("apply-weights").params, [[], input]);
    assert.deepEqual(accounts, ["", "\uE000", "\u{1F600}"]);
    assert.deepEqual(args[1].hotkeys, [2, 1]);
    assert.deepEqual([args[1].multipliers[0].hotkey, args[1].multipliers[0].holder], [2, 0]);
  });

  test("every vector's input: fits the 0.2 WIT, a sorted table, and round-trips", () => {
    let inputs = 0;
    for (const [path, v] of VECTORS) {
      const f2 = fn02(v.function);
      const f1 = fn01(v.function);
      const args01 = f1.params.map((p) => ({ params: v.params ?? [], input: v.input ?? null })[snakeName(p.name)]);
      const { args, accounts } = adapter.input(f2.params, args01);
      for (let i = 1; i < accounts.length; i++) assert.ok(compareUtf8(accounts[i - 1], accounts[i]) < 0, path);
      f2.params.forEach((p, i) => conv02.toJco(p.type, args[i], `${path}: ${p.name}`));
      f2.params.forEach((p, i) => {
        const back = adapter.to01(p.type, args[i], accounts, p.name);
        const t = f1.params[i].type;
        assert.ok(jsonEqual(canonical01(t, back, p.name), canonical01(t, args01[i], p.name)), `${path}: ${p.name}`);
      });
      if (accounts.length) inputs++;
    }
    assert.ok(VECTORS.length > 20 && inputs > 10, `${VECTORS.length} vectors, ${inputs} with accounts`);
  });
});

// ----------------------------------------------------------------- adapting outputs

describe("adapter output 0.2 -> 0.1", () => {
  const accounts = ["", "a", "\uE000", "\u{1F600}"];
  const flat = {
    holders: [3n, 0n],
    unmatched_outflow: [7n, 0n],
    tranche_counts: [1n, 2n],
    tranches: [1n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 0n, 9n, 9n, 9n, 9n, 9n, 9n, 9n, 1n, 8n, 8n, 8n, 8n, 8n, 8n, 8n],
  };

  test("ledgers unflatten, and flatten back to the same lists", () => {
    const list = unflattenLedgers(flat, (h) => accounts[Number(h)]);
    assert.deepEqual(list, [
      {
        holder: "\u{1F600}",
        tranches: [{ kind: "Earned", start: 1n, block: 2n, amount: 3n, remaining: 4n, scheduled: 5n, released: 6n, sold_locked: 7n }],
        unmatched_outflow: 7n,
      },
      {
        holder: "",
        tranches: [
          { kind: "Manual", start: 9n, block: 9n, amount: 9n, remaining: 9n, scheduled: 9n, released: 9n, sold_locked: 9n },
          { kind: "Earned", start: 8n, block: 8n, amount: 8n, remaining: 8n, scheduled: 8n, released: 8n, sold_locked: 8n },
        ],
        unmatched_outflow: 0n,
      },
    ]);
    const again = flattenLedgers(list, (h) => BigInt(accounts.indexOf(h)));
    assert.deepEqual({ ...again, tranche_counts: again.tranche_counts.map(BigInt) }, flat);
    assert.deepEqual(unflattenLedgers({ holders: [], unmatched_outflow: [], tranche_counts: [], tranches: [] }), []);
  });

  const ledgerOutput = fn02("ledger-step").result;
  const out = (ledgers) => ({ Ok: { ledgers, releases: [{ holder: 2n, tranche_start: 0n, block: 0n, alpha: 1n }], consumptions: [] } });

  test("a whole ledger-step result", () => {
    const got = adapter.output(ledgerOutput, out(flat), accounts);
    assert.equal(got.Ok.ledgers[0].holder, "\u{1F600}");
    assert.equal(got.Ok.releases[0].holder, "\uE000");
    assert.deepEqual(adapter.output(ledgerOutput, { Err: { code: "InvalidInput", message: "m" } }, accounts), {
      Err: { code: "InvalidInput", message: "m" },
    });
  });

  const invalid = (value, path, problem) => () =>
    assert.throws(
      () => adapter.output(ledgerOutput, value, accounts),
      (e) => e instanceof PolicyOutputError && e.path === path && problem.test(e.problem),
    );
  test("an index past the table", invalid(out({ ...flat, holders: [4n, 0n] }), "result.Ok.ledgers.holders[0]", /account 4 is past the input's table of 4/));
  test("a release's holder past the table", () => {
    const bad = out(flat);
    bad.Ok.releases[0].holder = 99n;
    invalid(bad, "result.Ok.releases[0].holder", /account 99/)();
  });
  test("an unknown tranche kind", invalid(out({ ...flat, tranches: [2n, ...flat.tranches.slice(1)] }), "result.Ok.ledgers.tranches[0]", /tranche kind 2/));
  test("counts that do not add up", invalid(out({ ...flat, tranche_counts: [1n, 1n] }), "result.Ok.ledgers.tranches", /add up to 2 tranche/));
  test("lists of different lengths", invalid(out({ ...flat, unmatched_outflow: [0n] }), "result.Ok.ledgers", /2 holders, 1 unmatched-outflow/));
});

// ------------------------------------------------------------- a 0.1 policy as a 0.2 one

class ComponentError extends Error {
  constructor(payload) {
    super(payload.message);
    this.payload = payload;
  }
}

/** The 0.1 policy behind jco-shaped 0.2 bindings: each call's 0.2 input is checked as a
 * 0.2 policy checks it (the table sorted by bytes, no duplicates, indices in range), mapped
 * to 0.1, run, and the output mapped to 0.2. `tamper(fn, out02)` may break the output. */
async function behind02(policy01, { tamper = (fn, o) => o, contract = LATEST.contract, exports = [LATEST.export] } = {}) {
  const bindings = {};
  for (const [name, f] of wit02.interfaces.get("policy").functions) {
    bindings[jcoName(name)] = async (...lowered) => {
      const args02 = f.params.map((p, i) => conv02.fromJco(p.type, lowered[i], p.name));
      const accounts = args02.find((a) => Array.isArray(a?.accounts))?.accounts ?? [];
      const refuse = (message) => new ComponentError({ code: "invalid-input", message });
      for (let i = 1; i < accounts.length; i++) {
        if (compareUtf8(accounts[i - 1], accounts[i]) >= 0) throw refuse(`accounts[${i}] is out of order`);
      }
      let args01;
      try {
        args01 = f.params.map((p, i) => adapter.to01(p.type, args02[i], accounts, p.name));
      } catch (e) {
        if (e instanceof PolicyOutputError) throw refuse(e.message);
        throw e;
      }
      let out = await policy01.callRaw(name, ...args01);
      if (name === "info") out = { ...out, contract };
      const index = new Map(accounts.map((a, i) => [a, i]));
      const out02 = tamper(name, adapter.to02(f.result, out, index, accounts));
      const value = conv02.toJco(f.result, out02, "result");
      if (conv02.resolve(f.result).kind !== "result") return value;
      if (value.tag === "err") throw new ComponentError(value.val);
      return value.val;
    };
  }
  const runtime = {
    instantiate: async () => Object.fromEntries(exports.map((e) => [e, bindings])),
    modules: new Map(),
    imports: [],
    exports,
  };
  const policy = new Policy(Buffer.concat([policy01.wasm, Buffer.from(" as 0.2")]), { source: "0.1-as-0.2" });
  return Policy.fromRuntime(policy, runtime);
}

describe("a 0.1 policy behind a 0.2 face", async () => {
  const p01 = await Policy.load(WASM_01);

  test("the fixture is a 0.1 policy", async () => {
    assert.equal(p01.contract, PRESENTED.contract);
    assert.equal(p01.adapted, false);
    assert.equal((await p01.info()).contract, p01.contract);
  });

  test("loads as a 0.2 policy; info says so", async () => {
    const p = await behind02(p01);
    assert.equal(p.contract, LATEST.contract);
    assert.equal(p.adapted, true);
    assert.equal((await p.info()).contract, p.contract);
  });

  test("every vector: passes through the adapter, same results as the 0.1 policy", async () => {
    const p = await behind02(p01);
    const failed = [];
    for (const [path, v] of VECTORS) {
      const got = await call(p, v);
      if (v.function === "info") got.Ok.contract = PRESENTED.contract; // as the vector says
      const why = judge(v, got);
      if (why) failed.push(`${path}: ${why}`);
      const notes = [];
      const diff = await compareVector(p01, p, v, notes);
      if (diff) failed.push(`${path}: differs: ${diff}`);
    }
    assert.deepEqual(failed, []);
  });

  test("accounts whose UTF-16 order is not their byte order", async () => {
    const p = await behind02(p01);
    const ledger = (holder, amount) => ({ holder, tranches: [{ ...tranche("Earned", 0n), amount, remaining: amount, scheduled: amount, released: 0n, sold_locked: 0n }], unmatched_outflow: 0n });
    const input = { block: 7200n, ledgers: [ledger("\u{1F600}", 5_000_000_000n), ledger("\uE000", 7_000_000_000n), ledger("", 1n)] };
    const holdings = await p.holdings(null, input);
    assert.deepEqual(holdings, await p01.holdings(null, input));
    const step = {
      netuid: 1,
      block: 7200n,
      ledgers: input.ledgers,
      earnings: [{ hotkey: "\u{1F600}", coldkey: "\uE000", block: 7000n, alpha: 10n }],
      flows: [{ block: 7100n, event_index: 0, kind: "Removed", hotkey: "h", coldkey: "\u{1F600}", netuid: 1, alpha: 1_000_000_000n }],
    };
    const stepped = await p.ledgerStep(null, step);
    assert.deepEqual(stepped, await p01.ledgerStep(null, step));
    // "Sorted by holder": by bytes, as the 0.1 policy sorts strings.
    assert.deepEqual(stepped.ledgers.map((l) => l.holder), ["", "\uE000", "\u{1F600}"]);
    const miners = [
      { uid: 0, hotkey: "\u{1F600}", coldkey: "\u{1F600}" },
      { uid: 1, hotkey: "\uE000", coldkey: "\uE000" },
      { uid: 2, hotkey: "x", coldkey: "" },
    ];
    const m = await p.multipliers(null, { block: 7200n, holdings, miners });
    assert.deepEqual(m, await p01.multipliers(null, { block: 7200n, holdings, miners }));
    const w = { uids: [0, 1, 2], weights: [1, 2, 3], hotkeys: ["\u{1F600}", "\uE000", "x"], multipliers: m };
    assert.deepEqual(await p.applyWeights(null, w), await p01.applyWeights(null, w));
  });

  test("the raw path passes 0.2 values unadapted", async () => {
    const p = await behind02(p01);
    const input = { accounts: ["", "\uE000"], block: 7200n, ledgers: { holders: [1], unmatched_outflow: [0], tranche_counts: [0], tranches: [] } };
    const out = await p.callRaw("holdings", [], input);
    assert.equal(out.Ok[0].holder, 1n);
    // A table in UTF-16 order is out of order for a 0.2 policy.
    const bad = await p.callRaw("holdings", [], { ...input, accounts: ["\u{1F600}", "\uE000"] });
    assert.equal(bad.Err?.code, "InvalidInput");
  });

  test("a 0.1-shaped input that does not fit names the caller's path", async () => {
    const p = await behind02(p01);
    await assert.rejects(
      p.holdings(null, { block: 1n, ledgers: [{ holder: 5, tranches: [], unmatched_outflow: 0n }] }),
      (e) => e instanceof PolicyInputError && e.path === "input.ledgers[0].holder",
    );
  });

  const ledgerVector = VECTORS.find(([, v]) => v.function === "ledger-step" && v.expect?.Ok?.ledgers?.length)[1];
  const holdingsVector = VECTORS.find(([, v]) => v.function === "holdings" && v.expect?.Ok?.length)[1];
  const invalid = (fn, vector, tamper, problem) => async () => {
    const p = await behind02(p01, { tamper: (name, o) => (name === fn ? tamper(o) : o) });
    await assert.rejects(call(p, vector), (e) => {
      assert.ok(e instanceof PolicyOutputError, e.stack);
      assert.equal(e.policy, p.label);
      assert.equal(e.function, fn);
      assert.match(e.message, problem);
      assert.match(e.message, new RegExp(`policy \`${p.label.replace(/[()]/g, "\\$&")}\` failed in \`${fn}\`: returned invalid output`));
      return true;
    });
  };
  test("output: a holder index past the table", invalid("holdings", holdingsVector, (o) => (o.Ok[0].holder = 1000n, o), /result\.Ok\[0\]\.holder: account 1000 is past/));
  test("output: tranche counts that do not add up", invalid("ledger-step", ledgerVector, (o) => (o.Ok.ledgers.tranche_counts[0] = BigInt(o.Ok.ledgers.tranche_counts[0]) + 1n, o), /tranche-counts add up/));
  test("output: an unknown tranche kind", invalid("ledger-step", ledgerVector, (o) => (o.Ok.ledgers.tranches[0] = 7n, o), /tranche kind 7/));
  test("output: ledgers lists of different lengths", invalid("ledger-step", ledgerVector, (o) => (o.Ok.ledgers.holders.push(0n), o), /one of each per ledger/));

  test("a component of another contract version is refused, saying what it exports", async () => {
    await assert.rejects(behind02(p01, { exports: ["bittensor:vesting/policy@0.3.0"] }), (e) => {
      assert.ok(e instanceof PolicyLoadError);
      assert.match(e.message, /exports bittensor:vesting\/policy@0\.3\.0; this host speaks bittensor:vesting\/policy@0\.1\.0 and bittensor:vesting\/policy@0\.2\.0/);
      return true;
    });
  });

  test("info naming another contract than the export is refused", async () => {
    await assert.rejects(behind02(p01, { contract: PRESENTED.contract }), (e) => {
      assert.ok(e instanceof PolicyLoadError);
      assert.match(e.message, /exports bittensor:vesting\/policy@0\.2\.0 but its info declares contract `bittensor:vesting@0\.1\.0`/);
      return true;
    });
  });
});

// --------------------------------------------------------------- a real 0.2 build

describe("a 0.2 build", { skip: WASM_02 ? false : "VESTING_WASM_0_2 is not set" }, async () => {
  if (!WASM_02) return;
  const p01 = await Policy.load(WASM_01);
  const p02 = await Policy.load(WASM_02);

  test("is a 0.2 policy; info says so", async () => {
    assert.equal(p02.contract, LATEST.contract);
    assert.equal(p02.adapted, true);
    assert.equal((await p02.info()).contract, LATEST.contract);
  });

  test("every vector: the same results as the 0.1 build", async () => {
    const failed = [];
    for (const [path, v] of VECTORS) {
      const diff = await compareVector(p01, p02, v);
      if (diff) failed.push(`${path}: ${diff}`);
    }
    assert.deepEqual(failed, []);
  });

  test("every contract-neutral vector passes through the adapter", async () => {
    const failed = [];
    for (const [path, v] of VECTORS) {
      const got = await call(p02, v);
      if (v.function === "info" && got.Ok?.contract === LATEST.contract && v.expect?.Ok?.contract === PRESENTED.contract) {
        got.Ok.contract = PRESENTED.contract; // an old info vector names 0.1.0
        if (v.expect.Ok.version !== undefined) got.Ok.version = v.expect.Ok.version;
      }
      const why = judge(v, got);
      if (why) failed.push(`${path}: ${why}`);
    }
    assert.deepEqual(failed, []);
  });

  test("accounts whose UTF-16 order is not their byte order", async () => {
    const ledger = (holder, amount) => ({ holder, tranches: [{ ...tranche("Earned", 0n), amount, remaining: amount, scheduled: amount, released: 0n, sold_locked: 0n }], unmatched_outflow: 0n });
    const input = { block: 7200n, ledgers: [ledger("\u{1F600}", 5_000_000_000n), ledger("\uE000", 7_000_000_000n), ledger("", 1n)] };
    const holdings = await p02.holdings(null, input);
    assert.deepEqual(holdings, await p01.holdings(null, input));
    const step = {
      netuid: 1,
      block: 7200n,
      ledgers: input.ledgers,
      earnings: [{ hotkey: "\u{1F600}", coldkey: "\uE000", block: 7000n, alpha: 10n }],
      flows: [{ block: 7100n, event_index: 0, kind: "Removed", hotkey: "h", coldkey: "\u{1F600}", netuid: 1, alpha: 1_000_000_000n }],
    };
    const stepped = await p02.ledgerStep(null, step);
    assert.deepEqual(stepped, await p01.ledgerStep(null, step));
    // "Sorted by holder": by bytes, as the 0.1 policy sorts strings.
    assert.deepEqual(stepped.ledgers.map((l) => l.holder), ["", "\uE000", "\u{1F600}"]);
    const miners = [
      { uid: 0, hotkey: "\u{1F600}", coldkey: "\u{1F600}" },
      { uid: 1, hotkey: "\uE000", coldkey: "\uE000" },
      { uid: 2, hotkey: "x", coldkey: "" },
    ];
    const m = await p02.multipliers(null, { block: 7200n, holdings, miners });
    assert.deepEqual(m, await p01.multipliers(null, { block: 7200n, holdings, miners }));
    const w = { uids: [0, 1, 2], weights: [1, 2, 3], hotkeys: ["\u{1F600}", "\uE000", "x"], multipliers: m };
    assert.deepEqual(await p02.applyWeights(null, w), await p01.applyWeights(null, w));
  });

  test("the raw path: a table out of byte order is invalid-input", async () => {
    const input = { accounts: ["", "\uE000"], block: 7200n, ledgers: { holders: [1], unmatched_outflow: [0], tranche_counts: [0], tranches: [] } };
    const out = await p02.callRaw("holdings", [], input);
    assert.equal(out.Ok?.[0]?.holder, 1n, JSON.stringify(out, (k, x) => (typeof x === "bigint" ? `${x}` : x)));
    const bad = await p02.callRaw("holdings", [], { ...input, accounts: ["\u{1F600}", "\uE000"] });
    assert.equal(bad.Err?.code, "InvalidInput");
  });

  test(`the raw vectors (${RAW_VECTORS})`, { skip: existsSync(join(REPO, RAW_VECTORS)) ? false : `${RAW_VECTORS} does not exist` }, async () => {
    const failed = [];
    for (const [path, v] of load(join(REPO, RAW_VECTORS))) {
      if (v instanceof Error) {
        failed.push(`${path}: ${v.message}`);
        continue;
      }
      assert.equal(v.contract, LATEST.contract, path);
      const why = judge(v, await call(p02, v));
      if (why) failed.push(`${path}: ${why}`);
    }
    assert.deepEqual(failed, []);
  });
});

test("CONTRACTS name this checkout's WIT files", () => {
  for (const c of CONTRACTS) assert.equal(parseWit(readFileSync(c.wit, "utf8")).package, c.contract);
});
