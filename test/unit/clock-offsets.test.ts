/**
 * The time shift's offsets file as the services read it: a missing file is no offset, a change is
 * seen at the next reading, `*` adds to every vault, and without the setting no file is read at all.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configuredVaultClock, FileClockOffsets, readOffsetsFile } from '../../lib/runtime/clock-offsets.ts';
import { loadConfig } from '../../lib/runtime/config.ts';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coffer-offsets-'));
  file = join(dir, 'clock-offsets.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** As the gateway writes it: a new file renamed over the old one. */
function write(offsets: Record<string, unknown>) {
  writeFileSync(`${file}.tmp`, JSON.stringify({ offsets }));
  renameSync(`${file}.tmp`, file);
}

describe('FileClockOffsets', () => {
  it('reads no offset from a missing file', () => {
    expect(new FileClockOffsets(file).offsetSeconds('any')).toBe(0);
  });

  it('follows every write at the next reading, by lower-case name, with * added to every vault', () => {
    const offsets = new FileClockOffsets(file);
    write({ shifted: 60 });
    expect(offsets.offsetSeconds('shifted')).toBe(60);
    expect(offsets.offsetSeconds('other')).toBe(0);
    write({ shifted: 120, '*': 5 });
    expect(offsets.offsetSeconds('Shifted')).toBe(125);
    expect(offsets.offsetSeconds('other')).toBe(5);
    rmSync(file);
    expect(offsets.offsetSeconds('shifted')).toBe(0);
  });

  it('refuses a file that is not an offsets document', () => {
    writeFileSync(file, JSON.stringify({ offsets: { v: 1.5 } }));
    expect(() => readOffsetsFile(file)).toThrow(/not a whole number/);
    writeFileSync(file, JSON.stringify([1]));
    expect(() => readOffsetsFile(file)).toThrow(/no clock offsets/);
    writeFileSync(file, JSON.stringify({ offsets: { v: -1 } }));
    expect(() => readOffsetsFile(file)).toThrow(/not a whole number/);
  });
});

describe('configuredVaultClock', () => {
  const base = {
    COFFER_OBJECTS_TABLE: 'o',
    COFFER_AUDIT_TABLE: 'a',
    COFFER_VAULT_DOMAIN: 'vault.localhost',
    COFFER_TRUSTED_ISSUERS: JSON.stringify([
      { tenantId: 't', issuer: 'https://i', jwksUri: 'https://i/keys', audiences: ['x'], authority: 'https://i/t' },
    ]),
    COFFER_MANAGEMENT_AUDIENCE: 'https://management.localhost',
    COFFER_BACKUP_KEY_ID: 'alias/b',
    COFFER_REGION: 'local',
  };

  it('adds the offsets of the configured file', () => {
    write({ shifted: 3_600 });
    const clock = configuredVaultClock(loadConfig({ ...base, COFFER_CLOCK_OFFSETS_FILE: file }));
    const real = Math.floor(Date.now() / 1000);
    expect(clock('shifted') - real).toBeGreaterThanOrEqual(3_600);
    expect(clock('shifted') - real).toBeLessThanOrEqual(3_601);
    expect(clock('other') - real).toBeLessThanOrEqual(1);
  });

  it('is real time and reads no file where the setting is empty or absent, as in a deployment', () => {
    // A file that would throw if anything read it.
    writeFileSync(file, 'not json');
    for (const env of [base, { ...base, COFFER_CLOCK_OFFSETS_FILE: '' }]) {
      const cfg = loadConfig(env);
      expect(cfg.clockOffsetsFile).toBeUndefined();
      const clock = configuredVaultClock(cfg);
      expect(Math.abs(clock('shifted') - Math.floor(Date.now() / 1000))).toBeLessThanOrEqual(1);
    }
  });
});
