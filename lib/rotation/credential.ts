/**
 * The value of a rotated secret (docs/rotation.md): JSON with everything an application needs to
 * connect, so one GetSecret gives a working connection and a rotation changes the password only.
 *
 *   {"host":"db.internal","port":5432,"database":"orders","username":"orders_app","password":"...","ssl":true}
 *
 * `ssl` (optional, default false) asks for TLS with the server's certificate verified.
 */
export interface PostgresCredential {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  ssl?: boolean;
}

/** The value as a credential; the error names the field, never the value. */
export function parseCredential(value: string): PostgresCredential {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error('the secret value is not JSON: a rotated secret holds {host, port, database, username, password}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the secret value is not a JSON object');
  const record = parsed as Record<string, unknown>;
  for (const field of ['host', 'database', 'username', 'password'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') throw new Error(`the secret value's ${field} is not a non-empty string`);
  }
  const port = record.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error("the secret value's port is not a port number");
  if (record.ssl !== undefined && typeof record.ssl !== 'boolean') throw new Error("the secret value's ssl is not a boolean");
  return {
    host: record.host as string,
    port,
    database: record.database as string,
    username: record.username as string,
    password: record.password as string,
    ...(record.ssl !== undefined ? { ssl: record.ssl as boolean } : {}),
  };
}

export function serializeCredential(credential: PostgresCredential): string {
  const { host, port, database, username, password, ssl } = credential;
  return JSON.stringify({ host, port, database, username, password, ...(ssl !== undefined ? { ssl } : {}) });
}
