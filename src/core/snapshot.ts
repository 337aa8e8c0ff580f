// Plain, JSON-serializable copies of the core's state, for snapshots (record/replay). Objects are copied field by
// field; numbers JSON cannot hold (Infinity, NaN) and byte arrays get a small tagged form.

export type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

/** A value as plain data: typed arrays as base64, non-finite numbers as tags, undefined dropped from objects. */
export function toPlain(value: unknown): Plain {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $num: String(value) };
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (value instanceof Float64Array) return { $f64: Array.from(value, (x) => toPlain(x)) };
  if (Array.isArray(value)) return value.map((v) => toPlain(v));
  if (typeof value === 'object') {
    const out: { [key: string]: Plain } = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function') continue;
      out[k] = toPlain(v);
    }
    return out;
  }
  throw new TypeError(`cannot snapshot a ${typeof value}`);
}

export function fromPlain(value: Plain): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => fromPlain(v));
  if ('$num' in value) return Number(value.$num);
  if ('$bytes' in value) return new Uint8Array(Buffer.from(value.$bytes as string, 'base64'));
  if ('$f64' in value) return Float64Array.from((value.$f64 as Plain[]).map((x) => fromPlain(x) as number));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = fromPlain(v);
  return out;
}

/** A snapshot this version cannot read (another version's, or damaged). */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

/** A saved object's fields, or a SnapshotError naming what was expected. */
export function fieldsOf(value: Plain | undefined, what: string): { [key: string]: Plain } {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) throw new SnapshotError(`snapshot: ${what} is not an object`);
  return value;
}

/** A saved number (non-finite ones come tagged). */
export function numberOf(fields: { [key: string]: Plain }, key: string): number {
  const v = fromPlain(fields[key] ?? null);
  if (typeof v !== 'number') throw new SnapshotError(`snapshot: ${key} is not a number`);
  return v;
}

/** A saved number that may be absent (saved as null). */
export function optionalNumberOf(fields: { [key: string]: Plain }, key: string): number | undefined {
  return fields[key] === null || fields[key] === undefined ? undefined : numberOf(fields, key);
}

export function booleanOf(fields: { [key: string]: Plain }, key: string): boolean {
  const v = fields[key];
  if (typeof v !== 'boolean') throw new SnapshotError(`snapshot: ${key} is not a boolean`);
  return v;
}

export function bytesOf(value: Plain | undefined, what: string): Uint8Array {
  const v = fromPlain(value ?? null);
  if (!(v instanceof Uint8Array)) throw new SnapshotError(`snapshot: ${what} is not bytes`);
  return v;
}

/** Copy the saved numbers of `keys` onto a counters object (every key must be there). */
export function restoreNumbers<T extends object>(target: T, fields: { [key: string]: Plain }, keys: readonly (keyof T & string)[]): void {
  for (const k of keys) (target as Record<string, number>)[k] = numberOf(fields, k);
}
