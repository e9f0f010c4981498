/**
 * The headless server under a seeded fuzzer for a bounded time (FUZZ_MS, 20 s by default; FUZZ_SEED repeats a run,
 * the seed is printed): request frames mutated field by field and byte by byte, raw WebSocket frames with random
 * opcodes, bits, lengths and fragments, invalid UTF-8, oversized frames, abrupt closes, random bytes on a bare
 * socket, and HTTP requests with mutated request lines, targets (%-escapes), headers and bodies, several at once,
 * against a real `finetune serve`. Every well-formed text frame on a connection gets exactly one answer; between
 * rounds and at the end a fresh client's valid request is answered, the process never exited, it wrote nothing to
 * stderr (no unhandled error), and its memory stayed bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import WebSocket from 'ws';
import { connect } from '../helpers/bridgeClient';
import { rawConnect, rawWebSocket, textFrame } from '../helpers/rawWebSocket';
import { startServeChild, stillAnswers, type ServeChild } from '../helpers/serveChild';
import { makeShapeDataset } from '../helpers/images';
import { mutatedFrame, prng, rawFrames, rawHttpRequest, templates, type Rng } from '../helpers/fuzzInputs';

const SEED = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31));
const DURATION_MS = Number(process.env.FUZZ_MS ?? 20_000);
/** Cases in flight at once (each its own connection): under the server's 16 WebSockets. */
const PARALLEL = 4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Mutated request frames on one connection; every frame that is JSON text gets one answer. */
async function frameCase(rng: Rng, server: ServeChild, frames: ReturnType<typeof templates>): Promise<void> {
  const ws = await connect(server.wsUrl);
  ws.on('error', () => undefined);
  const methods = frames.map((f) => f.method);
  const count = 1 + rng.int(12);
  let answered = 0;
  const all = new Promise<void>((resolve) => {
    ws.on('message', () => ++answered === count && resolve());
    ws.on('close', () => resolve());
  });
  for (let i = 0; i < count; i++) ws.send(mutatedFrame(rng, rng.pick(frames), methods));
  if (rng.chance(0.2)) {
    ws.terminate(); // an abrupt close with requests in flight
    return;
  }
  await all;
  assert.equal(answered, count, `every frame answered (seed ${SEED}); server stderr:\n${server.stderr()}`);
  ws.close();
}

/** Raw frame bytes after a real handshake; waits for the server to close or a moment, then drops the socket. */
async function rawFrameCase(rng: Rng, server: ServeChild, valid: string): Promise<void> {
  const conn = await rawWebSocket(server.port, `/ws?token=${server.token}`);
  const bytes = rng.chance(0.03) ? textFrame(Buffer.alloc((1 << 20) + 1 + rng.int(1000), 0x61)) : rawFrames(rng, valid);
  conn.socket.write(bytes);
  await Promise.race([conn.closed, sleep(20 + rng.int(80))]);
  conn.socket.destroy();
}

/** An HTTP request (or random bytes) on a bare socket. */
async function httpCase(rng: Rng, server: ServeChild): Promise<void> {
  const conn = await rawConnect(server.port);
  conn.socket.write(rng.chance(0.1) ? rng.bytes(1 + rng.int(2000)) : rawHttpRequest(rng, server.port, server.token));
  await Promise.race([conn.closed, sleep(20 + rng.int(80))]);
  conn.socket.destroy();
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

test(
  `server fuzz: ${DURATION_MS / 1000} s of hostile input, the server answers after it`,
  { timeout: DURATION_MS + 120_000 },
  async (t) => {
    console.log(`server fuzz seed ${SEED} (repeat with FUZZ_SEED=${SEED})`);
    t.diagnostic(`seed ${SEED}`);
    const data = join(mkdtempSync(join(tmpdir(), 'ft-fuzz-')), 'shapes');
    await makeShapeDataset(data, { perClass: 3, size: 32, seed: 3 });
    const server = await startServeChild();
    t.after(() => server.stop());
    const frames = templates(data);
    const valid = JSON.stringify(frames[0]);
    const rng = prng(SEED);
    const counts = { frames: 0, raw: 0, http: 0 };
    const deadline = Date.now() + DURATION_MS;
    let round = 0;
    while (Date.now() < deadline) {
      round++;
      // One round: PARALLEL cases at once, each from its own PRNG so that their interleaving cannot change the inputs.
      await Promise.all(
        Array.from({ length: PARALLEL }, () => {
          const caseRng = prng(rng.int(2 ** 31));
          const kind = caseRng.pick(['frames', 'raw', 'http'] as const);
          counts[kind]++;
          if (kind === 'frames') return frameCase(caseRng, server, frames);
          if (kind === 'raw') return rawFrameCase(caseRng, server, valid);
          return httpCase(caseRng, server);
        }),
      );
      if (round % 10 === 0) await stillAnswers(server, `after round ${round} (seed ${SEED})`);
    }
    t.diagnostic(`${round} rounds: ${JSON.stringify(counts)}`);
    await stillAnswers(server, `after the fuzzing (seed ${SEED})`);
    const page = await rawConnect(server.port);
    page.socket.write(`GET /?token=${server.token} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n`);
    assert.match(await page.waitFor(/\r\n\r\n/), /^HTTP\/1\.1 200 /, 'the page is still served');
    page.socket.destroy();
    assert.equal(server.stderr(), '', `nothing on stderr (seed ${SEED})`);
    const rss = rssMb(server.child.pid!);
    t.diagnostic(`server memory after fuzzing: ${rss.toFixed(0)} MB`);
    assert.ok(rss < 1024, `the server holds ${rss.toFixed(0)} MB after fuzzing (seed ${SEED})`);
    // A clean end: the client close below and the server's own shutdown both work.
    const last = new WebSocket(server.wsUrl);
    await new Promise((resolve) => last.once('open', resolve));
    last.close();
  },
);
