import { roleAssignmentBody } from '#lib/access/wire';
import { managementOperation } from '#lib/runtime/management';

export const handler = managementOperation('ListRoleAssignments', {}, async ({ management, query, services }) => {
  const page = await services.roleAssignments.list(management.scope, query.$filter, query.$skipToken);
  const next = new URLSearchParams({ 'api-version': query['api-version'] ?? '', ...(query.$filter ? { $filter: query.$filter } : {}) });
  if (page.next) next.set('$skipToken', page.next);
  const path = `${management.scope.replace(/\/+$/, '')}/providers/Microsoft.Authorization/roleAssignments`;
  return { body: { value: page.value.map(roleAssignmentBody), nextLink: page.next ? `${management.baseUrl}${path}?${next}` : null } };
});
