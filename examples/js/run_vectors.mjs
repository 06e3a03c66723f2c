#!/usr/bin/env node
// Run conformance vectors against a policy component from Node (jco).
//
//     node run_vectors.mjs <policy.wasm> [<vectors dir or file> ...]
//
// Each `*.json` file of each directory (sorted by path), and each file named, is one
// vector: a contract function, its `params` and `input`, and either the exact output it
// must produce (`expect`, as serde writes a Rust `Result`: `{"Ok": ...}` / `{"Err": ...}`)
// or only an error code (`expect_error`). The output is judged exactly like the Rust
// runner (`host/src/policy/vectors.rs`) and `examples/python/run_vectors.py`: exact JSON
// equality, where an integer never equals a float or a bool (JSON is read with integers as
// BigInt, so a u64 keeps every bit).
//
// The policy may implement either contract this host speaks (`bittensor:vesting@0.1.0` or
// `@0.2.0`). A vector without a `contract` field is contract-neutral, in the 0.1 shape
// (account strings, lists of holder ledgers): it runs against a 0.1 policy as it is and
// against a 0.2 policy through the adapter (`contract.mjs`). A vector with a top-level
// `"contract": "bittensor:vesting@0.2.0"` (`tests/vectors/contract-0.2/`) is raw: it runs
// only against a policy of that contract, unadapted, and is skipped (and said so) for the
// others. Without vector arguments it runs the repository's `tests/vectors/default`,
// `tests/vectors/contract` and, when the directory exists, `tests/vectors/contract-0.2`.
//
// Prints one line per vector (`  pass  `, `  FAIL  `, `  skip  `) and a last line
// `N passed, M failed` (`, K skipped` when some were); exits 0 only when no vector failed
// (1 when one failed, 2 on a usage or load error).

import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  CONTRACTS,
  PRESENTED,
  Policy,
  PolicyCallError,
  PolicyInputError,
  PolicyLoadError,
  jsonEqual,
  parseJson,
  stringifyJson,
} from "./vesting_policy.mjs";

/** The keys a vector may have (the Rust `Vector` denies unknown fields). */
const VECTOR_KEYS = new Set(["name", "description", "contract", "function", "params", "input", "expect", "expect_error"]);

const REPO = fileURLToPath(new URL("../../", import.meta.url));
/** The repository's vectors: contract-neutral ones, then the raw 0.2 ones (if any). */
export const DEFAULT_VECTORS = ["tests/vectors/default", "tests/vectors/contract"];
export const RAW_VECTORS = "tests/vectors/contract-0.2";

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
    if (v.contract !== undefined && !CONTRACTS.some((c) => c.contract === v.contract)) {
      throw new Error(`\`contract\` ${dumps(v.contract)} is none this host speaks (${CONTRACTS.map((c) => c.contract).join(", ")})`);
    }
    return [path, v];
  } catch (e) {
    return [path, new Error(`not a conformance vector: ${e.message}`)];
  }
}

class UsageError extends Error {}

/** Every `*.json` under a directory, sorted by path, or the one file named. */
export function load(target) {
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

/** Why `policy` does not run the vector, or "" when it does. */
export function skipReason(policy, v) {
  const contract = v.contract ?? PRESENTED.contract;
  if (contract === PRESENTED.contract || contract === policy.contract) return "";
  return `a ${contract} vector; the policy implements ${policy.contract}`;
}

/** The vector's function on `policy`: its JSON-shaped output `{"Ok"|"Err": ...}`. A
 * contract-neutral vector goes through `policy.call` (adapted for a 0.2 policy), a vector
 * of the policy's own contract through `policy.callRaw`. Throws when the call fails
 * outright (trap, input that does not fit). */
export async function call(policy, v) {
  const fn = v.function;
  if (!policy.functions.includes(fn)) throw new TypeError(`unknown function \`${fn}\``);
  const available = { params: v.params ?? [], input: v.input ?? null };
  const args = policy.parameters(fn).map((name) => {
    if (!(name in available)) throw new TypeError(`\`${fn}\` takes \`${name}\`, which a vector cannot give`);
    return available[name];
  });
  const raw = v.contract !== undefined && v.contract !== PRESENTED.contract;
  const out = raw ? await policy.callRaw(fn, ...args) : await policy.call(fn, ...args);
  if (isObject(out) && Object.keys(out).length === 1 && ("Ok" in out || "Err" in out)) return out;
  return { Ok: out }; // a function that cannot fail (info)
}

/** Empty when `got` is what the vector expects, else why not. */
export function judge(v, got) {
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
  if (argv.length < 1) {
    console.error("usage: run_vectors.mjs <policy.wasm> [<vectors dir or file> ...]");
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
  console.log(
    `contract ${policy.contract}` + (policy.adapted ? ` (contract-neutral vectors through the ${PRESENTED.contract} adapter)` : ""),
  );
  let targets = argv.slice(1);
  if (!targets.length) {
    targets = DEFAULT_VECTORS.map((d) => join(REPO, d));
    const raw = join(REPO, RAW_VECTORS);
    if (existsSync(raw)) targets.push(raw);
    else console.log(`(no raw vectors: ${RAW_VECTORS} does not exist)`);
    targets = targets.map((t) => relative(process.cwd(), t) || ".");
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const target of targets) {
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
      } else if (skipReason(policy, v)) {
        skipped++;
        console.log(`  skip  ${v.name} (${path}): ${skipReason(policy, v)}`);
        continue;
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
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  return failed === 0 ? 0 : 1;
}

// Run as a script (not when imported for `call` and `judge`).
if (process.argv[1] && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url) {
  process.exitCode = await main(process.argv.slice(2));
}
