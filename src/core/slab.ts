// Datagram-sized byte arrays cut from large slabs: cheaper than an allocation per datagram (one zero fill per
// slab, no Buffer object per array), and safe to hand out because a region is never handed out twice (a full
// slab is replaced, never rewritten).

const SLAB_BYTES = 256 * 1024;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** n bytes for the caller to fill (large requests get an unpooled, unzeroed Buffer). */
export function allocBytes(n: number): Uint8Array {
  if (n > SLAB_BYTES / 8) return Buffer.allocUnsafe(n);
  if (used + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const out = new Uint8Array(slab, used, n);
  // Keep views 8-byte aligned, which typed-array views of the slab may want later.
  used += (n + 7) & ~7;
  return out;
}
