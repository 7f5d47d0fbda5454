'use strict';
/**
 * serverless.yml's bridge to the generated functions and roles (infra/serverless-config.ts, written by
 * `npm run package` into <build dir>/config/generated.json). Besides reading the file, it refuses a
 * config generated before the last change to the route table or the permissions, so a deploy can
 * never ship routes or grants that no longer match the code.
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

module.exports = async () => {
  const buildDir = path.resolve(root, process.env.COFFER_BUILD_DIR || 'dist');
  const file = path.join(buildDir, 'config', 'generated.json');
  let generated;
  try {
    generated = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${path.relative(root, file)} (${error.code || error.message}): run \`npm run package\`, which generates it`);
  }
  for (const [source, digest] of Object.entries(generated.sources)) {
    if (sha256(path.join(root, source)) !== digest) {
      throw new Error(`${source} changed after ${path.relative(root, file)} was generated: run \`npm run package\` again`);
    }
  }
  return generated.config;
};

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
