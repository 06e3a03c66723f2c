// Run a Bittensor vesting policy component (`.wasm`) from Node, with jco.
//
// A policy implements one of the contracts this host speaks (`contract.mjs`):
// `bittensor:vesting@0.1.0` (`wit/0.1.0/vesting.wit`) or `bittensor:vesting@0.2.0`
// (`wit/vesting.wit`); `Policy.load` tells which by what the component exports
// (`policy.contract`). This module transpiles the very same `.wasm` the Rust host runs with
// jco (in memory: the core module is compiled by V8, the generated JS is imported from a
// `data:` URL) and calls it, so a JavaScript validator gets bit-identical results.
//
// Values go in and come out as plain JS data in the JSON shape of the conformance vectors
// (`tests/vectors/*/*.json`), which is how the Rust host's serde writes them:
//
// - records are objects with snake_case keys (`default_value`, `before_block`);
// - enums are their CamelCase names (`"MovedIn"`), variants `{Amount: 5n}` (or the bare
//   name for a case without payload); options are `null` or the value;
// - every integer (u16, u32, u64, s64, ...) comes out as a BigInt, never a Number, so no
//   u64 loses a bit; on input a BigInt or a safe-integer Number is accepted;
// - `f64` values are Numbers (a BigInt is accepted on input, as serde accepts an integer);
// - a `result` is `{Ok: ...}` / `{Err: ...}` from `policy.call`; the typed methods return
//   the `Ok` value and throw `PolicyError` for the `Err`.
//
// The typed methods and `policy.call` speak the 0.1 shape for both contracts (accounts as
// strings, ledgers as `list<holder-ledger>`): for a 0.2 policy, `contract.mjs` adapts each
// input (the account table, the flat ledgers) and each output back. `policy.callRaw` passes
// values in the policy's own contract's shape, unadapted.
//
// The conversion is derived from the contracts' WIT (parsed here), not written per record:
// a contract that adds a field or a case needs no change here. `parseJson` /
// `stringifyJson` read and write JSON with integers as BigInt (and keep `1.0` a float), for
// exact comparisons.
//
// Every call instantiates the component afresh (no state survives between calls, as in the
// Rust host's fresh store per call). Limits: V8 has no fuel metering, so a policy that
// loops forever blocks the call (the Rust and Python hosts stop it); run untrusted policies
// with a timeout around the process.
//
//     import { Policy } from "./vesting_policy.mjs";
//     const policy = await Policy.load("vesting_policy_default.wasm");
//     policy.info().name; // "default"
//     policy.contract;    // "bittensor:vesting@0.2.0"

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { transpile } from "@bytecodealliance/jco";

import { Adapter, CONTRACTS, LATEST, PRESENTED, contractOfExports } from "./contract.mjs";
import { Converter } from "./convert.mjs";
import { PolicyCallError, PolicyError, PolicyLoadError, PolicyOutputError } from "./errors.mjs";
import { jsonEqual } from "./json.mjs";
import { jcoName, parseWit, snakeName } from "./wit.mjs";

export * from "./errors.mjs";
export { CONTRACTS, PRESENTED, accountTable, compareUtf8 } from "./contract.mjs";
export { jsonEqual, parseJson, stringifyJson } from "./json.mjs";
export { camelName, jcoName, parseWit, snakeName } from "./wit.mjs";

/** The newest contract this module speaks (`wit/vesting.wit`). */
export const CONTRACT = LATEST.contract;
/** The interface a policy of that contract exports. */
export const EXPORT = LATEST.export;
/** That contract's WIT in this checkout. */
export const DEFAULT_WIT = LATEST.wit;
/** 1.0 in the contract's fixed point (9 decimals). */
export const ONE = 1_000_000_000n;
/** The functions the contract's `policy` interface exports. */
export const CONTRACT_FUNCTIONS = [
  "info",
  "resolve-params",
  "attribute",
  "ledger-step",
  "holdings",
  "multipliers",
  "apply-weights",
];

// ------------------------------------------------------------------- the contracts' WIT

const WITS = new Map(); // path -> { package, wit, converter, functionTypes }

/** A contract's WIT, parsed, with its converter and the `policy` functions' types. */
function contractWit(path, contract) {
  if (!WITS.has(path)) {
    let text;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      throw new PolicyLoadError(`cannot read the contract's WIT \`${path}\`: ${e.message}`);
    }
    const wit = parseWit(text);
    const policy = wit.interfaces.get("policy");
    if (!policy) throw new PolicyLoadError(`${path}: no interface \`policy\``);
    const missing = CONTRACT_FUNCTIONS.filter((f) => !policy.functions.has(f));
    if (missing.length) throw new PolicyLoadError(`${path}: the contract lacks ${missing.join(", ")}`);
    WITS.set(path, { package: wit.package, wit, converter: new Converter(wit.resolve), functionTypes: policy.functions });
  }
  const parsed = WITS.get(path);
  if (parsed.package !== contract) {
    throw new PolicyLoadError(`${path}: the WIT is package \`${parsed.package}\`, not \`${contract}\``);
  }
  return parsed;
}

// ------------------------------------------------------------------- transpiling

const TRANSPILED = new Map(); // sha256 -> Promise<{ instantiate, modules, imports, exports }>

async function transpiled(wasm, sha256, source) {
  if (!TRANSPILED.has(sha256)) {
    TRANSPILED.set(
      sha256,
      (async () => {
        let out;
        try {
          out = await transpile(wasm, {
            name: "policy",
            instantiation: "async",
            noTypescript: true,
            quiet: true,
          });
        } catch (e) {
          throw new PolicyLoadError(`${source}: not a valid wasm component: ${e?.message ?? e}`);
        }
        const modules = new Map();
        for (const [name, bytes] of Object.entries(out.files)) {
          if (name.endsWith(".wasm")) modules.set(name, await WebAssembly.compile(bytes));
        }
        const js = Buffer.from(out.files["policy.js"]).toString("base64");
        const { instantiate } = await import(`data:text/javascript;base64,${js}`);
        return {
          instantiate,
          modules,
          imports: out.imports ?? [],
          // jco also lists the world's export under the bare name `policy`.
          exports: (out.exports ?? []).map(([name]) => name).filter((n) => n.includes(":")),
        };
      })(),
    );
    TRANSPILED.get(sha256).catch(() => TRANSPILED.delete(sha256));
  }
  return TRANSPILED.get(sha256);
}

// ------------------------------------------------------------------------ the policy

/** A loaded policy component. Use `Policy.load`; then call one method per contract
 * function. Every call instantiates the component afresh: no state survives. */
export class Policy {
  constructor(wasm, { source = "<bytes>" } = {}) {
    this.wasm = wasm;
    this.source = source;
    this.sha256 = createHash("sha256").update(wasm).digest("hex");
    this.calls = 0;
    this.label = `${source} (${this.sha256.slice(0, 12)})`;
    /** The contract the component implements (`"bittensor:vesting@0.2.0"`); set by `load`. */
    this.contract = null;
  }

  /** Transpiles the component at `path` (or the bytes) with jco, tells by its exports
   * which contract it implements (`CONTRACTS`), checks it and reads its `info`.
   * `wits`: another copy of a contract's WIT, by contract name
   * (`{"bittensor:vesting@0.2.0": "vesting.wit"}`); `wit`: the WIT of the component's own
   * contract (its package must be that contract). */
  static async load(path, { wit, wits = {} } = {}) {
    let wasm;
    let source;
    if (path instanceof Uint8Array) {
      wasm = path;
      source = "<bytes>";
    } else {
      source = String(path);
      try {
        wasm = readFileSync(path);
      } catch (e) {
        throw new PolicyLoadError(`cannot read policy file \`${source}\`: ${e.message}`);
      }
    }
    const policy = new Policy(wasm, { source });
    return Policy.fromRuntime(policy, await transpiled(wasm, policy.sha256, source), { wit, wits });
  }

  /** `load` past transpiling: `policy` (a `new Policy(wasm, { source })`) runs `runtime`,
   * what jco's transpiled output gives (`instantiate(getCoreModule, imports)`, the core
   * `modules` by name, the component's `imports` and `exports` names). A test can so put
   * any JS object that behaves like jco's bindings behind a policy. */
  static async fromRuntime(policy, runtime, { wit, wits = {} } = {}) {
    const { source } = policy;
    policy.runtime = runtime;
    const { exports, imports } = runtime;
    const spoken = CONTRACTS.map((c) => c.export).join(" and ");
    const contract = contractOfExports(exports);
    if (!contract) {
      throw new PolicyLoadError(
        `${source}: the component exports ${exports.join(", ") || "nothing"}; this host speaks ${spoken}`,
      );
    }
    const foreign = imports.filter((name) => name !== contract.types);
    if (foreign.length) {
      throw new PolicyLoadError(
        `${source}: the component imports ${foreign.join(", ")}; a ${contract.contract} policy may import ` +
          `nothing but ${contract.types}`,
      );
    }
    const witOf = (c) => wits[c.contract] ?? (c === contract && wit ? wit : c.wit);
    policy.contract = contract.contract;
    policy.export = contract.export;
    policy.native = contractWit(witOf(contract), contract.contract);
    if (contract === PRESENTED) {
      policy.presented = policy.native;
      policy.adapter = null;
    } else {
      policy.presented = contractWit(witOf(PRESENTED), PRESENTED.contract);
      policy.adapter = new Adapter(policy.native.wit);
    }
    const instance = await policy.instance();
    const missing = [...policy.native.functionTypes.keys()].filter((f) => typeof instance?.[jcoName(f)] !== "function");
    if (missing.length) {
      throw new PolicyLoadError(`${source}: the component does not implement ${contract.export}: missing ${missing.join(", ")}`);
    }
    policy.infoValue = await policy.callRaw("info");
    if (policy.infoValue.contract !== policy.contract) {
      throw new PolicyLoadError(
        `${source}: it exports ${contract.export} but its info declares contract \`${policy.infoValue.contract}\``,
      );
    }
    policy.label = `${policy.infoValue.name}@${policy.infoValue.version} (${policy.sha256.slice(0, 12)})`;
    return policy;
  }

  /** True when the typed methods and `call` adapt values to the policy's contract (a
   * contract other than 0.1.0). */
  get adapted() {
    return this.adapter !== null;
  }

  /** A fresh instance: the `policy` interface's functions, with jco's own value shapes
   * (camelCase fields, kebab-case enums, `{tag, val}` variants, BigInt u64) of the
   * policy's own contract. */
  async instance() {
    const { instantiate, modules, imports } = this.runtime;
    // A types-only import needs no functions.
    const root = await instantiate((name) => modules.get(name), Object.fromEntries(imports.map((n) => [n, {}])));
    return root[this.export] ?? root.policy;
  }

  /** The functions the contract exports (kebab-case names). */
  get functions() {
    return [...this.native.functionTypes.keys()];
  }

  /** The (snake_case) parameter names of an exported function. */
  parameters(fn) {
    return this.functionType(fn).params.map((p) => snakeName(p.name));
  }

  functionType(fn) {
    const f = this.native.functionTypes.get(fn);
    if (!f) throw new TypeError(`the policy exports no function \`${fn}\` (it has ${this.functions.join(", ")})`);
    return f;
  }

  /** Calls an exported function (kebab-case name) with JSON-shaped arguments in order, in
   * the 0.1 shape (account strings, `list<holder-ledger>`) whatever the policy's contract;
   * returns its JSON-shaped result in that shape: for a function that returns a `result`,
   * `{Ok: ...}` or `{Err: {code, message}}`. Throws `PolicyInputError` for arguments that
   * do not fit, `PolicyCallError` when the call traps and `PolicyOutputError` (a
   * `PolicyCallError`) when it returns output that breaks the contract (an account index
   * past the input's table, ledgers that do not add up, weights that break the
   * invariants). */
  async call(fn, ...args) {
    if (!this.adapter) return this.callRaw(fn, ...args);
    const f = this.functionType(fn);
    const shown = this.presented.functionTypes.get(fn);
    if (args.length !== shown.params.length) {
      throw new TypeError(`\`${fn}\` takes ${shown.params.length} argument(s), got ${args.length}`);
    }
    // Checked in the 0.1 shape first, so that an error names the caller's own path.
    shown.params.forEach((p, i) => this.presented.converter.toJco(p.type, args[i], snakeName(p.name)));
    const { args: native, accounts } = this.adapter.input(f.params, args);
    const out = await this.callRaw(fn, ...native);
    if (f.result === null) return null;
    try {
      return this.adapter.output(f.result, out, accounts);
    } catch (e) {
      if (e instanceof PolicyOutputError) throw new PolicyOutputError(this.label, fn, e.path, e.problem);
      throw e;
    }
  }

  /** `call` in the shape of the policy's own contract (`policy.contract`), unadapted: for
   * a 0.2 policy, inputs carry their `accounts` table, accounts are indices, ledgers are
   * the flat `ledgers` record. */
  async callRaw(fn, ...args) {
    const f = this.functionType(fn);
    if (args.length !== f.params.length) {
      throw new TypeError(`\`${fn}\` takes ${f.params.length} argument(s), got ${args.length}`);
    }
    const { converter } = this.native;
    const lowered = f.params.map((p, i) => converter.toJco(p.type, args[i], snakeName(p.name)));
    const result = f.result === null ? null : converter.resolve(f.result);
    let raw;
    let failed = null;
    try {
      const exports = await this.instance();
      raw = { tag: "ok", val: await exports[jcoName(fn)](...lowered) };
    } catch (e) {
      if (e?.constructor?.name === "ComponentError" && "payload" in e && result?.kind === "result") {
        raw = { tag: "err", val: e.payload };
      } else {
        failed = e;
      }
    } finally {
      this.calls++;
    }
    if (failed) {
      const what = failed instanceof WebAssembly.RuntimeError ? "trapped" : "failed";
      throw new PolicyCallError(this.label, fn, `${what}: ${failed?.message ?? failed}`);
    }
    if (result === null) return null;
    let out;
    try {
      out = result.kind === "result" ? converter.fromJco(result, raw, "result") : converter.fromJco(result, raw.val, "result");
    } catch (e) {
      if (e instanceof PolicyCallError) throw new PolicyCallError(this.label, fn, e.failure);
      throw e;
    }
    if (fn === "apply-weights" && out.Ok !== undefined) {
      const why = checkWeightsOutput(args[1], out.Ok);
      if (why) throw new PolicyOutputError(this.label, fn, "result.Ok", why);
    }
    return out;
  }

  unwrap(fn, out) {
    if (out.Err !== undefined) throw new PolicyError(out.Err.code, out.Err.message, this.label, fn);
    return out.Ok;
  }

  // One method per contract function, in the 0.1 shape for both contracts (see `call`).
  // `params`: a list of {name, value: {Amount|Fixed|Count|Flag|Choice: v}}; null or
  // undefined means all defaults.

  /** Name, version, contract and the parameter schema with defaults. */
  async info() {
    return this.call("info");
  }

  /** The parameters the policy would use: defaults filled in, every value checked. */
  async resolveParams(params) {
    return this.unwrap("resolve-params", await this.call("resolve-params", params ?? []));
  }

  /** Split each position's change across an epoch into earned, manual and residue. */
  async attribute(params, input) {
    return this.unwrap("attribute", await this.call("attribute", params ?? [], input));
  }

  /** Advance holders' ledgers: new earnings, manual inflows, outflows, vesting payments. */
  async ledgerStep(params, input) {
    return this.unwrap("ledger-step", await this.call("ledger-step", params ?? [], input));
  }

  /** Holding metrics per holder. */
  async holdings(params, input) {
    return this.unwrap("holdings", await this.call("holdings", params ?? [], input));
  }

  /** One multiplier per miner. */
  async multipliers(params, input) {
    return this.unwrap("multipliers", await this.call("multipliers", params ?? [], input));
  }

  /** The validator's weights times the multipliers, normalised, and the u16 chain vector
   * (fixed-point weights as BigInt). The output is checked against the contract's
   * invariants, as the Rust host does. */
  async applyWeights(params, input) {
    return this.unwrap("apply-weights", await this.call("apply-weights", params ?? [], input));
  }

  /** The validator's weights adjusted by the vesting multipliers, ready for
   * `set_weights`: `{ weights, chainUids, chainWeights, output }`.
   *
   * - `weights`, `uids`, `hotkeys`: one entry per uid (Numbers; uids may be BigInt);
   * - `multipliers`: what `multipliers` returned, or the service's `GET /multipliers` rows;
   * - returns the adjusted weights as Numbers (`fixed / 1e9`, in input order; their
   *   fixed-point values sum to exactly 1.0, or all are 0), the chain vector as Numbers
   *   (the uids with a non-zero weight and their u16 weights, the largest 65535), and the
   *   policy's full output (`output`, BigInt integers). */
  async applyVestingMultipliers(weights, uids, hotkeys, multipliers, params) {
    const output = await this.applyWeights(params, {
      uids: Array.from(uids),
      weights: Array.from(weights),
      hotkeys: Array.from(hotkeys),
      multipliers: Array.from(multipliers),
    });
    return {
      weights: output.weights.map((w) => Number(w) / Number(ONE)),
      chainUids: output.chain_uids.map(Number),
      chainWeights: output.chain_weights.map(Number),
      output,
    };
  }
}

/** The contract's invariants on `apply-weights` output (as the Rust host's
 * `invariants::weights`): null when they hold, else what breaks. */
export function checkWeightsOutput(input, out) {
  const uids = (input?.uids ?? []).map((u) => BigInt(u));
  if (!jsonEqual(out.uids, uids)) return "uids differ from the input's";
  if (out.weights.length !== uids.length || out.multipliers.length !== uids.length) {
    return `${out.weights.length} weights and ${out.multipliers.length} multipliers for ${uids.length} uids`;
  }
  const total = out.weights.reduce((a, b) => a + b, 0n);
  if (total !== ONE && total !== 0n) return `weights sum to ${total}, not ${ONE} (1.0)`;
  if (out.chain_uids.length !== out.chain_weights.length) return "chain-uids and chain-weights differ in length";
  const known = new Set(uids);
  for (const u of out.chain_uids) {
    if (!known.has(u)) return `chain vector names uid ${u}, which is not in the input`;
  }
  return null;
}
