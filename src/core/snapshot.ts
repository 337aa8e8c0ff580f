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

/** An object's own fields as plain data, except those named in `skip` (references restored separately). */
export function saveFields(obj: object, skip: readonly string[]): { [key: string]: Plain } {
  const out: { [key: string]: Plain } = {};
  for (const [k, v] of Object.entries(obj)) {
    if (skip.includes(k) || typeof v === 'function') continue;
    if (v === undefined) {
      out[k] = { $undefined: true };
      continue;
    }
    out[k] = toPlain(v);
  }
  return out;
}

/** Assign saved fields back onto an object built by its constructor. */
export function restoreFields(obj: object, saved: { [key: string]: Plain }, skip: readonly string[] = []): void {
  const target = obj as Record<string, unknown>;
  for (const [k, v] of Object.entries(saved)) {
    if (skip.includes(k)) continue;
    target[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && '$undefined' in v ? undefined : fromPlain(v);
  }
}
