import type { RoleDefinition } from '../access/roles.ts';
import type { HsmRbacStore, HsmRoleAssignment } from './rbac.ts';

/**
 * The HsmRbacStore in memory, for domain tests: test/contract/hsm-rbac-store.contract.ts holds it and
 * lib/aws/dynamo-hsm-rbac.ts to the same behaviour. Values are copied in and out, as a database would.
 */
export class MemoryHsmRbacStore implements HsmRbacStore {
  private readonly pools = new Map<string, { assignments: Map<string, HsmRoleAssignment>; definitions: Map<string, RoleDefinition> }>();

  async createAssignment(pool: string, assignment: HsmRoleAssignment): Promise<boolean> {
    const { assignments } = this.pool(pool);
    const name = assignment.name.toLowerCase();
    if (assignments.has(name)) return false;
    assignments.set(name, structuredClone(assignment));
    return true;
  }

  async getAssignment(pool: string, name: string): Promise<HsmRoleAssignment | undefined> {
    const found = this.pool(pool).assignments.get(name.toLowerCase());
    return found && structuredClone(found);
  }

  async deleteAssignment(pool: string, assignment: HsmRoleAssignment): Promise<void> {
    this.pool(pool).assignments.delete(assignment.name.toLowerCase());
  }

  async assignments(pool: string): Promise<HsmRoleAssignment[]> {
    return sortedCopies([...this.pool(pool).assignments.values()]);
  }

  async assignmentsOf(pool: string, principalId: string): Promise<HsmRoleAssignment[]> {
    return sortedCopies([...this.pool(pool).assignments.values()].filter((a) => a.principalId.toLowerCase() === principalId.toLowerCase()));
  }

  async putRoleDefinition(pool: string, definition: RoleDefinition): Promise<void> {
    this.pool(pool).definitions.set(definition.name.toLowerCase(), structuredClone(definition));
  }

  async getRoleDefinition(pool: string, name: string): Promise<RoleDefinition | undefined> {
    const found = this.pool(pool).definitions.get(name.toLowerCase());
    return found && structuredClone(found);
  }

  async deleteRoleDefinition(pool: string, name: string): Promise<void> {
    this.pool(pool).definitions.delete(name.toLowerCase());
  }

  async roleDefinitions(pool: string): Promise<RoleDefinition[]> {
    return sortedCopies([...this.pool(pool).definitions.values()]);
  }

  async deletePool(pool: string): Promise<void> {
    this.pools.delete(pool.toLowerCase());
  }

  private pool(name: string) {
    const key = name.toLowerCase();
    let pool = this.pools.get(key);
    if (!pool) {
      pool = { assignments: new Map(), definitions: new Map() };
      this.pools.set(key, pool);
    }
    return pool;
  }
}

/** In the order DynamoDB's sort keys give: by lowercased name. */
function sortedCopies<T extends { name: string }>(values: T[]): T[] {
  return values.map((v) => structuredClone(v)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
