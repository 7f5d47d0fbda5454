import { defineOperation } from '#lib/http/operation';
import { listPage } from '#lib/http/listing';

export const handler = defineOperation('GetKeyVersions', {}, async (input) => {
  const name = input.params.name!;
  return {
    body: await listPage(input, { path: `/keys/${encodeURIComponent(name)}/versions`, name: `keys/${name}/versions` }, (limit, cursor) =>
      input.services.keys.listVersions(input.at, name, limit, cursor),
    ),
  };
});
