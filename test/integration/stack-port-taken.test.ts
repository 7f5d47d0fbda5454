import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack } from '../../dev/stack.ts';

/**
 * The gateway listens on the vault endpoint ports seconds after they were picked free, and on a busy
 * machine another process can take one in between: CI once failed on that. The gateway now says which
 * port it found taken, as DynamoDB Local's start does, so the launcher picks others (dev/stack.ts
 * `startGatewayOnPorts`, `startDynamoDbOnPort`) where it picked them, and names the port where the
 * caller gave it (npm start's fixed ports), as here.
 */
let dir: string;
let occupant: Server;
let occupied: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coffer-port-taken-'));
  // It hangs up on whoever connects: a start that asks the port before it fails gets no answer from it.
  occupant = createServer((socket) => socket.destroy());
  await new Promise<void>((listening) => occupant.listen(0, '127.0.0.1', listening));
  occupied = (occupant.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((closed) => occupant.close(closed));
  await rm(dir, { recursive: true, force: true });
});

describe('a stack whose given port is taken', () => {
  it('fails its start naming the vault endpoint port', { timeout: 120_000 }, async () => {
    await expect(startStack({ dataDir: join(dir, 'gateway'), vaultEndpointPorts: [occupied] })).rejects.toThrow(
      `the gateway found port ${occupied} taken`,
    );
  });

  it("fails its start naming DynamoDB Local's port", { timeout: 120_000 }, async () => {
    await expect(startStack({ dataDir: join(dir, 'dynamodb'), ports: { dynamodb: occupied } })).rejects.toThrow(
      `DynamoDB Local found port ${occupied} taken`,
    );
  });
});
