#!/usr/bin/env node
// Checks that a `bittensor:vesting@0.1.0` policy and a `@0.2.0` one give the same results,
// vector by vector: the 0.2 one through the adapter (`contract.mjs`), both in the 0.1 shape.
//
//     node compare_contracts.mjs <0.1 policy.wasm> <0.2 policy.wasm> [<vectors dir or file> ...]
//
// Runs every contract-neutral vector (default: the repository's `tests/vectors/default` and
// `tests/vectors/contract`; vectors with a `contract` field are skipped) against both and
// compares the outputs exactly (integers as BigInt), not against the vector's expectation
// (`run_vectors.mjs` does that). Two differences are by design and not counted: `info`'s
// `contract` (each policy names its own) and `version`, and an error's `message` (the
// human text may name an account by index); an error's `code` must be the same.
//
// Prints `0.1 <label>` and `0.2 <label>`, one line per vector (`  same  <name>`, `  DIFF
// <name> (<path>): <first difference>`, `  skip  ...`) and `N same, M different`
// (`, K skipped`); exits 0 only when none differ (1 when one does, 2 on a usage or load
// error).

import { realpathSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_VECTORS, call, firstDifference, load } from "./run_vectors.mjs";
import { CONTRACTS, Policy, PolicyCallError, PolicyInputError, PolicyLoadError, jsonEqual, stringifyJson } from "./vesting_policy.mjs";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** What a vector's call gives, for comparison: its output, or the kind of error it threw. */
async function outcome(policy, v) {
  try {
    return { out: await call(policy, v) };
  } catch (e) {
    if (e instanceof PolicyCallError || e instanceof PolicyInputError || e instanceof TypeError || e instanceof RangeError) {
      return { threw: e.name, message: e.message };
    }
    throw e;
  }
}

/** The part of an output that must be identical across contracts (see the header), and
 * notes on what was left out and differs. */
function comparable(fn, out) {
  if (!isObject(out)) return out;
  if (fn === "info" && isObject(out.Ok)) {
    const { contract, version, ...rest } = out.Ok;
    return { Ok: rest };
  }
  if (isObject(out.Err)) return { Err: { code: out.Err.code } };
  return out;
}

/** Compares one vector on `a` (0.1) and `b` (0.2): "" when they agree, else the first
 * difference. `notes` collects by-design differences. */
export async function compareVector(a, b, v, notes = []) {
  const [x, y] = [await outcome(a, v), await outcome(b, v)];
  if (x.threw || y.threw) {
    if (x.threw === y.threw) return "";
    return `0.1 ${x.threw ? `threw ${x.threw}: ${x.message}` : "returned"}, 0.2 ${y.threw ? `threw ${y.threw}: ${y.message}` : "returned"}`;
  }
  const [cx, cy] = [comparable(v.function, x.out), comparable(v.function, y.out)];
  if (!jsonEqual(cx, cy)) return firstDifference(cx, cy);
  if (v.function === "info") {
    const [ix, iy] = [x.out.Ok, y.out.Ok];
    if (ix.contract !== a.contract || iy.contract !== b.contract) {
      return `info's contract: ${ix.contract} and ${iy.contract}, for ${a.contract} and ${b.contract} policies`;
    }
    if (ix.version !== iy.version) notes.push(`version ${ix.version} and ${iy.version}`);
  }
  if (isObject(x.out.Err) && x.out.Err.message !== y.out.Err.message) {
    notes.push(`messages ${stringifyJson(x.out.Err.message)} and ${stringifyJson(y.out.Err.message)}`);
  }
  return "";
}

/** Loads the two policies and checks their contracts (the first 0.1, the second 0.2). */
export async function loadPair(path01, path02) {
  const [a, b] = [await Policy.load(path01), await Policy.load(path02)];
  const [c01, c02] = CONTRACTS.map((c) => c.contract);
  if (a.contract !== c01) throw new PolicyLoadError(`${path01}: implements ${a.contract}, not ${c01}`);
  if (b.contract !== c02) throw new PolicyLoadError(`${path02}: implements ${b.contract}, not ${c02}`);
  return [a, b];
}

async function main(argv) {
  if (argv.length < 2) {
    console.error("usage: compare_contracts.mjs <0.1 policy.wasm> <0.2 policy.wasm> [<vectors dir or file> ...]");
    return 2;
  }
  let a;
  let b;
  try {
    [a, b] = await loadPair(argv[0], argv[1]);
  } catch (e) {
    if (e instanceof PolicyLoadError || e instanceof PolicyCallError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  console.log(`0.1 ${a.label}`);
  console.log(`0.2 ${b.label}`);
  let targets = argv.slice(2);
  if (!targets.length) targets = DEFAULT_VECTORS.map((d) => relative(process.cwd(), join(REPO, d)));
  let same = 0;
  let different = 0;
  let skipped = 0;
  for (const target of targets) {
    let vectors;
    try {
      vectors = load(target);
    } catch (e) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    if (!vectors.length) {
      console.error(`error: no vectors found in ${target}`);
      return 2;
    }
    for (const [path, v] of vectors) {
      if (v instanceof Error) {
        different++;
        console.log(`  DIFF  ${path}: ${v.message}`);
        continue;
      }
      if (v.contract !== undefined) {
        skipped++;
        console.log(`  skip  ${v.name} (${path}): a ${v.contract} vector, not contract-neutral`);
        continue;
      }
      const notes = [];
      const why = await compareVector(a, b, v, notes);
      if (why) {
        different++;
        console.log(`  DIFF  ${v.name} (${path}): ${why}`);
      } else {
        same++;
        console.log(`  same  ${v.name}${notes.length ? ` (by design: ${notes.join("; ")})` : ""}`);
      }
    }
  }
  console.log(`${same} same, ${different} different` + (skipped ? `, ${skipped} skipped` : ""));
  return different === 0 ? 0 : 1;
}

if (process.argv[1] && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url) {
  process.exitCode = await main(process.argv.slice(2));
}
