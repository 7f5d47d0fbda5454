import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The official Azure SDK for Python (Debian's python3-azure) for the compat tests in test/compat:
 * scripts/ensure-python-sdk.sh installs it with apt-get where it is missing. Only where it cannot (no
 * apt-get, not root, no network to the mirrors) are the tests skipped, naming why; with
 * COFFER_REQUIRE_PYTHON_SDK=1 (for CI, where installing must work) that fails instead.
 */
const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
/** The scripts and coffer_compat.py (the loopback guard) the tests run. */
export const PYTHON_SCRIPTS = join(root, 'test', 'compat', 'python');
export const PYTHON_INSTALL_TIMEOUT_MS = 300_000;
const SCRIPT_TIMEOUT_MS = 90_000;

export type PythonSdk = { ready: true; interpreter: string; versions: Record<string, string> } | { ready: false; reason: string };

/** The interpreter with the SDK, installed first where it is missing; `ready: false` with the reason where it cannot be. */
export async function pythonSdk(): Promise<PythonSdk> {
  const { stdout } = await run('bash', [join(root, 'scripts', 'ensure-python-sdk.sh')], { timeout: PYTHON_INSTALL_TIMEOUT_MS }).catch(
    (error: { code?: unknown; stdout?: string; stderr?: string }) => {
      // Exit 3 is "cannot be installed here", with its reason; anything else is a failure of the script itself.
      if (error.code === 3 && error.stdout) return { stdout: error.stdout };
      throw new Error(`scripts/ensure-python-sdk.sh failed: ${String(error.code)} ${error.stderr ?? ''}`);
    },
  );
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const ready = /^READY (\S+) (\{.*\})$/.exec(last);
  if (ready) return { ready: true, interpreter: ready[1]!, versions: JSON.parse(ready[2]!) as Record<string, string> };
  const reason = last.replace(/^UNAVAILABLE /, '');
  if (process.env.COFFER_REQUIRE_PYTHON_SDK === '1') throw new Error(`the Python SDK is required but cannot be installed: ${reason}`);
  process.stderr.write(`python-sdk compat tests skipped: ${reason}\n`);
  return { ready: false, reason };
}

/**
 * Runs a script (`args` after the interpreter) with `settings` as JSON on its standard input and
 * answers the JSON document it printed; `what` names it when it fails. Nothing from this process's
 * environment goes along (no AZURE_* settings, no proxy): the stack's CA is the only trust anchor,
 * and no bytecode is written into the source tree.
 */
export async function runPython(
  interpreter: string,
  args: string[],
  settings: unknown,
  options: { caFile: string; what: string; env?: Record<string, string> },
): Promise<any> {
  const child = run(interpreter, args, {
    cwd: PYTHON_SCRIPTS,
    timeout: SCRIPT_TIMEOUT_MS,
    env: {
      PATH: '/usr/bin:/bin',
      REQUESTS_CA_BUNDLE: options.caFile,
      SSL_CERT_FILE: options.caFile,
      NO_PROXY: '*',
      PYTHONDONTWRITEBYTECODE: '1',
      PYTHONPATH: PYTHON_SCRIPTS,
      ...options.env,
    },
  });
  child.child.stdin?.end(JSON.stringify(settings));
  const { stdout } = await child.catch((error: { stderr?: string; message: string }) => {
    throw new Error(`${options.what} failed:\n${error.stderr ?? error.message}`);
  });
  return JSON.parse(stdout);
}
