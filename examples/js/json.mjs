// JSON with exact integers: integers as BigInt, floats as Numbers (`1.0` stays a float),
// and the comparison the conformance vectors use (serde_json's `Value` equality).

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
