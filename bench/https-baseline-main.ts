/**
 * The HTTPS baseline's own process (bench/https-baseline.ts starts it): the least a vault could do
 * for a GetSecret over HTTPS. One raw GetItem of the item GetSecret reads, answered as JSON in the
 * shape SecretClient parses, on the gateway's certificate and with node:https's defaults as the
 * gateway uses them. It runs in a process of its own because the gateway does: the comparison then
 * leaves only Coffer's own work (authentication, authorization, opening the payload, audit, the
 * gateway's event) between the two rows.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { REGION } from '../dev/local-environment.ts';
import { DynamoDBDocumentClient, GetCommand } from '../lib/aws/api/dynamodb.ts';
import { BASELINE_OPTIONS_VARIABLE, type HttpsBaselineOptions, itemAsJson } from './https-baseline.ts';

const options = JSON.parse(process.env[BASELINE_OPTIONS_VARIABLE] ?? '') as HttpsBaselineOptions;
const tls: ServerOptions = { cert: await readFile(options.tls.certFile, 'utf8'), key: await readFile(options.tls.keyFile, 'utf8') };
// The client the gateway's handler reads with (lib/aws/api: same transport, signer and keep-alive
// agent; credentials from the environment the benchmark passes on), as the in-process baseline A:
// the two rows then differ by Coffer's work only, not by the HTTP client under it.
const db = new DynamoDBDocumentClient({ region: REGION, endpoint: options.dynamodb.endpoint });
const read = new GetCommand({ TableName: options.dynamodb.table, Key: options.dynamodb.key, ConsistentRead: options.dynamodb.consistentRead });

const server = createServer(tls, (req, res) => {
  req.resume();
  // SecretClient starts with a token-less request and needs Key Vault's challenge to get a token;
  // the token that follows is not verified: checking it is part of what Coffer's row measures.
  if (!req.headers.authorization) {
    res.writeHead(401, { 'WWW-Authenticate': options.challenge, 'Content-Length': '0' });
    res.end();
    return;
  }
  db.send(read).then(
    ({ Item }) => {
      const url = new URL(req.url ?? '/', `https://${req.headers.host ?? 'localhost'}`);
      const name = url.pathname.split('/')[2] ?? 'unknown';
      const status = Item ? 200 : 404;
      const body = Item
        ? JSON.stringify({ value: itemAsJson(Item), id: `${url.origin}/secrets/${name}/baseline`, attributes: { enabled: true } })
        : JSON.stringify({ error: { code: 'NotFound', message: 'The baseline item is missing.' } });
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(body);
    },
    (error: unknown) => {
      const body = JSON.stringify({ error: { code: 'BaselineFailure', message: error instanceof Error ? error.message : String(error) } });
      res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(body);
    },
  );
});

server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port }));

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The benchmark owns this process: when it goes away, so does the baseline.
process.on('disconnect', stop);
