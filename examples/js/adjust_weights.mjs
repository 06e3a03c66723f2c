#!/usr/bin/env node
// A Bittensor validator's weight-setting step with vesting multipliers, from Node: the
// policy `.wasm` (the one the service runs) computes `apply-weights` here, with jco.
//
//     node adjust_weights.mjs --wasm POLICY.wasm --input w.json [--api URL | --multipliers m.json]
//                             [--params p.json] [--no-policy-check] [--floats]
//
// - `--input`: JSON `{"uids": [...], "weights": [...], "hotkeys": [...]}` (as for
//   `vesting apply --file`; `-` reads stdin). It may also carry `"multipliers"` (then it is
//   the contract's whole `weights-input`) and `"params"`.
// - the multipliers (the latest one of every uid): from the input, from `--multipliers`
//   (a JSON list of rows, as `GET /multipliers` returns them), or from the running service
//   (`--api http://127.0.0.1:8090`: `GET /multipliers`).
// - the parameters: `--params` (a JSON list of `{"name", "value": {"Fixed": ...}}`), else
//   the input's `params`, else with `--api` the ones the service calls its policy with
//   (`GET /policy`), else the policy's defaults. With `--api` the service's policy must be
//   this `.wasm` (same sha256) unless `--no-policy-check`: another policy gives other
//   weights.
//
// Prints the policy's full output as one line of JSON, keys sorted, integers exact (as
// `examples/python/validator.py local` does): `uids`, `weights` (fixed point, 9 decimals,
// summing to exactly 1000000000 unless all are 0), `multipliers`, and what `set_weights`
// takes, `chain_uids` and `chain_weights` (u16, the largest 65535). `--floats` adds
// `float_weights` (each `weight / 1e9` as an f64). Errors go to stderr as `error: ...`
// with exit code 1 (2 for a usage error).

import { readFileSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Policy, PolicyCallError, PolicyError, PolicyInputError, PolicyLoadError, ONE, parseJson, stringifyJson } from "./vesting_policy.mjs";

/** The fields of the contract's `miner-multiplier` record, as the service passes them. */
export const MULTIPLIER_FIELDS = ["uid", "hotkey", "holder", "multiplier", "held_factor", "duration_factor", "eligible"];

class Failure extends Error {}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function readJson(path, what) {
  try {
    return parseJson(readFileSync(path === "-" ? 0 : path, "utf8"));
  } catch (e) {
    throw new Failure(`cannot read ${what} from ${path}: ${e.message}`);
  }
}

async function getJson(api, path) {
  const url = `${api.replace(/\/+$/, "")}${path}`;
  let res;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new Failure(`GET ${url}: ${e.cause?.message ?? e.message}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Failure(`GET ${url}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  try {
    return parseJson(text);
  } catch (e) {
    throw new Failure(`GET ${url}: not JSON: ${e.message}`);
  }
}

/** The rows as the contract's `miner-multiplier` records (extra fields dropped). */
export function multiplierRows(rows, source) {
  if (!Array.isArray(rows)) throw new Failure(`${source}: expected a list of multipliers`);
  return rows.map((row, i) => {
    if (!isObject(row)) throw new Failure(`${source}[${i}]: expected an object`);
    const out = {};
    for (const k of MULTIPLIER_FIELDS) {
      if (!Object.hasOwn(row, k)) throw new Failure(`${source}[${i}] lacks \`${k}\``);
      out[k] = row[k];
    }
    return out;
  });
}

/** The policy's `apply-weights` output for a validator's weights (see the header). */
export async function adjustWeights({ wasm, input, api, multipliers, params, policyCheck = true }) {
  const policy = wasm instanceof Policy ? wasm : await Policy.load(wasm);
  let served = null;
  if (api) {
    served = await getJson(api, "/policy");
    if (policyCheck && served?.sha256 !== policy.sha256) {
      throw new Failure(
        `the service runs policy ${served?.policy} (sha256 ${served?.sha256}), this path runs ` +
          `${policy.label} (sha256 ${policy.sha256}): results would differ`,
      );
    }
  }
  let rows = multipliers ?? input.multipliers;
  let source = multipliers ? "multipliers" : "input.multipliers";
  if (rows === undefined && api) {
    rows = await getJson(api, "/multipliers");
    source = `GET ${api}/multipliers`;
  }
  if (rows === undefined) throw new Failure("no multipliers: give --api, --multipliers, or `multipliers` in the input");
  const p = params ?? input.params ?? served?.params ?? [];
  return policy.applyWeights(p, {
    uids: input.uids,
    weights: input.weights,
    hotkeys: input.hotkeys,
    multipliers: multiplierRows(rows, source),
  });
}

async function main() {
  let args;
  try {
    args = parseArgs({
      options: {
        wasm: { type: "string" },
        input: { type: "string" },
        api: { type: "string" },
        multipliers: { type: "string" },
        params: { type: "string" },
        "no-policy-check": { type: "boolean", default: false },
        floats: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    console.error(`error: ${e.message}`);
    return 2;
  }
  const usage =
    "usage: adjust_weights.mjs --wasm POLICY.wasm --input w.json [--api URL | --multipliers m.json] " +
    "[--params p.json] [--no-policy-check] [--floats]";
  if (args.help) {
    console.log(usage);
    return 0;
  }
  if (!args.wasm || !args.input || (args.api && args.multipliers)) {
    console.error(usage);
    return 2;
  }
  try {
    const input = readJson(args.input, "the weights");
    const allowed = new Set(["uids", "weights", "hotkeys", "multipliers", "params"]);
    if (!isObject(input) || !["uids", "weights", "hotkeys"].every((k) => k in input) || Object.keys(input).some((k) => !allowed.has(k))) {
      throw new Failure(`${args.input}: expected {"uids": [...], "weights": [...], "hotkeys": [...]} (and optionally "multipliers", "params")`);
    }
    const out = await adjustWeights({
      wasm: args.wasm,
      input,
      api: args.api,
      multipliers: args.multipliers ? readJson(args.multipliers, "the multipliers") : undefined,
      params: args.params ? readJson(args.params, "the parameters") : undefined,
      policyCheck: !args["no-policy-check"],
    });
    if (args.floats) out.float_weights = out.weights.map((w) => Number(w) / Number(ONE));
    console.log(stringifyJson(out));
    return 0;
  } catch (e) {
    if (e instanceof Failure || e instanceof PolicyError || e instanceof PolicyInputError || e instanceof PolicyCallError || e instanceof PolicyLoadError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

// Run as a script (not when imported for `adjustWeights`).
if (process.argv[1] && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url) {
  process.exitCode = await main();
}
