/**
 * ECDSA signature encodings. AWS KMS (and OpenSSL's default) emit the X9.62 DER form
 * `SEQUENCE { INTEGER r, INTEGER s }`; JOSE and Azure Key Vault use the fixed-width raw form R||S
 * (RFC 7518 §3.4), each half left-padded to the curve's field size.
 */
import { BadParameter } from '../core/errors.ts';

/** Bytes per half: the field size, which for P-521 is 66 bytes (521 bits), not 65. */
/** The JOSE names of the elliptic curves Coffer signs with. */
export type Curve = 'P-256' | 'P-384' | 'P-521' | 'P-256K';

const SIZE: Record<Curve, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66, 'P-256K': 32 };

export function ecdsaHalfSize(curve: Curve): number {
  const size = SIZE[curve];
  if (!size) throw new BadParameter(`Unsupported curve for an ECDSA signature.`);
  return size;
}

/** DER -> raw R||S with each half left-padded to the curve's size (32/48/66/32). Throws on malformed DER. */
export function derToRaw(der: Uint8Array, curve: Curve): Buffer {
  const size = ecdsaHalfSize(curve);
  const bytes = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  const reader = { bytes, offset: 0 };
  if (readByte(reader) !== 0x30) throw malformed();
  const sequenceLength = readLength(reader);
  if (reader.offset + sequenceLength !== bytes.length) throw malformed();
  const r = readInteger(reader, size);
  const s = readInteger(reader, size);
  if (reader.offset !== bytes.length) throw malformed();
  return Buffer.concat([r, s]);
}

/** Raw R||S -> DER. Throws BadParameter if the raw length is not twice the curve's size. */
export function rawToDer(raw: Uint8Array, curve: Curve): Buffer {
  const size = ecdsaHalfSize(curve);
  if (raw.length !== 2 * size) {
    throw new BadParameter(`Invalid ECDSA signature length ${raw.length} for curve '${curve}': expected ${2 * size} bytes.`);
  }
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const body = Buffer.concat([encodeInteger(bytes.subarray(0, size)), encodeInteger(bytes.subarray(size))]);
  return Buffer.concat([Buffer.from([0x30]), encodeLength(body.length), body]);
}

interface Reader {
  bytes: Buffer;
  offset: number;
}

function readByte(reader: Reader): number {
  const byte = reader.bytes[reader.offset];
  if (byte === undefined) throw malformed();
  reader.offset++;
  return byte;
}

function readLength(reader: Reader): number {
  const first = readByte(reader);
  if (first < 0x80) return first;
  // Long form; a signature is at most ~140 bytes, so one length byte is all DER allows here.
  if (first !== 0x81) throw malformed();
  const length = readByte(reader);
  if (length < 0x80) throw malformed(); // DER requires the short form for lengths below 128
  return length;
}

/** A positive, minimally encoded INTEGER of at most `size` significant bytes, returned left-padded. */
function readInteger(reader: Reader, size: number): Buffer {
  if (readByte(reader) !== 0x02) throw malformed();
  const length = readLength(reader);
  if (length === 0 || reader.offset + length > reader.bytes.length) throw malformed();
  let value = reader.bytes.subarray(reader.offset, reader.offset + length);
  reader.offset += length;
  if (value[0]! & 0x80) throw malformed(); // negative
  if (value.length > 1 && value[0] === 0 && !(value[1]! & 0x80)) throw malformed(); // non-minimal
  if (value[0] === 0 && value.length > 1) value = value.subarray(1);
  if (value.length > size) throw malformed();
  const out = Buffer.alloc(size);
  value.copy(out, size - value.length);
  return out;
}

function encodeInteger(half: Buffer): Buffer {
  let start = 0;
  while (start < half.length - 1 && half[start] === 0) start++;
  const magnitude = half.subarray(start);
  // A set top bit would read as negative, so DER prefixes a zero byte.
  const content = magnitude[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude;
  return Buffer.concat([Buffer.from([0x02]), encodeLength(content.length), content]);
}

function encodeLength(length: number): Buffer {
  return length < 0x80 ? Buffer.from([length]) : Buffer.from([0x81, length]);
}

function malformed(): BadParameter {
  return new BadParameter('Malformed DER-encoded ECDSA signature.');
}
