// A reader for the contract's WIT (`wit/vesting.wit`) and the naming rules of the Rust
// binding's serde and of jco, from which `convert.mjs` derives every conversion.

import { PolicyLoadError } from "./errors.mjs";

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

/** Parses WIT text into `{ package, interfaces: Map<name, { types: Map, functions: Map }>,
 * resolve }`: `package` is the package line's name (`"bittensor:vesting@0.2.0"`), or null. */
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
  let pkg = null;
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
      const parts = [];
      for (let x = next(); x !== ";"; x = next()) parts.push(x);
      pkg = parts.join("");
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
  return { package: pkg, interfaces, resolve };
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
