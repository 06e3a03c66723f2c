// Run a Bittensor vesting policy component (`.wasm`) from Node, with jco.
//
// A policy implements the contract in `wit/vesting.wit` (`bittensor:vesting@0.1.0`). This
// module transpiles the very same `.wasm` the Rust host runs with jco (in memory: the core
// module is compiled by V8, the generated JS is imported from a `data:` URL) and calls it,
// so a JavaScript validator gets bit-identical results.
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
// The conversion is derived from the contract's WIT (parsed here, by default the
// repository's `wit/vesting.wit`), not written per record: a contract that adds a field or
// a case needs no change here. `parseJson` / `stringifyJson` read and write JSON with
// integers as BigInt (and keep `1.0` a float), for exact comparisons.
//
// Every call instantiates the component afresh (no state survives between calls, as in the
// Rust host's fresh store per call). Limits: V8 has no fuel metering, so a policy that
// loops forever blocks the call (the Rust and Python hosts stop it); run untrusted policies
// with a timeout around the process.
//
//     import { Policy } from "./vesting_policy.mjs";
//     const policy = await Policy.load("vesting_policy_default.wasm");
//     policy.info().name; // "default"

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { transpile } from "@bytecodealliance/jco";

import { Converter } from "./convert.mjs";
import { PolicyCallError, PolicyError, PolicyInputError, PolicyLoadError } from "./errors.mjs";
import { jsonEqual } from "./json.mjs";
import { jcoName, parseWit, snakeName } from "./wit.mjs";

export * from "./errors.mjs";
export { jsonEqual, parseJson, stringifyJson } from "./json.mjs";
export { camelName, jcoName, parseWit, snakeName } from "./wit.mjs";

/** The contract this module speaks. */
export const CONTRACT = "bittensor:vesting@0.1.0";
/** The contract's interface a policy must export. */
export const EXPORT = "bittensor:vesting/policy@0.1.0";
/** 1.0 in the contract's fixed point (9 decimals). */
export const ONE = 1_000_000_000n;
/** The contract's WIT in this checkout. */
export const DEFAULT_WIT = fileURLToPath(new URL("../../wit/vesting.wit", import.meta.url));
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

// ------------------------------------------------------------------- transpiling

const TRANSPILED = new Map(); // sha256 -> Promise<{ instantiate, modules }>

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
        const imports = out.imports ?? [];
        if (imports.length) {
          throw new PolicyLoadError(
            `${source}: the component imports ${imports.join(", ")}; a policy may import ` +
              "nothing but the contract's types",
          );
        }
        const exports = (out.exports ?? []).map(([name]) => name);
        if (!exports.includes(EXPORT)) {
          throw new PolicyLoadError(
            `${source}: the component does not implement ${EXPORT} (it exports ${exports.join(", ") || "nothing"})`,
          );
        }
        const modules = new Map();
        for (const [name, bytes] of Object.entries(out.files)) {
          if (name.endsWith(".wasm")) modules.set(name, await WebAssembly.compile(bytes));
        }
        const js = Buffer.from(out.files["policy.js"]).toString("base64");
        const { instantiate } = await import(`data:text/javascript;base64,${js}`);
        return { instantiate, modules };
      })(),
    );
  }
  return TRANSPILED.get(sha256);
}

// ------------------------------------------------------------------------ the policy

/** A loaded policy component. Use `Policy.load`; then call one method per contract
 * function. Every call instantiates the component afresh: no state survives. */
export class Policy {
  constructor(wasm, { source = "<bytes>", wit = DEFAULT_WIT } = {}) {
    this.wasm = wasm;
    this.source = source;
    this.sha256 = createHash("sha256").update(wasm).digest("hex");
    this.calls = 0;
    this.label = `${source} (${this.sha256.slice(0, 12)})`;
    let text;
    try {
      text = readFileSync(wit, "utf8");
    } catch (e) {
      throw new PolicyLoadError(`cannot read the contract's WIT \`${wit}\`: ${e.message}`);
    }
    const { interfaces, resolve } = parseWit(text);
    const policy = interfaces.get("policy");
    if (!policy) throw new PolicyLoadError(`${wit}: no interface \`policy\``);
    this.converter = new Converter(resolve);
    this.functionTypes = policy.functions;
    const missing = CONTRACT_FUNCTIONS.filter((f) => !policy.functions.has(f));
    if (missing.length) throw new PolicyLoadError(`${wit}: the contract lacks ${missing.join(", ")}`);
  }

  /** Transpiles the component at `path` (or the bytes) with jco, checks it against the
   * contract and reads its `info`. `wit`: the contract's WIT file (default: this
   * checkout's `wit/vesting.wit`). */
  static async load(path, { wit = DEFAULT_WIT } = {}) {
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
    const policy = new Policy(wasm, { source, wit });
    policy.runtime = await transpiled(wasm, policy.sha256, source);
    const exports = await policy.instance();
    const missing = [...policy.functionTypes.keys()].filter((f) => typeof exports[jcoName(f)] !== "function");
    if (missing.length) {
      throw new PolicyLoadError(`${source}: the component does not implement ${EXPORT}: missing ${missing.join(", ")}`);
    }
    policy.infoValue = await policy.call("info");
    if (policy.infoValue.contract !== CONTRACT) {
      throw new PolicyLoadError(
        `${source}: it declares contract \`${policy.infoValue.contract}\`, this host speaks \`${CONTRACT}\``,
      );
    }
    policy.label = `${policy.infoValue.name}@${policy.infoValue.version} (${policy.sha256.slice(0, 12)})`;
    return policy;
  }

  /** A fresh instance: the `policy` interface's functions, with jco's own value shapes
   * (camelCase fields, kebab-case enums, `{tag, val}` variants, BigInt u64). */
  async instance() {
    const { instantiate, modules } = this.runtime;
    const root = await instantiate((name) => modules.get(name), {});
    return root[EXPORT] ?? root.policy;
  }

  /** The functions the contract exports (kebab-case names). */
  get functions() {
    return [...this.functionTypes.keys()];
  }

  /** The (snake_case) parameter names of an exported function. */
  parameters(fn) {
    return this.functionType(fn).params.map((p) => snakeName(p.name));
  }

  functionType(fn) {
    const f = this.functionTypes.get(fn);
    if (!f) throw new TypeError(`the policy exports no function \`${fn}\` (it has ${this.functions.join(", ")})`);
    return f;
  }

  /** Calls an exported function (kebab-case name) with JSON-shaped arguments in order;
   * returns its JSON-shaped result: for a function that returns a `result`, `{Ok: ...}`
   * or `{Err: {code, message}}`. Throws `PolicyInputError` for arguments that do not fit
   * and `PolicyCallError` when the call traps or (`apply-weights`) returns output that
   * breaks the contract's invariants. */
  async call(fn, ...args) {
    const f = this.functionType(fn);
    if (args.length !== f.params.length) {
      throw new TypeError(`\`${fn}\` takes ${f.params.length} argument(s), got ${args.length}`);
    }
    const lowered = f.params.map((p, i) => this.converter.toJco(p.type, args[i], snakeName(p.name)));
    const result = f.result === null ? null : this.converter.resolve(f.result);
    let raw;
    let failed = null;
    try {
      const exports = await this.instance();
      raw = { tag: "ok", val: exports[jcoName(fn)](...lowered) };
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
      out = result.kind === "result" ? this.converter.fromJco(result, raw, "result") : this.converter.fromJco(result, raw.val, "result");
    } catch (e) {
      if (e instanceof PolicyCallError) throw new PolicyCallError(this.label, fn, e.failure);
      throw e;
    }
    if (fn === "apply-weights" && out.Ok !== undefined) {
      const why = checkWeightsOutput(args[1], out.Ok);
      if (why) throw new PolicyCallError(this.label, fn, `returned invalid output: ${why}`);
    }
    return out;
  }

  unwrap(fn, out) {
    if (out.Err !== undefined) throw new PolicyError(out.Err.code, out.Err.message, this.label, fn);
    return out.Ok;
  }

  // One method per contract function. `params`: a list of {name, value: {Amount|Fixed|
  // Count|Flag|Choice: v}}; null or undefined means all defaults.

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
