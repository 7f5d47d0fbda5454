import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** The officers' side of a pool's security domain (scripts/security-domain.ts), as an officer runs it. */
const SCRIPT = resolve(import.meta.dirname, '../../scripts/security-domain.ts');

/**
 * `security-domain.ts restore`: the download (`domain`) opened with the officers' keys (`keys`, PEM
 * files, as many as the quorum) and encrypted to the target pool's transfer key (`transferKey`),
 * written to `out` as the body of the target's `POST /securitydomain/upload`. Throws with the
 * script's error output when it fails.
 */
export function restoreSecurityDomain(files: { domain: string; keys: string[]; transferKey: string; out: string }): void {
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      SCRIPT,
      'restore',
      ...['--domain', files.domain],
      ...files.keys.flatMap((key) => ['--key', key]),
      ...['--transfer-key', files.transferKey, '--out', files.out],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}
