import { defineOperation } from '#lib/http/operation';
import { listPage } from '#lib/http/listing';

export const handler = defineOperation('GetSecretVersions', {}, async (input) => {
  const name = input.params.name!;
  return {
    body: await listPage(input, { path: `/secrets/${encodeURIComponent(name)}/versions`, name: `secrets/${name}/versions` }, (limit, cursor) =>
      input.services.secrets.listVersions(input.at, name, limit, cursor),
    ),
  };
});
