/**
 * The import rules (docs/adr/0007-layering-and-import-rules.md, CONTRIBUTING.md "Dependency rules").
 * Imports point down only: functions -> lib/runtime -> lib/http | domains -> lib/crypto -> lib/core,
 * with every AWS SDK call in lib/aws. `npm run lint` fails on any violation.
 */

// Domains: the rules of one capability and the ports they need. Listed with the ones still to come,
// so a new domain folder is held to the same rules from its first file.
const DOMAINS = '(objects|secrets|keys|certificates|vaults|auth|access|audit|events|schedule|hsm|rotation)';

// What may not reach production code: local stack, benchmarks, tooling, deployment, tests.
const NOT_SHIPPED = '^(dev|bench|scripts|infra|test)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules are one: merge them, or move the shared part down a layer.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-imports-nothing-in-lib',
      severity: 'error',
      comment: 'lib/core (errors, ids, kinds, clock) is what everything else stands on.',
      from: { path: '^lib/core/' },
      to: { path: '^lib/', pathNot: '^lib/core/' },
    },
    {
      name: 'crypto-imports-only-core',
      severity: 'error',
      comment: 'lib/crypto is pure crypto: no domain rules, no I/O.',
      from: { path: '^lib/crypto/' },
      to: { path: '^lib/', pathNot: '^lib/(core|crypto)/' },
    },
    {
      name: 'domains-know-no-transport-adapter-or-wiring',
      severity: 'error',
      comment:
        'Domains are reused by events and scheduled work without an HTTP request, and tested without AWS: ' +
        'they declare ports; lib/aws and lib/pkcs11 implement them; lib/runtime wires them.',
      from: { path: `^lib/${DOMAINS}/` },
      to: { path: '^lib/(http|aws|pkcs11|runtime)/' },
    },
    {
      name: 'http-imports-core-and-cross-cutting-domains-only',
      severity: 'error',
      comment:
        'The pipeline is shared by every function family; importing secrets, keys or objects would put ' +
        'them in every bundle. Handlers reach those domains through their composition root.',
      from: { path: '^lib/http/' },
      to: { path: '^lib/', pathNot: '^lib/(core|http|auth|access|audit|vaults)/' },
    },
    {
      name: 'aws-adapters-know-no-transport-or-wiring',
      severity: 'error',
      comment: 'Adapters implement domain ports; they are wired by lib/runtime, never the other way round.',
      from: { path: '^lib/aws/' },
      to: { path: '^lib/(http|runtime)/' },
    },
    {
      name: 'pkcs11-adapter-knows-no-transport-other-adapter-or-wiring',
      severity: 'error',
      comment:
        'lib/pkcs11 implements the HSM port of lib/hsm over a PKCS#11 library (docs/adr/0019-pkcs11-adapter.md): it may import domains, ' +
        'never the pipeline, the AWS adapters or the composition roots that wire it.',
      from: { path: '^lib/pkcs11/' },
      to: { path: '^lib/(http|aws|runtime)/' },
    },
    {
      name: 'pkcs11js-only-in-lib-pkcs11',
      severity: 'error',
      comment: 'The native PKCS#11 binding is loaded by the adapter alone, so no other bundle carries a native addon.',
      from: { path: '^(lib|functions)/', pathNot: '^lib/pkcs11/' },
      to: { path: '(^|/)node_modules/pkcs11js/' },
    },
    {
      name: 'aws-sdk-only-in-lib-aws',
      severity: 'error',
      comment:
        'Every AWS SDK call sits in lib/aws, so the rest of lib is tested without AWS and a function bundle carries only the clients it needs.',
      from: { path: '^(lib|functions)/', pathNot: '^lib/aws/' },
      to: { path: '(^|/)node_modules/@aws-sdk/' },
    },
    {
      name: 'functions-never-import-adapters',
      severity: 'error',
      comment: 'A handler gets its services from its composition root in lib/runtime, never by building an adapter itself.',
      from: { path: '^functions/' },
      to: { path: '^lib/(aws|pkcs11)/' },
    },
    {
      name: 'functions-import-runtime-and-schemas-only',
      severity: 'error',
      comment:
        'A handler is one call: its composition root (lib/runtime/<family>.ts) and, for its request type and its response shape, ' +
        "a domain's schema and wire modules (`schemas.ts`, `wire.ts`, or `<topic>-schemas.ts`, `<topic>-wire.ts` for a domain with several).",
      from: { path: '^functions/' },
      to: {
        path: '^lib/',
        pathNot: [`^lib/runtime/`, `^lib/${DOMAINS}/(schemas|wire)\\.ts$`, `^lib/${DOMAINS}/[a-z-]+-(schemas|wire)\\.ts$`, '^lib/(aws|pkcs11)/'],
      },
    },
    {
      name: 'shipped-code-never-imports-tooling',
      severity: 'error',
      comment: 'lib/ and functions/ are what deploys; the local stack, benchmarks, scripts, infra and tests are not bundled.',
      from: { path: '^(lib|functions)/' },
      to: { path: NOT_SHIPPED },
    },
    {
      name: 'shipped-code-never-imports-dev-dependencies',
      severity: 'error',
      comment: 'Production bundles contain only "dependencies"; type-only imports (e.g. @types/aws-lambda) vanish at build time.',
      from: { path: '^(lib|functions)/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve is a typo or a missing package; it also hides the import from every rule above.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-undeclared-package',
      severity: 'error',
      comment: 'Every package imported is declared in package.json, not reached through another package.',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage|\\.coffer|\\.serverless)/' },
    // Type-only imports count: a port's types are as much a dependency as its functions.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6', 'cjs'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.cjs', '.js', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
