import { KmsError, validationError } from './errors.ts';

/**
 * Typed reads of one JSON 1.1 request body. A wrong JSON type is a SerializationException and a
 * missing or out-of-range member a ValidationException, which is how KMS splits the two: the SDK
 * never produces the first, so seeing it points at a hand-built request.
 */
export class Input {
  constructor(private readonly body: Record<string, unknown>) {}

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  string(name: string, options: { min?: number; max?: number } = {}): string | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw serialization(name, 'a string');
    const min = options.min ?? 1;
    if (value.length < min) throw validationError(name, `Member must have length greater than or equal to ${min}`);
    if (options.max !== undefined && value.length > options.max) {
      throw validationError(name, `Member must have length less than or equal to ${options.max}`);
    }
    return value;
  }

  requiredString(name: string, options: { min?: number; max?: number } = {}): string {
    const value = this.string(name, options);
    if (value === undefined) throw missing(name);
    return value;
  }

  enumeration<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw validationError(name, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
    }
    return value as T;
  }

  integer(name: string, range?: { min: number; max: number }): number | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(name, 'an integer');
    if (range && value < range.min) throw validationError(name, `Member must have value greater than or equal to ${range.min}`);
    if (range && value > range.max) throw validationError(name, `Member must have value less than or equal to ${range.max}`);
    return value;
  }

  boolean(name: string): boolean | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw serialization(name, 'a boolean');
    return value;
  }

  /** Epoch seconds, possibly fractional, as the SDK serializes timestamps in JSON 1.1. */
  timestamp(name: string): number | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw serialization(name, 'a timestamp in epoch seconds');
    return value * 1000;
  }

  /** Blobs travel as standard base64; a loose decoder would silently accept garbage as ciphertext. */
  blob(name: string, options: { min?: number; max: number }): Buffer | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
      throw serialization(name, 'base64-encoded binary data');
    }
    const bytes = Buffer.from(value, 'base64');
    const min = options.min ?? 1;
    if (bytes.length < min) throw validationError(name, `Member must have length greater than or equal to ${min}`);
    if (bytes.length > options.max) throw validationError(name, `Member must have length less than or equal to ${options.max}`);
    return bytes;
  }

  requiredBlob(name: string, options: { min?: number; max: number }): Buffer {
    const value = this.blob(name, options);
    if (value === undefined) throw missing(name);
    return value;
  }

  stringMap(name: string): Record<string, string> | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) throw serialization(name, 'a map');
    const result: Record<string, string> = {};
    for (const [key, entry] of Object.entries(value)) {
      if (typeof entry !== 'string') throw serialization(`${name}.${key}`, 'a string');
      result[key] = entry;
    }
    return result;
  }

  list(name: string): unknown[] | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) throw serialization(name, 'a list');
    return value;
  }

  stringList(name: string): string[] | undefined {
    const value = this.list(name);
    if (value === undefined) return undefined;
    return value.map((entry, index) => {
      if (typeof entry !== 'string') throw serialization(`${name}[${index}]`, 'a string');
      return entry;
    });
  }
}

function missing(name: string): KmsError {
  return validationError(name, 'Member must not be null');
}

function serialization(name: string, expected: string): KmsError {
  return new KmsError('SerializationException', `${name} must be ${expected}.`);
}
