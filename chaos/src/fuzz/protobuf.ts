import { randomBytes, randomInt } from 'node:crypto';

/** Protobuf wire types. */
export const Wire = { varint: 0, fixed64: 1, bytes: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

/**
 * A minimal protobuf writer for requests no generated encoder would produce:
 * fields with the wrong wire type, out-of-range varints, lengths that lie.
 */
export class RawProto {
  private readonly parts: Buffer[] = [];

  tag(field: number, wire: number): this {
    return this.varint(BigInt(field) * 8n + BigInt(wire));
  }

  varint(value: bigint | number): this {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v > 0n);
    this.parts.push(Buffer.from(bytes));
    return this;
  }

  raw(bytes: Buffer): this {
    this.parts.push(bytes);
    return this;
  }

  /** A length-delimited field. */
  bytes(field: number, value: Buffer | string): this {
    const buffer = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    return this.tag(field, Wire.bytes).varint(buffer.length).raw(buffer);
  }

  /** A varint field. */
  int(field: number, value: bigint | number): this {
    return this.tag(field, Wire.varint).varint(value);
  }

  /** A field of the given wire type with arbitrary content. */
  anyWire(field: number, wire: number): this {
    this.tag(field, wire);
    switch (wire) {
      case Wire.varint:
        return this.varint(2n ** 63n + 7n);
      case Wire.fixed64:
        return this.raw(randomBytes(8));
      case Wire.fixed32:
        return this.raw(randomBytes(4));
      case Wire.bytes:
        return this.varint(16).raw(randomBytes(16));
      default:
        return this; // a group that never ends
    }
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Random bytes of a random length up to `max`. */
export function garbage(max: number): Buffer {
  return randomBytes(randomInt(1, max + 1));
}

/** A copy with some random bits flipped, or cut short. */
export function mutate(valid: Buffer): Buffer {
  const copy = Buffer.from(valid);
  if (copy.length === 0) return randomBytes(8);
  if (Math.random() < 0.3) return copy.subarray(0, randomInt(0, copy.length));
  const flips = randomInt(1, 4);
  for (let i = 0; i < flips; i++) {
    const at = randomInt(0, copy.length);
    copy[at]! ^= 1 << randomInt(0, 8);
  }
  return copy;
}
