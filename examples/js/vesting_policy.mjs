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

// ---------------------------------------------------------------------------- errors

/** The policy refused the call with its typed error (`policy-error`). `code` is the
 * CamelCase error code (`"DuplicateUid"`), `message` the policy's explanation. */
export class PolicyError extends Error {
  constructor(code, message, policy = "", fn = "") {
    super(`policy \`${policy}\` refused \`${fn}\` (${code}): ${message}`);
    this.name = "PolicyError";
    this.code = code;
    this.policyMessage = message;
    this.policy = policy;
    this.function = fn;
  }
}

/** A call failed outright: a trap, or output that breaks the contract. */
export class PolicyCallError extends Error {
  constructor(policy, fn, failure) {
    super(`policy \`${policy}\` failed in \`${fn}\`: ${failure}`);
    this.name = "PolicyCallError";
    this.policy = policy;
    this.function = fn;
    this.failure = failure;
  }
}

/** The file is not a usable policy component (or the WIT cannot be read). */
export class PolicyLoadError extends Error {
  constructor(message) {
    super(message);
    this.name = "PolicyLoadError";
  }
}

/** A value handed to the policy does not fit the contract's type; `path` names it
 * (`input.flows[2].kind`). */
export class PolicyInputError extends Error {
  constructor(path, problem) {
    super(`${path}: ${problem}`);
    this.name = "PolicyInputError";
    this.path = path;
    this.problem = problem;
  }
}

// ------------------------------------------------------------ JSON with exact integers

/** Parses JSON text: integers (no `.`, no exponent) become BigInt, other numbers Number.
 * So `1` and `1.0` stay different, and a u64 above 2^53 keeps every bit. */
export function parseJson(text) {
  let i = 0;
  const fail = (what) => {
    throw new SyntaxError(`${what} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const o = {};
      ws();
      if (text[i] === "}") {
        i++;
        return o;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a string key");
        const k = string();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        Object.defineProperty(o, k, { value: value(), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return o;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const a = [];
      ws();
      if (text[i] === "]") {
        i++;
        return a;
      }
      for (;;) {
        a.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return a;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === "") fail(`unexpected ${c === undefined ? "end of input" : JSON.stringify(c)}`);
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) return BigInt(m[0]);
    const n = Number(m[0]);
    if (!Number.isFinite(n)) fail(`number out of range ${m[0]}`);
    return n;
  };
  const string = () => {
    const start = i;
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail("unterminated string");
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === '"') break;
      if (c < " ") fail("control character in string");
      i++;
    }
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const v = value();
  ws();
  if (i !== text.length) fail("trailing characters");
  return v;
}

function pyFloat(x) {
  // How Python's json (and serde_json) write an f64: `1.0`, `1e+16`, `1.5e-07`.
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e16 || a < 1e-4)) {
    return x.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

/** Writes JSON: BigInt as integers, Numbers as floats (`1.0`), keys sorted when
 * `sortKeys` (the default), compact. `undefined` in an object is left out. */
export function stringifyJson(v, { sortKeys = true } = {}) {
  const go = (x) => {
    if (x === null || x === undefined) return "null";
    switch (typeof x) {
      case "bigint":
        return x.toString();
      case "number":
        return pyFloat(x);
      case "boolean":
        return x ? "true" : "false";
      case "string":
        return JSON.stringify(x);
      default:
        break;
    }
    if (Array.isArray(x) || ArrayBuffer.isView(x)) return `[${Array.from(x, go).join(",")}]`;
    const keys = Object.keys(x).filter((k) => x[k] !== undefined);
    if (sortKeys) keys.sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${go(x[k])}`).join(",")}}`;
  };
  return go(v);
}

/** serde_json's `Value` equality on the shapes `parseJson` gives: an integer (BigInt)
 * never equals a float (Number), objects compare regardless of key order. */
export function jsonEqual(a, b) {
  if (typeof a !== typeof b) return false;
  if (a === null || b === null) return a === b;
  if (typeof a !== "object") return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

// ------------------------------------------------------------------ a WIT reader
//
// Enough of WIT for a contract: interfaces with `use`, `type` aliases, records, enums,
// variants, flags, functions; lists, options, results, tuples and the primitive types.
// Worlds and resources are skipped.

function tokenize(src) {
  const tokens = [];
  const re = /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|(->|[{}()<>,:;=.@/*_])|(%?[A-Za-z][A-Za-z0-9-]*)|(\d+(?:\.\d+)*(?:-[A-Za-z0-9.-]+)?)/y;
  let m;
  let at = 0;
  while (at < src.length) {
    re.lastIndex = at;
    m = re.exec(src);
    if (!m) throw new PolicyLoadError(`WIT: unexpected ${JSON.stringify(src[at])} at offset ${at}`);
    at = re.lastIndex;
    const t = m[1] ?? m[2] ?? m[3];
    if (t !== undefined) tokens.push(t);
  }
  return tokens;
}

const PRIMITIVES = new Set([
  "bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64", "float32",
  "float64", "char", "string",
]);

/** Parses WIT text into `{ interfaces: Map<name, { types: Map, functions: Map }> }`. */
export function parseWit(src) {
  const t = tokenize(src);
  let p = 0;
  const peek = () => t[p];
  const next = () => {
    if (p >= t.length) throw new PolicyLoadError("WIT: unexpected end");
    return t[p++];
  };
  const expect = (x) => {
    const got = next();
    if (got !== x) throw new PolicyLoadError(`WIT: expected \`${x}\`, got \`${got}\``);
  };
  const ident = () => next().replace(/^%/, "");
  const skipBalanced = () => {
    // From an opening `{` to its `}`.
    expect("{");
    let depth = 1;
    while (depth > 0) {
      const x = next();
      if (x === "{") depth++;
      if (x === "}") depth--;
    }
  };
  const skipGate = () => {
    // `@since(version = 0.2.0)`, `@unstable(feature = x)`, `@deprecated(...)`
    while (peek() === "@") {
      next();
      next();
      if (peek() === "(") {
        while (next() !== ")");
      }
    }
  };
  const type = (scope) => {
    const name = ident();
    if (PRIMITIVES.has(name)) {
      return { kind: name === "float32" ? "f32" : name === "float64" ? "f64" : name };
    }
    if (name === "list") {
      expect("<");
      const element = type(scope);
      if (peek() === ",") throw new PolicyLoadError("WIT: fixed-size lists are not supported");
      expect(">");
      return { kind: "list", element };
    }
    if (name === "option") {
      expect("<");
      const payload = type(scope);
      expect(">");
      return { kind: "option", payload };
    }
    if (name === "result") {
      if (peek() !== "<") return { kind: "result", ok: null, err: null };
      next();
      let ok = null;
      if (peek() === "_") next();
      else ok = type(scope);
      let err = null;
      if (peek() === ",") {
        next();
        err = type(scope);
      }
      expect(">");
      return { kind: "result", ok, err };
    }
    if (name === "tuple") {
      expect("<");
      const elements = [];
      while (peek() !== ">") {
        elements.push(type(scope));
        if (peek() === ",") next();
      }
      expect(">");
      return { kind: "tuple", elements };
    }
    if (["borrow", "own", "future", "stream"].includes(name)) {
      throw new PolicyLoadError(`WIT: \`${name}\` types are not supported`);
    }
    return { kind: "ref", name, scope };
  };
  const list = (item) => {
    // `{ a, b, }` of items
    expect("{");
    const out = [];
    while (peek() !== "}") {
      skipGate();
      out.push(item());
      if (peek() === ",") next();
    }
    expect("}");
    return out;
  };

  const interfaces = new Map();
  const iface = (name) => {
    const scope = { name, types: new Map(), uses: new Map(), functions: new Map() };
    expect("{");
    while (peek() !== "}") {
      skipGate();
      const kw = next();
      if (kw === "use") {
        const from = ident();
        if (peek() !== ".") throw new PolicyLoadError("WIT: only `use iface.{...}` of the same package is supported");
        next();
        for (const [n, alias] of list(() => {
          const n = ident();
          if (peek() === "as") {
            next();
            return [n, ident()];
          }
          return [n, n];
        })) {
          scope.uses.set(alias, { from, name: n });
        }
        expect(";");
      } else if (kw === "type") {
        const n = ident();
        expect("=");
        scope.types.set(n, type(scope));
        expect(";");
      } else if (kw === "record") {
        const n = ident();
        const fields = list(() => {
          const f = ident();
          expect(":");
          return { name: f, type: type(scope) };
        });
        scope.types.set(n, { kind: "record", fields });
      } else if (kw === "enum") {
        const n = ident();
        scope.types.set(n, { kind: "enum", names: list(ident) });
      } else if (kw === "flags") {
        const n = ident();
        scope.types.set(n, { kind: "flags", names: list(ident) });
      } else if (kw === "variant") {
        const n = ident();
        const cases = list(() => {
          const c = ident();
          if (peek() === "(") {
            next();
            const ty = type(scope);
            expect(")");
            return { name: c, type: ty };
          }
          return { name: c, type: null };
        });
        scope.types.set(n, { kind: "variant", cases });
      } else if (kw === "resource") {
        const n = ident();
        scope.types.set(n, { kind: "resource" });
        if (peek() === "{") skipBalanced();
        else expect(";");
      } else {
        // `name: func(params) -> result;`
        const n = kw.replace(/^%/, "");
        expect(":");
        if (peek() === "async") next();
        expect("func");
        expect("(");
        const params = [];
        while (peek() !== ")") {
          const pn = ident();
          expect(":");
          params.push({ name: pn, type: type(scope) });
          if (peek() === ",") next();
        }
        expect(")");
        let result = null;
        if (peek() === "->") {
          next();
          result = type(scope);
        }
        expect(";");
        scope.functions.set(n, { name: n, params, result });
      }
    }
    expect("}");
    interfaces.set(name, scope);
  };
  while (p < t.length) {
    skipGate();
    const kw = next();
    if (kw === "package") {
      while (next() !== ";");
    } else if (kw === "interface") {
      iface(ident());
    } else if (kw === "world") {
      ident();
      skipBalanced();
    } else if (kw === "use") {
      while (next() !== ";");
    } else {
      throw new PolicyLoadError(`WIT: unexpected \`${kw}\` at the top level`);
    }
  }
  const resolve = (ty, seen = 0) => {
    if (ty.kind !== "ref") return ty;
    if (seen > 64) throw new PolicyLoadError(`WIT: type \`${ty.name}\` refers to itself`);
    const { scope, name } = ty;
    if (scope.types.has(name)) return resolve(scope.types.get(name), seen + 1);
    const used = scope.uses.get(name);
    if (used) {
      const other = interfaces.get(used.from);
      if (!other || !other.types.has(used.name)) {
        throw new PolicyLoadError(`WIT: \`use ${used.from}.{${used.name}}\`: no such type`);
      }
      return resolve(other.types.get(used.name), seen + 1);
    }
    throw new PolicyLoadError(`WIT: unknown type \`${name}\` in interface \`${scope.name}\``);
  };
  return { interfaces, resolve };
}

// ---------------------------------------------------------- naming (as serde, as jco)

const RUST_KEYWORDS = new Set(
  ("as break const continue crate else enum extern false fn for if impl in let loop " +
    "match mod move mut pub ref return self Self static struct super trait true type " +
    "unsafe use where while async await dyn abstract become box do final macro override " +
    "priv typeof unsized virtual yield try gen").split(" "),
);

const words = (wit) => wit.replace(/^%/, "").split("-").filter(Boolean);

/** A WIT field name as the Rust binding's serde writes it: `default-value` -> `default_value`. */
export function snakeName(wit) {
  const n = words(wit).map((w) => w.toLowerCase()).join("_");
  return RUST_KEYWORDS.has(n) ? `${n}_` : n;
}

/** A WIT enum or variant case as serde writes it: `moved-in` -> `MovedIn`. */
export function camelName(wit) {
  return words(wit).map((w) => w.slice(0, 1).toUpperCase() + w.slice(1).toLowerCase()).join("");
}

/** A WIT name as jco names a field or function: `default-value` -> `defaultValue`. */
export function jcoName(wit) {
  return words(wit)
    .map((w, i) => (i === 0 ? w.toLowerCase() : w.slice(0, 1).toUpperCase() + w.slice(1).toLowerCase()))
    .join("");
}

// --------------------------------------------------- JSON shape <-> jco values

function describe(v) {
  let text;
  try {
    text = typeof v === "string" ? JSON.stringify(v) : stringifyJson(v, { sortKeys: false });
  } catch {
    text = String(v);
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  const kind = v === null ? "null" : Array.isArray(v) ? "list" : typeof v === "number" ? "float" : typeof v === "bigint" ? "integer" : typeof v;
  return `${kind} ${text}`;
}

const INTS = {
  u8: [0n, 255n],
  u16: [0n, 65535n],
  u32: [0n, 4294967295n],
  u64: [0n, 18446744073709551615n],
  s8: [-128n, 127n],
  s16: [-32768n, 32767n],
  s32: [-2147483648n, 2147483647n],
  s64: [-9223372036854775808n, 9223372036854775807n],
};

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v);

/** Converts and checks conversions between the JSON shape and jco's values, type by type. */
class Converter {
  constructor(resolve) {
    this.resolve = resolve;
  }

  toJco(ty0, v, path) {
    const ty = this.resolve(ty0);
    const k = ty.kind;
    if (k === "bool") {
      if (typeof v !== "boolean") throw new PolicyInputError(path, `expected a bool, got ${describe(v)}`);
      return v;
    }
    if (k in INTS) {
      let n = v;
      if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
      if (typeof n !== "bigint") {
        throw new PolicyInputError(path, `expected an integer (${k}), got ${describe(v)}`);
      }
      const [lo, hi] = INTS[k];
      if (n < lo || n > hi) throw new PolicyInputError(path, `${n} is out of range for ${k} [${lo}, ${hi}]`);
      return k === "u64" || k === "s64" ? n : Number(n);
    }
    if (k === "f32" || k === "f64") {
      // Like serde_json, an integer is accepted for a float.
      if (typeof v === "bigint") return Number(v);
      if (typeof v !== "number") throw new PolicyInputError(path, `expected a number (${k}), got ${describe(v)}`);
      return v;
    }
    if (k === "char") {
      if (typeof v !== "string" || [...v].length !== 1) {
        throw new PolicyInputError(path, `expected a one-character string, got ${describe(v)}`);
      }
      return v;
    }
    if (k === "string") {
      if (typeof v !== "string") throw new PolicyInputError(path, `expected a string, got ${describe(v)}`);
      return v;
    }
    if (k === "list") {
      const el = this.resolve(ty.element);
      if (el.kind === "u8" && ArrayBuffer.isView(v)) return Uint8Array.from(v);
      if (!Array.isArray(v)) throw new PolicyInputError(path, `expected a list, got ${describe(v)}`);
      const items = v.map((e, i) => this.toJco(el, e, `${path}[${i}]`));
      return el.kind === "u8" ? Uint8Array.from(items) : items;
    }
    if (k === "record") {
      if (!isPlainObject(v)) throw new PolicyInputError(path, `expected a record (object), got ${describe(v)}`);
      const keys = new Set(ty.fields.map((f) => snakeName(f.name)));
      const unknown = Object.keys(v).filter((x) => !keys.has(x)).sort();
      if (unknown.length) {
        throw new PolicyInputError(path, `unknown field(s) ${unknown.join(", ")}; the fields are ${[...keys].join(", ")}`);
      }
      const out = {};
      for (const f of ty.fields) {
        const key = snakeName(f.name);
        let value;
        if (Object.hasOwn(v, key) && v[key] !== undefined) value = v[key];
        else if (this.resolve(f.type).kind === "option") value = null; // as serde: a missing option is none
        else throw new PolicyInputError(`${path}.${key}`, "missing field");
        out[jcoName(f.name)] = this.toJco(f.type, value, `${path}.${key}`);
      }
      return out;
    }
    if (k === "tuple") {
      if (!Array.isArray(v) || v.length !== ty.elements.length) {
        throw new PolicyInputError(path, `expected a list of ${ty.elements.length} items, got ${describe(v)}`);
      }
      return ty.elements.map((e, i) => this.toJco(e, v[i], `${path}[${i}]`));
    }
    if (k === "enum") {
      const name = typeof v === "string" ? ty.names.find((n) => camelName(n) === v) : undefined;
      if (name === undefined) {
        throw new PolicyInputError(path, `expected one of ${ty.names.map(camelName).join(", ")}, got ${describe(v)}`);
      }
      return name;
    }
    if (k === "variant") {
      // serde's externally tagged form: "Case" for a case without payload, {"Case": x}.
      const byJson = new Map(ty.cases.map((c) => [camelName(c.name), c]));
      if (typeof v === "string" && byJson.has(v)) {
        const c = byJson.get(v);
        if (c.type !== null) throw new PolicyInputError(path, `case ${v} needs a payload: {"${v}": ...}`);
        return { tag: c.name };
      }
      if (isPlainObject(v) && Object.keys(v).length === 1) {
        const [key] = Object.keys(v);
        const c = byJson.get(key);
        if (c !== undefined) {
          if (c.type === null) {
            if (v[key] !== null) throw new PolicyInputError(path, `case ${key} takes no payload`);
            return { tag: c.name };
          }
          return { tag: c.name, val: this.toJco(c.type, v[key], `${path}.${key}`) };
        }
      }
      throw new PolicyInputError(path, `expected one of ${[...byJson.keys()].join(", ")} as {"Case": value}, got ${describe(v)}`);
    }
    if (k === "option") {
      this.flatOption(ty, path);
      return v === null || v === undefined ? undefined : this.toJco(ty.payload, v, path);
    }
    if (k === "result") {
      if (isPlainObject(v) && Object.keys(v).length === 1) {
        const [key] = Object.keys(v);
        if (key === "Ok" || key === "Err") {
          const t = key === "Ok" ? ty.ok : ty.err;
          return { tag: key.toLowerCase(), val: t === null ? undefined : this.toJco(t, v[key], `${path}.${key}`) };
        }
      }
      throw new PolicyInputError(path, `expected {"Ok": ...} or {"Err": ...}, got ${describe(v)}`);
    }
    throw new PolicyInputError(path, `the contract uses a type this module does not convert: ${k}`);
  }

  flatOption(ty, path) {
    if (this.resolve(ty.payload).kind === "option") {
      throw new PolicyInputError(path, "nested options are not supported");
    }
  }

  fromJco(ty0, v, path) {
    const ty = this.resolve(ty0);
    const k = ty.kind;
    const bad = () => new PolicyCallError("", "", `${path}: jco returned ${describe(v)} for a ${k}`);
    if (k === "bool") {
      if (typeof v !== "boolean") throw bad();
      return v;
    }
    if (k in INTS) {
      if (typeof v === "bigint") return v;
      if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
      throw bad();
    }
    if (k === "f32" || k === "f64") {
      if (typeof v !== "number") throw bad();
      return v;
    }
    if (k === "char" || k === "string") {
      if (typeof v !== "string") throw bad();
      return v;
    }
    if (k === "list") {
      if (!Array.isArray(v) && !ArrayBuffer.isView(v)) throw bad();
      return Array.from(v, (e, i) => this.fromJco(ty.element, e, `${path}[${i}]`));
    }
    if (k === "record") {
      if (!isPlainObject(v)) throw bad();
      const out = {};
      for (const f of ty.fields) {
        const key = snakeName(f.name);
        out[key] = this.fromJco(f.type, v[jcoName(f.name)], `${path}.${key}`);
      }
      return out;
    }
    if (k === "tuple") {
      if (!Array.isArray(v)) throw bad();
      return ty.elements.map((e, i) => this.fromJco(e, v[i], `${path}[${i}]`));
    }
    if (k === "enum") {
      if (!ty.names.includes(v)) throw bad();
      return camelName(v);
    }
    if (k === "variant") {
      const c = isPlainObject(v) ? ty.cases.find((x) => x.name === v.tag) : undefined;
      if (c === undefined) throw bad();
      const key = camelName(c.name);
      return c.type === null ? key : { [key]: this.fromJco(c.type, v.val, `${path}.${key}`) };
    }
    if (k === "option") {
      this.flatOption(ty, path);
      return v === undefined || v === null ? null : this.fromJco(ty.payload, v, path);
    }
    if (k === "result") {
      if (!isPlainObject(v) || (v.tag !== "ok" && v.tag !== "err")) throw bad();
      const key = v.tag === "ok" ? "Ok" : "Err";
      const t = v.tag === "ok" ? ty.ok : ty.err;
      return { [key]: t === null ? null : this.fromJco(t, v.val, `${path}.${key}`) };
    }
    throw bad();
  }
}

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
