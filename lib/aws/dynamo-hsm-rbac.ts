import type { RoleDefinition } from '../access/roles.ts';
import type { HsmRbacStore, HsmRoleAssignment } from '../hsm/rbac.ts';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from './api/dynamodb.ts';
import { deleteItems } from './dynamo/batch.ts';
import { CONDITION_FAILED, cancellationReasons } from './dynamo/errors.ts';
import { type ItemKey, poolRbacPartition, poolRbacPrincipalPartition } from './dynamo/layout.ts';
import { queryPartition } from './dynamo/paging.ts';

/**
 * A managed HSM pool's role assignments and custom role definitions in the objects table
 * (docs/adr/0021-managed-hsm-local-rbac.md). An assignment is its item in the pool's partition and a
 * copy in its principal's partition of the pool, written in one transaction whose first put is
 * conditional on the name: concurrent grants never lose one another, and a decision reads one small
 * partition. Nothing is read and written back.
 */
const ASSIGNMENT = 'RA#';
const DEFINITION = 'RD#';

export class DynamoHsmRbacStore implements HsmRbacStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async createAssignment(pool: string, assignment: HsmRoleAssignment): Promise<boolean> {
    const [main, byPrincipal] = assignmentKeys(pool, assignment);
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: this.table, Item: { ...main, ...assignment }, ConditionExpression: 'attribute_not_exists(pk)' } },
            { Put: { TableName: this.table, Item: { ...byPrincipal, ...assignment } } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (cancellationReasons(error)?.[0] === CONDITION_FAILED) return false;
      throw error;
    }
  }

  async getAssignment(pool: string, name: string): Promise<HsmRoleAssignment | undefined> {
    return this.get<HsmRoleAssignment>({ pk: poolRbacPartition(pool), sk: ASSIGNMENT + name.toLowerCase() });
  }

  async deleteAssignment(pool: string, assignment: HsmRoleAssignment): Promise<void> {
    await this.db.send(
      new TransactWriteCommand({ TransactItems: assignmentKeys(pool, assignment).map((Key) => ({ Delete: { TableName: this.table, Key } })) }),
    );
  }

  async assignments(pool: string): Promise<HsmRoleAssignment[]> {
    return (await this.poolItems(pool, ASSIGNMENT)).map((item) => fromItem<HsmRoleAssignment>(item));
  }

  async assignmentsOf(pool: string, principalId: string): Promise<HsmRoleAssignment[]> {
    return (await queryPartition(this.db, this.table, poolRbacPrincipalPartition(pool, principalId))).map((item) =>
      fromItem<HsmRoleAssignment>(item),
    );
  }

  async putRoleDefinition(pool: string, definition: RoleDefinition): Promise<void> {
    const item = JSON.parse(JSON.stringify(definition)) as Record<string, unknown>;
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...definitionKey(pool, definition.name), ...item } }));
  }

  async getRoleDefinition(pool: string, name: string): Promise<RoleDefinition | undefined> {
    return this.get<RoleDefinition>(definitionKey(pool, name));
  }

  async deleteRoleDefinition(pool: string, name: string): Promise<void> {
    await deleteItems(this.db, this.table, [definitionKey(pool, name)]);
  }

  async roleDefinitions(pool: string): Promise<RoleDefinition[]> {
    return (await this.poolItems(pool, DEFINITION)).map((item) => fromItem<RoleDefinition>(item));
  }

  /** The pool's partition and every principal partition its assignments name. */
  async deletePool(pool: string): Promise<void> {
    const items = await queryPartition(this.db, this.table, poolRbacPartition(pool));
    const keys = items.flatMap((item) =>
      String(item.sk).startsWith(ASSIGNMENT)
        ? assignmentKeys(pool, fromItem<HsmRoleAssignment>(item))
        : [{ pk: String(item.pk), sk: String(item.sk) }],
    );
    await deleteItems(this.db, this.table, keys);
  }

  private async get<T>(key: ItemKey): Promise<T | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }));
    return Item ? fromItem<T>(Item) : undefined;
  }

  /** One kind of the pool partition's items (assignments or definitions), from one Query of the partition. */
  private async poolItems(pool: string, prefix: string): Promise<Record<string, unknown>[]> {
    return (await queryPartition(this.db, this.table, poolRbacPartition(pool))).filter((item) => String(item.sk).startsWith(prefix));
  }
}

/** The assignment's item and its principal's copy, in the order the create transaction sends them. */
function assignmentKeys(pool: string, a: HsmRoleAssignment): [ItemKey, ItemKey] {
  const name = a.name.toLowerCase();
  return [
    { pk: poolRbacPartition(pool), sk: ASSIGNMENT + name },
    { pk: poolRbacPrincipalPartition(pool, a.principalId), sk: name },
  ];
}

function definitionKey(pool: string, name: string): ItemKey {
  return { pk: poolRbacPartition(pool), sk: DEFINITION + name.toLowerCase() };
}

function fromItem<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as T;
}
