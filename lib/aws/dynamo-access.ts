import type { AccessStore, CreateAssignmentOutcome, RoleAssignment } from '../access/assignments.ts';
import { roleDefinitionName } from '../access/assignments.ts';
import type { RoleDefinition } from '../access/roles.ts';
import { normalizeScope, scopeCovers, subscriptionOf, subscriptionScope } from '../access/scopes.ts';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand } from './api/dynamodb.ts';
import { CONDITION_FAILED, cancellationReasons } from './dynamo/errors.ts';

/**
 * Role assignments and custom role definitions in the objects table (docs/adr/0013). An assignment
 * is its own item plus three index items written in one transaction: by scope (listing at a scope is
 * one prefix Query), by principal (each access decision is one Query) and one that makes (scope,
 * principal, role) unique. Nothing is read and written back, so concurrent grants never lose one.
 * Every item carries the whole assignment, so a Query answers without further reads.
 */
export class DynamoAccessStore implements AccessStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async createAssignment(assignment: RoleAssignment): Promise<CreateAssignmentOutcome> {
    const [main, byScope, byPrincipal, unique] = assignmentKeys(assignment);
    const item = assignmentItem(assignment);
    const mustNotExist = { ConditionExpression: 'attribute_not_exists(pk)' };
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: { ...main, ...item }, ...mustNotExist } },
            { Put: { TableName: this.table, Item: { ...byScope, ...item } } },
            { Put: { TableName: this.table, Item: { ...byPrincipal, ...item } } },
            { Put: { TableName: this.table, Item: { ...unique, name: assignment.name }, ...mustNotExist } },
          ],
        }),
      );
      return 'created';
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons?.[0] === CONDITION_FAILED) return 'nameTaken';
      if (reasons?.[3] === CONDITION_FAILED) return 'duplicate';
      throw error;
    }
  }

  async getAssignment(name: string): Promise<RoleAssignment | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: assignmentKey(name), ConsistentRead: true }));
    return Item ? fromItem<RoleAssignment>(Item) : undefined;
  }

  async deleteAssignment(assignment: RoleAssignment): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({ TransactItems: assignmentKeys(assignment).map((Key) => ({ Delete: { TableName: this.table, Key } })) }),
    );
  }

  async assignmentsUnder(scope: string): Promise<RoleAssignment[]> {
    const subscription = subscriptionOf(scope);
    if (!subscription) return [];
    const items = await this.queryPrefix(`RASCOPE#${subscription}`, normalizeScope(scope));
    // The prefix `/subscriptions/s/resourceGroups/g` also matches `.../g2`: keep the segment-wise ones.
    return items.map((item) => fromItem<RoleAssignment>(item)).filter((a) => scopeCovers(scope, a.scope));
  }

  async assignmentsOf(tenantId: string, principalId: string, subscriptionId: string): Promise<RoleAssignment[]> {
    const subscription = subscriptionScope(subscriptionId.toLowerCase());
    const items = await this.queryPrefix(principalPartition(tenantId, principalId), subscription);
    return items.map((item) => fromItem<RoleAssignment>(item)).filter((a) => scopeCovers(subscription, a.scope));
  }

  async putRoleDefinition(subscriptionId: string, definition: RoleDefinition): Promise<void> {
    const item = JSON.parse(JSON.stringify(definition)) as Record<string, unknown>;
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: this.table, Item: { ...definitionKey(definition.name), ...item, homeSubscription: subscriptionId.toLowerCase() } } },
          { Put: { TableName: this.table, Item: { ...definitionIndexKey(subscriptionId, definition.name), ...item } } },
        ],
      }),
    );
  }

  async getRoleDefinition(name: string): Promise<RoleDefinition | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: definitionKey(name), ConsistentRead: true }));
    if (!Item) return undefined;
    const { homeSubscription: _home, ...definition } = Item;
    return fromItem<RoleDefinition>(definition);
  }

  async deleteRoleDefinition(subscriptionId: string, name: string): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.table, Key: definitionKey(name) } },
          { Delete: { TableName: this.table, Key: definitionIndexKey(subscriptionId, name) } },
        ],
      }),
    );
  }

  async roleDefinitionsIn(subscriptionId: string): Promise<RoleDefinition[]> {
    const items = await this.queryPrefix(`RDSCOPE#${subscriptionId.toLowerCase()}`, undefined);
    return items.map((item) => fromItem<RoleDefinition>(item));
  }

  /** Every item of a partition whose sort key starts with the prefix, through all of DynamoDB's pages. */
  private async queryPrefix(pk: string, prefix: string | undefined): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const { Items = [], LastEvaluatedKey } = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: prefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: prefix === undefined ? { ':pk': pk } : { ':pk': pk, ':prefix': prefix },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      items.push(...Items);
      start = LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function assignmentKey(name: string) {
  return { pk: `RA#${name.toLowerCase()}`, sk: 'RA' };
}

function principalPartition(tenantId: string, principalId: string): string {
  return `RAPRINCIPAL#${tenantId.toLowerCase()}#${principalId.toLowerCase()}`;
}

/** The assignment's item and its three index items, in the order the create transaction sends them. */
function assignmentKeys(a: RoleAssignment) {
  const scope = normalizeScope(a.scope);
  const name = a.name.toLowerCase();
  return [
    assignmentKey(a.name),
    { pk: `RASCOPE#${subscriptionOf(a.scope) ?? ''}`, sk: `${scope}#${name}` },
    { pk: principalPartition(a.tenantId, a.principalId), sk: `${scope}#${name}` },
    { pk: `RAUNIQUE#${scope}#${a.principalId.toLowerCase()}#${roleDefinitionName(a.roleDefinitionId)}`, sk: 'RA' },
  ];
}

/** The assignment's attributes without the optional ones it lacks (DynamoDB refuses undefined). */
function assignmentItem(a: RoleAssignment): Record<string, unknown> {
  return Object.fromEntries(Object.entries(a).filter(([, value]) => value !== undefined));
}

function definitionKey(name: string) {
  return { pk: `RD#${name.toLowerCase()}`, sk: 'RD' };
}

function definitionIndexKey(subscriptionId: string, name: string) {
  return { pk: `RDSCOPE#${subscriptionId.toLowerCase()}`, sk: name.toLowerCase() };
}

function fromItem<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}
