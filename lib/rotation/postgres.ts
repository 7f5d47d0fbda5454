import pg from 'pg';
import type { PostgresCredential } from './credential.ts';
import type { PasswordSession, RoleDatabase } from './rotation.ts';

/** PostgreSQL's SQLSTATE for a refused password (invalid_password). */
const INVALID_PASSWORD = '28P01';

/**
 * The rotator's database, through `pg`. The password change is `ALTER ROLE <identifier> PASSWORD
 * <literal>` with both quoted by pg's escapeIdentifier and escapeLiteral (ALTER ROLE takes no bind
 * parameters), so neither a role name nor a password from the secret can change the statement.
 */
export class PostgresRoleDatabase implements RoleDatabase {
  constructor(private readonly connectTimeoutMillis = 5_000) {}

  async authenticates(credential: PostgresCredential): Promise<boolean> {
    const client = this.client(credential);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === INVALID_PASSWORD) return false;
      throw error;
    } finally {
      await client.end().catch(() => {});
    }
  }

  async openSession(credential: PostgresCredential): Promise<PasswordSession> {
    const client = this.client(credential);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    return {
      lock: async (key) => {
        // Session-level: released when the session ends, however the rotation ends.
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
      },
      setPassword: async (role, password) => {
        await client.query(`ALTER ROLE ${client.escapeIdentifier(role)} PASSWORD ${client.escapeLiteral(password)}`);
      },
      close: () => client.end(),
    };
  }

  private client(credential: PostgresCredential): pg.Client {
    return new pg.Client({
      host: credential.host,
      port: credential.port,
      database: credential.database,
      user: credential.username,
      password: credential.password,
      connectionTimeoutMillis: this.connectTimeoutMillis,
      ...(credential.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
    });
  }
}
