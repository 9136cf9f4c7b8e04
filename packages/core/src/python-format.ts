/**
 * Python's `str()`/`repr()` for the values a course program prints, so that
 * `print(dic)` shows `{'count': 99}` and `print([1, None])` shows `[1, None]`.
 * `nested` is false for a value printed directly (strings are not quoted there).
 */
export function formatPython(value: unknown, nested: boolean): string {
  switch (typeof value) {
    case 'string':
      return nested ? pyRepr(value) : value;
    case 'boolean':
      return value ? 'True' : 'False';
    case 'undefined':
      return 'None';
    case 'number':
      return Number.isInteger(value) || !Number.isFinite(value) ? pyNumber(value) : String(value);
    case 'bigint':
      return value.toString();
    case 'function':
      return `<function ${value.name || '<lambda>'}>`;
    case 'symbol':
      return value.toString();
    case 'object': {
      if (value === null) return 'None';
      if (Array.isArray(value)) return `[${value.map((v) => formatPython(v, true)).join(', ')}]`;
      if (value instanceof Map) {
        return `{${[...value].map(([k, v]) => `${formatPython(k, true)}: ${formatPython(v, true)}`).join(', ')}}`;
      }
      if (value instanceof Set) return value.size === 0 ? 'set()' : `{${[...value].map((v) => formatPython(v, true)).join(', ')}}`;
      if (value instanceof Error) return nested ? `${value.name}(${pyRepr(value.message)})` : value.message;
      const custom = (value as { toString?: () => string }).toString;
      if (typeof custom === 'function' && custom !== Object.prototype.toString) return custom.call(value);
      return `{${Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${formatPython(v, true)}`).join(', ')}}`;
    }
  }
}

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/** Python's repr of a str: single quotes unless the text contains one and no double quote. */
function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    if (ch === q || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else out += ch;
  }
  return out + q;
}
