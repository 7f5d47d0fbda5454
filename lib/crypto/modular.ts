/**
 * The few big-integer operations ECDSA needs around OpenSSL's scalar multiplication
 * (./ecdsa-digest.ts): conversions between big-endian bytes and bigint, and modular inversion.
 * JavaScript's bigint is not constant-time; ./ecdsa-digest.ts only ever inverts values that are
 * public or blinded (docs/adr/0010-prehashed-ecdsa-with-openssl.md).
 */

const MASK64 = (1n << 64n) - 1n;

/** Big-endian unsigned bytes -> bigint, eight bytes at a time and without a hex string of the value. */
export function toBigInt(bytes: Uint8Array): bigint {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = view.length % 8;
  let value = 0n;
  let i = 0;
  for (; i < head; i++) value = (value << 8n) | BigInt(view[i]!);
  for (; i < view.length; i += 8) value = (value << 64n) | view.readBigUInt64BE(i);
  return value;
}

/** bigint -> exactly `size` big-endian bytes. Throws if the value is negative or does not fit. */
export function toBytes(value: bigint, size: number): Buffer {
  if (value < 0n) throw new RangeError('A negative value has no unsigned encoding.');
  const out = Buffer.alloc(size);
  let rest = value;
  let end = size;
  for (; end >= 8; end -= 8) {
    out.writeBigUInt64BE(rest & MASK64, end - 8);
    rest >>= 64n;
  }
  for (; end > 0; end--) {
    out[end - 1] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  if (rest !== 0n) throw new RangeError(`The value does not fit in ${size} bytes.`);
  return out;
}

/**
 * a^-1 mod m for a prime m and 0 < a < m. Extended Euclid in Lehmer's form (Knuth, TAOCP vol. 2,
 * 4.5.2, Algorithm L): runs of quotient steps are taken on the leading 48 bits in double-precision
 * arithmetic, which is exact below 2^53, and applied to the big values as one 2x2 matrix; that is a
 * third of the bigint work of the plain algorithm. Variable-time: callers pass public or blinded
 * values only. The result is checked, so an arithmetic slip throws instead of producing a wrong
 * signature.
 */
export function invert(a: bigint, m: bigint): bigint {
  if (a <= 0n || a >= m) throw new RangeError('Only 0 < a < m is inverted.');
  let u = m;
  let v = a;
  let x0 = 0n; // x0 * a = u (mod m)
  let x1 = 1n; // x1 * a = v (mod m)
  while (v !== 0n) {
    const shift = Math.max(0, bitLength(u) - LEHMER_BITS);
    const big = BigInt(shift);
    let uh = Number(u >> big);
    let vh = Number(v >> big);
    // (A B; C D) maps (u, v) to the pair after the quotient steps proved so far.
    let A = 1;
    let B = 0;
    let C = 0;
    let D = 1;
    for (;;) {
      const q = floorDivide(uh + A, vh + C);
      if (q === undefined || q !== floorDivide(uh + B, vh + D)) break;
      [A, C] = [C, A - q * C];
      [B, D] = [D, B - q * D];
      [uh, vh] = [vh, uh - q * vh];
    }
    if (B === 0) {
      // The leading bits did not settle even one quotient: take one full step.
      const q = u / v;
      [u, v] = [v, u - q * v];
      [x0, x1] = [x1, x0 - q * x1];
    } else {
      const [a1, b1, c1, d1] = [BigInt(A), BigInt(B), BigInt(C), BigInt(D)];
      [u, v] = [a1 * u + b1 * v, c1 * u + d1 * v];
      [x0, x1] = [a1 * x0 + b1 * x1, c1 * x0 + d1 * x1];
    }
  }
  if (u !== 1n) throw new RangeError('The value has no inverse modulo m.');
  let inverse = x0 % m;
  if (inverse < 0n) inverse += m;
  if ((inverse * a) % m !== 1n) throw new Error('Modular inversion failed its check.');
  return inverse;
}

// ---------------------------------------------------------------------------------------------

/** Leading bits per Lehmer step: every intermediate stays below 2^50, well inside a double's 2^53. */
const LEHMER_BITS = 48;

/** floor(x / y) exactly, or undefined where Algorithm L stops (y = 0; a sign it never reaches is refused too). */
function floorDivide(x: number, y: number): number | undefined {
  if (y <= 0 || x < 0) return undefined;
  let q = Math.floor(x / y);
  // The division is rounded; the products below are exact, so they settle the floor.
  if (q * y > x) q--;
  else if ((q + 1) * y <= x) q++;
  return q;
}

function bitLength(value: bigint): number {
  const hex = value.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(Number.parseInt(hex[0]!, 16)));
}
