/**
 * What the production handlers write to standard output and standard error during a few calls: in
 * Lambda that is the function's log stream, which CloudWatch Logs bills by the byte. Captured lines
 * are kept from the terminal (the report is on stdout).
 */
import { mayBeAuditLine } from '../lib/audit/log-stream.ts';

type Write = typeof process.stdout.write;

export async function captureOutput<T>(action: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  let text = '';
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  const capture = ((
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | ((error?: Error | null) => void),
    done?: (error?: Error | null) => void,
  ) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const callback = typeof encoding === 'function' ? encoding : done;
    // A stream calls back once the data is written: the audit log waits for it before the response.
    if (callback) process.nextTick(callback, null);
    return true;
  }) as Write;
  for (const stream of streams) stream.write = capture;
  try {
    const result = await action();
    return { result, lines: text.split('\n').filter((line) => line.length > 0) };
  } finally {
    streams.forEach((stream, index) => {
      stream.write = originals[index]!;
    });
  }
}

/** An audit record's line: the log stream's marker (lib/audit/log-stream.ts) is in no other line. */
export function isAuditLine(line: string): boolean {
  return mayBeAuditLine(line);
}
