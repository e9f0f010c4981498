/**
 * HTTP GET into memory with a stall timeout, retried with a doubling delay after a network error, a timeout or a
 * 5xx (and 408 / 429); the final error names the URL and what the user can do about it.
 */

/** Thrown when the caller's AbortSignal fires; `name` is 'AbortError' like fetch's. */
export class BackboneDownloadCancelled extends Error {
  override name = 'AbortError';
}

export interface RetryOptions {
  /** Further attempts after a failure that may pass. */
  retries: number;
  /** Give up on a request that sends nothing for this long. */
  timeoutMs: number;
  /** Wait before the first retry, doubled after each. */
  retryDelayMs: number;
  signal?: AbortSignal;
  /** The way out, appended to the error once every attempt has failed. */
  advice: string;
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    statusText: string,
  ) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
  }
}

class StallTimeout extends Error {}
class Truncated extends Error {}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Why a fetch failed, for people: an errno code when there is one. */
function describeFailure(err: unknown, timeoutMs: number): string {
  if (err instanceof HttpStatusError) return err.message;
  if (err instanceof StallTimeout) return `no data for ${Math.round(timeoutMs / 1000)} s: timed out`;
  if (err instanceof Truncated) return err.message;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}

function retryable(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 408 || err.status === 429;
  return true;
}

/** One GET streamed into memory with a stall timeout; `onBytes` sees the running count. */
async function fetchOnce(
  url: string,
  signal: AbortSignal | undefined,
  timeoutMs: number,
  onBytes: (done: number, total: number | null) => void,
): Promise<Buffer> {
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(new StallTimeout()), timeoutMs);
  };
  try {
    arm();
    let res: Response;
    try {
      res = await fetch(url, { signal: ctrl.signal, redirect: 'follow' });
    } catch (err) {
      throw ctrl.signal.reason instanceof StallTimeout ? ctrl.signal.reason : err;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new HttpStatusError(res.status, res.statusText);
    }
    // A compressed body's Content-Length counts compressed bytes: no use for progress.
    const lengthHeader = res.headers.get('content-length');
    const encoded = !!res.headers.get('content-encoding') && res.headers.get('content-encoding') !== 'identity';
    const total =
      lengthHeader !== null && !encoded && Number.isFinite(Number(lengthHeader)) ? Number(lengthHeader) : null;
    const chunks: Buffer[] = [];
    let done = 0;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done: end, value } = await reader.read();
        if (end) break;
        arm();
        chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        done += value.byteLength;
        onBytes(done, total);
      }
    } catch (err) {
      throw ctrl.signal.reason instanceof StallTimeout ? ctrl.signal.reason : err;
    }
    if (total !== null && done !== total) throw new Truncated(`connection closed after ${done} of ${total} bytes`);
    return Buffer.concat(chunks);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** GET with retries; errors name the URL and the way out. */
export async function fetchWithRetries(
  url: string,
  opts: RetryOptions,
  onBytes: (done: number, total: number | null) => void,
): Promise<Buffer> {
  let delay = opts.retryDelayMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchOnce(url, opts.signal, opts.timeoutMs, onBytes);
    } catch (err) {
      if (opts.signal?.aborted) throw new BackboneDownloadCancelled(`Download of ${url} cancelled.`);
      if (attempt >= opts.retries || !retryable(err)) {
        const why = describeFailure(err, opts.timeoutMs);
        const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : '';
        throw new Error(`Could not download ${url} (${why})${tries}. ${opts.advice}`, { cause: err });
      }
      await sleep(delay, opts.signal);
      delay *= 2;
    }
  }
}
