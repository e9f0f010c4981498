/**
 * Inputs for the server fuzz test, all from one seeded PRNG (the same seed gives the same sequence): request frames
 * mutated field by field or byte by byte, raw WebSocket frames with random bits, and HTTP requests with mutated
 * request lines, targets and headers.
 */
import { wsFrame } from './rawWebSocket';

/** mulberry32: small, fast, good enough to pick cases. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => next() < p;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  return { next, int, pick, chance, bytes };
}
export type Rng = ReturnType<typeof prng>;

/** Valid requests of methods that only read (or cancel nothing): mutations of them must not start work or write. */
export function templates(datasetDir: string): { id: number; method: string; params: Record<string, unknown> }[] {
  return [
    { id: 1, method: 'runs.list', params: {} },
    { id: 2, method: 'runs.get', params: { runId: 1 } },
    { id: 3, method: 'dataset.scan', params: { dir: datasetDir, seed: 1, validPct: 0.25 } },
    { id: 4, method: 'train.cancel', params: { runId: 5 } },
    { id: 5, method: 'runs.compare', params: { runIds: [1, 2] } },
    { id: 6, method: 'clean.list', params: { runId: 1 } },
    { id: 7, method: 'recipe.state', params: { runId: 1 } },
    { id: 8, method: 'lrfind.cancel', params: { jobId: 1 } },
    { id: 9, method: 'runs.rerunConfig', params: { runId: 3 } },
  ];
}

const ODD_NUMBERS = [0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1e-300, -0];
const ODD_STRINGS = [
  '',
  'x',
  'x'.repeat(5000),
  '\u0000',
  '\ud800',
  '../..',
  'x/../../..',
  '%E0%A4%A',
  '💥',
  '__proto__',
];

function randomJson(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 4 : 7)) {
    case 0:
      return rng.pick(ODD_NUMBERS);
    case 1:
      return rng.pick(ODD_STRINGS);
    case 2:
      return rng.pick([null, true, false]);
    case 3:
      return rng.int(1000);
    case 4:
      return Array.from({ length: rng.int(4) }, () => randomJson(rng, depth + 1));
    case 5:
      return Object.fromEntries(Array.from({ length: rng.int(4) }, (_, i) => [`k${i}`, randomJson(rng, depth + 1)]));
    default: {
      // Deep nesting, as one string of brackets in JSON.
      const n = 1 + rng.int(5000);
      return JSON.parse('['.repeat(Math.min(n, 500)) + ']'.repeat(Math.min(n, 500))) as unknown;
    }
  }
}

/** A template with one to three fields changed (never a `dir`: an absolute path from chance could be `/`). */
export function mutatedFrame(rng: Rng, base: ReturnType<typeof templates>[number], methods: string[]): string {
  const frame: Record<string, unknown> = { ...base, params: { ...base.params } };
  const params = frame.params as Record<string, unknown>;
  for (let n = 1 + rng.int(3); n > 0; n--) {
    switch (rng.int(7)) {
      case 0:
        frame.id = rng.chance(0.5) ? rng.pick(ODD_NUMBERS) : randomJson(rng);
        break;
      case 1:
        frame.method = rng.chance(0.5) ? rng.pick(methods) : randomJson(rng);
        break;
      case 2:
        frame.params = randomJson(rng);
        break;
      case 3: {
        const key = rng.pick(
          Object.keys(params)
            .filter((k) => k !== 'dir')
            .concat('extra'),
        );
        params[key] = randomJson(rng);
        break;
      }
      case 4:
        delete frame[rng.pick(['id', 'method', 'params'])];
        break;
      case 5:
        if ('dir' in params) params.dir = rng.pick(['', 'relative', 'no/such/dir', `${String(params.dir)}/../nothing`]);
        break;
      default:
        frame[rng.pick(['__proto__', 'constructor', 'extra'])] = randomJson(rng);
    }
  }
  const text = JSON.stringify(frame);
  if (!rng.chance(0.3)) return text;
  // Byte-level damage: truncated, a character replaced, or garbage inserted.
  const at = rng.int(text.length);
  return rng.pick([
    text.slice(0, at),
    text.slice(0, at) + String.fromCharCode(rng.int(128)) + text.slice(at + 1),
    text.slice(0, at) + rng.pick(['"', '}', '{', ',', '\\', 'e9999', '\u2028']) + text.slice(at),
  ]);
}

/** A sequence of raw WebSocket frames: random opcodes and bits, fragments, control frames, bad UTF-8, lies. */
export function rawFrames(rng: Rng, validText: string): Buffer {
  const frames: Buffer[] = [];
  for (let n = 1 + rng.int(6); n > 0; n--) {
    const payload = rng.pick([
      () => Buffer.from(validText),
      () => rng.bytes(rng.int(300)),
      () => Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate encoded as UTF-8: invalid
      () => Buffer.from([0xc3]), // a truncated sequence
      () => Buffer.alloc(0),
      () => Buffer.from(validText).subarray(0, rng.int(validText.length)),
    ])();
    frames.push(
      wsFrame({
        opcode: rng.chance(0.7) ? rng.pick([0, 1, 1, 2, 8, 9, 10]) : rng.int(16),
        payload,
        fin: rng.chance(0.8),
        rsv: rng.chance(0.9) ? 0 : rng.int(8),
        masked: rng.chance(0.95),
        claimedLength: rng.chance(0.1) ? rng.pick([payload.length + 1, 126, 65536, 2 ** 40]) : undefined,
      }),
    );
  }
  const all = Buffer.concat(frames);
  // Sometimes the connection ends in the middle of a frame.
  return rng.chance(0.2) ? all.subarray(0, rng.int(all.length)) : all;
}

const TARGETS = ['/', '/index.html', '/ws', '/assets/app.js', '/%E0%A4%A', '/%', '/%%41', '/..%2f..%2fetc%2fpasswd'];
const TARGETS_ODD = ['//[', '*', 'http://evil.example/', '/a?b=%ZZ', '/\u00e9', '/' + 'a'.repeat(9000), '/%00'];

/** An HTTP/1.1 request as bytes: mutated request line, target, headers and body, possibly cut short. */
export function rawHttpRequest(rng: Rng, port: number, token: string): Buffer {
  let target = rng.chance(0.8) ? rng.pick(TARGETS) : rng.pick(TARGETS_ODD);
  if (rng.chance(0.5)) target += `${target.includes('?') ? '&' : '?'}token=${rng.chance(0.7) ? token : '%E0%A4'}`;
  if (rng.chance(0.3)) {
    const at = rng.int(target.length + 1);
    target = target.slice(0, at) + rng.pick(['%', '%E0', '%FF%FE', '%C0%AF', '#', ' ', '%2e%2e/']) + target.slice(at);
  }
  const method = rng.chance(0.8)
    ? rng.pick(['GET', 'HEAD', 'POST', 'OPTIONS'])
    : rng.pick(['', 'G ET', 'CONNECT', 'X'.repeat(300)]);
  const version = rng.chance(0.9) ? 'HTTP/1.1' : rng.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', '']);
  const headers = [
    rng.chance(0.9) ? `Host: ${rng.chance(0.9) ? `127.0.0.1:${port}` : 'evil.example'}` : '',
    rng.chance(0.3) ? 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13' : '',
    rng.chance(0.2) ? `Sec-WebSocket-Key: ${rng.pick(['dGhlIHNhbXBsZSBub25jZQ==', '', 'short'])}` : '',
    rng.chance(0.2) ? `Content-Length: ${rng.pick(['5', '-1', '1e3', '99999999999', 'x'])}` : '',
    rng.chance(0.1) ? 'Transfer-Encoding: chunked' : '',
    rng.chance(0.1) ? `X-Junk: ${rng.bytes(20).toString('latin1')}` : '',
    rng.chance(0.05) ? 'no colon here' : '',
    rng.chance(0.05) ? `X-Big: ${'b'.repeat(20_000)}` : '',
  ].filter(Boolean);
  const body = rng.chance(0.2)
    ? rng.pick(['hello', '5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', rng.bytes(50).toString('latin1')])
    : '';
  const request = Buffer.from(`${method} ${target} ${version}\r\n${headers.join('\r\n')}\r\n\r\n${body}`, 'latin1');
  return rng.chance(0.15) ? request.subarray(0, rng.int(request.length)) : request;
}
