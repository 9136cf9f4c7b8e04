import { JSONDecodeError, PyTypeError, ValueError } from './errors.js';
import { SimObject } from './op.js';

/*
 * Python's `json.dumps` / `json.loads` with default arguments, so simulated files
 * hold the text a Python program would write (`{"count": 1}`, with `", "` and
 * `": "` separators and non-ASCII escaped) and bad JSON fails with Python's
 * JSONDecodeError messages (`Expecting value: line 1 column 1 (char 0)`).
 */

/**
 * `json.dumps(value)`: `ensure_ascii=True`, separators `", "` / `": "`, NaN and
 * Infinity written as Python writes them. `undefined` is None (`null`). Plain
 * objects and Maps are dicts, arrays are lists; anything else (a Set, a function, a
 * simulated object, a class instance) raises Python's TypeError, and a cycle raises
 * ValueError.
 */
export function pyJsonDumps(value: unknown): string {
  const stack = new Set<object>();
  const enc = (v: unknown): string => {
    switch (typeof v) {
      case 'undefined':
        return 'null';
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
      case 'bigint':
        return v.toString();
      case 'string':
        return encodeString(v);
      case 'object': {
        if (v === null) return 'null';
        if (stack.has(v)) throw new ValueError('Circular reference detected');
        let out: string;
        stack.add(v);
        if (Array.isArray(v)) {
          out = `[${v.map(enc).join(', ')}]`;
        } else if (v instanceof Map) {
          out = `{${[...v].map(([k, x]) => `${encodeString(keyOf(k))}: ${enc(x)}`).join(', ')}}`;
        } else if (isPlainObject(v)) {
          out = `{${Object.entries(v).map(([k, x]) => `${encodeString(k)}: ${enc(x)}`).join(', ')}}`;
        } else {
          throw notSerializable(v);
        }
        stack.delete(v);
        return out;
      }
      default:
        throw notSerializable(v);
    }
  };
  return enc(value);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Python converts int, float, bool and None dict keys to strings. */
function keyOf(k: unknown): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean' || k === null || k === undefined) return pyJsonDumps(k);
  throw new PyTypeError(`keys must be str, int, float, bool or None, not ${typeName(k)}`);
}

function typeName(v: unknown): string {
  if (typeof v === 'function') return 'function';
  if (typeof v === 'symbol') return 'symbol';
  if (v instanceof Set) return 'set';
  if (v instanceof SimObject) return v.constructor.name;
  if (typeof v === 'object' && v !== null) return (v.constructor as { name?: string } | undefined)?.name ?? 'object';
  return typeof v;
}

function notSerializable(v: unknown): PyTypeError {
  return new PyTypeError(`Object of type ${typeName(v)} is not JSON serializable`);
}

/** A JSON string literal with every character outside printable ASCII escaped, as `ensure_ascii` does. */
function encodeString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `json.loads(text)`: the value, or Python's JSONDecodeError with its message and
 * position (`Expecting ',' delimiter: line 1 column 10 (char 9)`). Accepts what
 * Python accepts, including `NaN`, `Infinity` and `-Infinity`; positions count
 * code points, as Python's str indices do.
 */
export function pyJsonLoads(text: string): unknown {
  let i = 0;
  const fail = (msg: string, pos: number): never => {
    const before = text.slice(0, pos);
    const char = [...before].length;
    const line = before.split('\n').length;
    const col = char - [...before.slice(0, before.lastIndexOf('\n') + 1)].length + 1;
    throw new JSONDecodeError(`${msg}: line ${line} column ${col} (char ${char})`);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

  const value = (): unknown => {
    const c = text[i];
    if (c === '"') return string();
    if (c === '{') return object();
    if (c === '[') return array();
    for (const [word, v] of LITERALS) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m === null) return fail('Expecting value', i);
    i += m[0].length;
    return Number(m[0]);
  };

  const string = (): string => {
    const begin = i++;
    let out = '';
    for (;;) {
      if (i >= text.length) return fail('Unterminated string starting at', begin);
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c < ' ') return fail('Invalid control character at', i);
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      const e = text[i + 1];
      if (e === undefined) return fail('Unterminated string starting at', begin);
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) return fail('Invalid \\uXXXX escape', i + 1);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      const r = ESCAPES[e];
      if (r === undefined) return fail('Invalid \\escape', i);
      out += r;
      i += 2;
    }
  };

  const object = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] !== '"') return fail('Expecting property name enclosed in double quotes', i);
      const key = string();
      ws();
      if (text[i] !== ':') return fail("Expecting ':' delimiter", i);
      i++;
      ws();
      // defineProperty: a "__proto__" key is data, as in Python, not a prototype change.
      Object.defineProperty(out, key, { value: value(), enumerable: true, writable: true, configurable: true });
      ws();
      if (text[i] === '}') {
        i++;
        return out;
      }
      if (text[i] !== ',') return fail("Expecting ',' delimiter", i);
      i++;
      ws();
    }
  };

  const array = (): unknown[] => {
    const out: unknown[] = [];
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return out;
    }
    for (;;) {
      out.push(value());
      ws();
      if (text[i] === ']') {
        i++;
        return out;
      }
      if (text[i] !== ',') return fail("Expecting ',' delimiter", i);
      i++;
      ws();
    }
  };

  ws();
  const result = value();
  ws();
  if (i !== text.length) fail('Extra data', i);
  return result;
}

const LITERALS: readonly (readonly [string, unknown])[] = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
];

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
