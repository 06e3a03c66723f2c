#!/usr/bin/env node
// Run conformance vectors against a policy component from Node (jco).
//
//     node run_vectors.mjs <policy.wasm> <vectors dir or file> [<vectors dir or file> ...]
//
// Each `*.json` file of each directory (sorted by path), and each file named, is one
// vector: a contract function, its `params` and `input`, and either the exact output it
// must produce (`expect`, as serde writes a Rust `Result`: `{"Ok": ...}` / `{"Err": ...}`)
// or only an error code (`expect_error`). The output is judged exactly like the Rust
// runner (`host/src/policy/vectors.rs`) and `examples/python/run_vectors.py`: exact JSON
// equality, where an integer never equals a float or a bool (JSON is read with integers as
// BigInt, so a u64 keeps every bit).
//
// Prints one line per vector and a last line `N passed, M failed`; exits 0 only when every
// vector passed (1 when one failed, 2 on a usage or load error).

import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { Policy, PolicyCallError, PolicyInputError, PolicyLoadError, jsonEqual, parseJson, stringifyJson } from "./vesting_policy.mjs";

/** The keys a vector may have (the Rust `Vector` denies unknown fields). */
const VECTOR_KEYS = new Set(["name", "description", "function", "params", "input", "expect", "expect_error"]);

const dumps = (v) => stringifyJson(v);
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** The path and values of the first place two JSON values differ (as the Rust runner). */
export function firstDifference(want, got, at = "$") {
  if (isObject(want) && isObject(got)) {
    for (const [k, va] of Object.entries(want)) {
      if (!Object.hasOwn(got, k)) return `${at}.${k}: expected ${dumps(va)}, missing`;
      if (!jsonEqual(va, got[k])) return firstDifference(va, got[k], `${at}.${k}`);
    }
    for (const k of Object.keys(got)) {
      if (!Object.hasOwn(want, k)) return `${at}.${k}: unexpected`;
    }
    return `${at}: differs`;
  }
  if (Array.isArray(want) && Array.isArray(got)) {
    if (want.length !== got.length) return `${at}: expected ${want.length} items, got ${got.length}`;
    for (let i = 0; i < want.length; i++) {
      if (!jsonEqual(want[i], got[i])) return firstDifference(want[i], got[i], `${at}[${i}]`);
    }
    return `${at}: differs`;
  }
  return `${at}: expected ${dumps(want)}, got ${dumps(got)}`;
}

/** One vector file: [path, parsed vector or the Error saying why it is not one]. */
function loadFile(path) {
  try {
    const v = parseJson(readFileSync(path, "utf8"));
    if (!isObject(v)) throw new Error("not a JSON object");
    const unknown = Object.keys(v).filter((k) => !VECTOR_KEYS.has(k)).sort();
    if (unknown.length) throw new Error(`unknown field(s) ${unknown.join(", ")}`);
    for (const key of ["name", "function"]) {
      if (typeof v[key] !== "string") throw new Error(`missing or non-string \`${key}\``);
    }
    return [path, v];
  } catch (e) {
    return [path, new Error(`not a conformance vector: ${e.message}`)];
  }
}

class UsageError extends Error {}

/** Every `*.json` under a directory, sorted by path, or the one file named. */
function load(target) {
  let st;
  try {
    st = statSync(target);
  } catch (e) {
    throw new UsageError(`cannot read vectors ${target}: ${e.code ?? e.message}`);
  }
  if (st.isFile()) return [loadFile(target)];
  let names;
  try {
    names = readdirSync(target).filter((n) => n.endsWith(".json")).sort();
  } catch (e) {
    throw new UsageError(`cannot read vectors directory ${target}: ${e.code ?? e.message}`);
  }
  return names
    .map((n) => join(target, n))
    .filter((p) => statSync(p).isFile())
    .map(loadFile);
}

/** The vector's function on `policy`: its JSON-shaped output `{"Ok"|"Err": ...}`.
 * Throws when the call fails outright (trap, input that does not fit). */
async function call(policy, v) {
  const fn = v.function;
  if (!policy.functions.includes(fn)) throw new TypeError(`unknown function \`${fn}\``);
  const available = { params: v.params ?? [], input: v.input ?? null };
  const args = policy.parameters(fn).map((name) => {
    if (!(name in available)) throw new TypeError(`\`${fn}\` takes \`${name}\`, which a vector cannot give`);
    return available[name];
  });
  const out = await policy.call(fn, ...args);
  if (isObject(out) && Object.keys(out).length === 1 && ("Ok" in out || "Err" in out)) return out;
  return { Ok: out }; // a function that cannot fail (info)
}

/** Empty when `got` is what the vector expects, else why not. */
function judge(v, got) {
  if (v.expect_error !== undefined && v.expect_error !== null) {
    const want = v.expect_error;
    const err = isObject(got) ? got.Err : undefined;
    const code = isObject(err) ? err.code : undefined;
    if (code !== undefined && jsonEqual(code, want)) return "";
    return `expected error ${dumps(want)}, got ${dumps(got)}`;
  }
  if (v.expect !== undefined && v.expect !== null) {
    if (jsonEqual(v.expect, got)) return "";
    return firstDifference(v.expect, got);
  }
  return "the vector has neither `expect` nor `expect_error`";
}

async function main(argv) {
  if (argv.length < 2) {
    console.error("usage: run_vectors.mjs <policy.wasm> <vectors dir or file> [<vectors dir or file> ...]");
    return 2;
  }
  let policy;
  try {
    policy = await Policy.load(argv[0]);
  } catch (e) {
    if (e instanceof PolicyLoadError || e instanceof PolicyCallError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  console.log(`policy ${policy.label}`);
  let passed = 0;
  let failed = 0;
  for (const target of argv.slice(1)) {
    let vectors;
    try {
      vectors = load(target);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      console.error(`error: ${e.message}`);
      return 2;
    }
    if (!vectors.length) {
      console.error(`error: no vectors found in ${target}`);
      return 2;
    }
    for (const [path, v] of vectors) {
      let reason;
      let name;
      if (v instanceof Error) {
        reason = v.message;
        name = basename(path);
      } else {
        name = v.name;
        try {
          reason = judge(v, await call(policy, v));
        } catch (e) {
          if (!(e instanceof PolicyCallError || e instanceof PolicyInputError || e instanceof TypeError || e instanceof RangeError)) {
            throw e;
          }
          reason = `${e.name}: ${e.message}`;
        }
      }
      if (reason) {
        failed++;
        console.log(`  FAIL  ${name} (${path}): ${reason}`);
      } else {
        passed++;
        console.log(`  pass  ${name}`);
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
