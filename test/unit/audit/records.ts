import { randomUUID } from 'node:crypto';
import type { AuditRecord, AuditStore } from '../../../lib/audit/audit.ts';

/** A record as the pipeline builds one. */
export function auditRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    time: new Date().toISOString(),
    vault: 'vault1',
    requestId: randomUUID(),
    operationName: 'SecretGet',
    operationVersion: '7.6',
    category: 'AuditEvent',
    resultType: 'Success',
    resultSignature: 'OK',
    httpStatusCode: 200,
    durationMs: 3,
    callerIpAddress: '127.0.0.1',
    identity: { oid: 'oid-1', appid: 'app-1', tid: 'tenant-1' },
    requestUri: 'https://vault1.vault.test/secrets/db',
    id: 'https://vault1.vault.test/secrets/db/0123456789abcdef0123456789abcdef',
    clientInfo: 'sdk/1',
    ...overrides,
  };
}

/**
 * An audit store in memory, keyed like the DynamoDB one (vault, time, request id), that counts every
 * write and leaves records unwritten as `unprocessed` says, as DynamoDB does under throttling.
 */
export class MemoryAuditStore implements AuditStore {
  readonly items = new Map<string, AuditRecord>();
  readonly batches: AuditRecord[][] = [];
  writes = 0;

  constructor(private readonly unprocessed: (batch: readonly AuditRecord[], call: number) => readonly AuditRecord[] = () => []) {}

  async put(record: AuditRecord): Promise<void> {
    this.writes++;
    this.items.set(key(record), record);
  }

  async putBatch(records: readonly AuditRecord[]): Promise<AuditRecord[]> {
    const keys = records.map(key);
    if (new Set(keys).size !== keys.length) throw new Error('Provided list of item keys contains duplicates');
    this.batches.push([...records]);
    const left = new Set(this.unprocessed(records, this.batches.length));
    for (const record of records) {
      if (left.has(record)) continue;
      this.writes++;
      this.items.set(key(record), record);
    }
    return records.filter((record) => left.has(record));
  }
}

function key(record: AuditRecord): string {
  return `${record.vault}|${record.time}|${record.requestId}`;
}
