import type { AccessStore, CreateAssignmentOutcome, RoleAssignment } from './assignments.ts';
import { roleDefinitionName } from './assignments.ts';
import type { RoleDefinition } from './roles.ts';
import { normalizeScope, scopeCovers, subscriptionOf, subscriptionScope } from './scopes.ts';

/**
 * The AccessStore in memory, for domain tests: test/contract/access-store.contract.ts holds it and
 * lib/aws/dynamo-access.ts to the same behaviour. Values are copied in and out, as a database would.
 */
export class MemoryAccessStore implements AccessStore {
  private readonly assignments = new Map<string, RoleAssignment>();
  private readonly definitions = new Map<string, { subscription: string; definition: RoleDefinition }>();

  async createAssignment(assignment: RoleAssignment): Promise<CreateAssignmentOutcome> {
    const name = assignment.name.toLowerCase();
    if (this.assignments.has(name)) return 'nameTaken';
    const key = uniqueKey(assignment);
    for (const existing of this.assignments.values()) if (uniqueKey(existing) === key) return 'duplicate';
    this.assignments.set(name, structuredClone(assignment));
    return 'created';
  }

  async getAssignment(name: string): Promise<RoleAssignment | undefined> {
    const found = this.assignments.get(name.toLowerCase());
    return found && structuredClone(found);
  }

  async deleteAssignment(assignment: RoleAssignment): Promise<void> {
    this.assignments.delete(assignment.name.toLowerCase());
  }

  async assignmentsUnder(scope: string): Promise<RoleAssignment[]> {
    if (!subscriptionOf(scope)) return [];
    return this.sorted([...this.assignments.values()].filter((a) => scopeCovers(scope, a.scope)));
  }

  async assignmentsOf(tenantId: string, principalId: string, subscriptionId: string): Promise<RoleAssignment[]> {
    const subscription = subscriptionScope(subscriptionId);
    return this.sorted(
      [...this.assignments.values()].filter(
        (a) =>
          a.tenantId.toLowerCase() === tenantId.toLowerCase() &&
          a.principalId.toLowerCase() === principalId.toLowerCase() &&
          scopeCovers(subscription, a.scope),
      ),
    );
  }

  async putRoleDefinition(subscriptionId: string, definition: RoleDefinition): Promise<void> {
    this.definitions.set(definition.name.toLowerCase(), { subscription: subscriptionId.toLowerCase(), definition: structuredClone(definition) });
  }

  async getRoleDefinition(name: string): Promise<RoleDefinition | undefined> {
    const found = this.definitions.get(name.toLowerCase());
    return found && structuredClone(found.definition);
  }

  async deleteRoleDefinition(_subscriptionId: string, name: string): Promise<void> {
    this.definitions.delete(name.toLowerCase());
  }

  async roleDefinitionsIn(subscriptionId: string): Promise<RoleDefinition[]> {
    return [...this.definitions.values()]
      .filter((d) => d.subscription === subscriptionId.toLowerCase())
      .map((d) => structuredClone(d.definition))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** In the order DynamoDB's sort keys give: lowercased scope, then name. */
  private sorted(assignments: RoleAssignment[]): RoleAssignment[] {
    const key = (a: RoleAssignment) => `${normalizeScope(a.scope)}#${a.name.toLowerCase()}`;
    return assignments.map((a) => structuredClone(a)).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }
}

function uniqueKey(a: RoleAssignment): string {
  return `${normalizeScope(a.scope)}#${a.principalId.toLowerCase()}#${roleDefinitionName(a.roleDefinitionId)}`;
}
