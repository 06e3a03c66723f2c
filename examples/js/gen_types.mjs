#!/usr/bin/env node
// Regenerates `types/` (the TypeScript types of the contracts, world `vesting-policy`)
// from `wit/` with `jco types`, one directory per contract as in `wit/`: `types/` from
// `wit/vesting.wit` (`bittensor:vesting@0.2.0`), `types/0.1.0/` from `wit/0.1.0/vesting.wit`.
// `npm run types`; `npm run types -- --check` exits 1 when the committed files are not what
// jco generates.
//
// jco 1.35.0's `types` command reads the WIT through its own WASI filesystem shim, which
// since preview2-shim 0.26 preopens nothing by default ("No such file or directory (os
// error 44)" from `npx jco types`); this script preopens the repository's `wit/` read-only
// for that shim and calls the same `types` API the command does.
import { readFileSync, readdirSync, rmSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const wit = join(here, "..", "..", "wit");
const out = join(here, "types");
const check = process.argv.includes("--check");

// The shim instance jco's type generator imports (it has its own copy under jco-transpile).
// Node's resolution from jco-transpile: its own node_modules first, then ours.
const shimDir = [
  join(here, "node_modules", "@bytecodealliance", "jco-transpile", "node_modules", "@bytecodealliance", "preview2-shim"),
  join(here, "node_modules", "@bytecodealliance", "preview2-shim"),
].find((d) => existsSync(join(d, "package.json")));
const shim = await import(pathToFileURL(join(shimDir, "dist", "nodejs", "filesystem.js")).href);
shim._setPreopens({ [wit]: wit });

const { types } = await import("@bytecodealliance/jco");
// Each contract's WIT package directory, and where under `types/` its types go.
const CONTRACTS = [
  ["", wit],
  ["0.1.0/", join(wit, "0.1.0")],
];
const generated = new Map();
for (const [prefix, dir] of CONTRACTS) {
  const files = await types(dir, { worldName: "vesting-policy", name: "vesting-policy", quiet: true });
  for (const [name, bytes] of Object.entries(files)) generated.set(`${prefix}${name.replace(/^\.?\/?/, "")}`, Buffer.from(bytes));
}
if (check) {
  const committed = new Map();
  const walk = (dir, prefix) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${prefix}${e.name}/`);
      else committed.set(`${prefix}${e.name}`, readFileSync(join(dir, e.name)));
    }
  };
  walk(out, "");
  const stale = [...new Set([...generated.keys(), ...committed.keys()])].filter(
    (n) => !generated.has(n) || !committed.has(n) || !generated.get(n).equals(committed.get(n)),
  );
  if (stale.length) {
    console.error(`types/ is not what \`jco types\` generates from wit/ (${stale.join(", ")}); run \`npm run types\``);
    process.exit(1);
  }
  console.log(`types/ is current (${generated.size} files)`);
} else {
  rmSync(out, { recursive: true, force: true });
  for (const [name, bytes] of generated) {
    mkdirSync(dirname(join(out, name)), { recursive: true });
    writeFileSync(join(out, name), bytes);
  }
  console.log(`wrote ${[...generated.keys()].map((n) => `types/${n}`).join(", ")}`);
}
