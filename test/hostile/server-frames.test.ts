/**
 * WebSocket frames that must not end the headless server (issue 22), sent byte for byte to a real `finetune serve`:
 * a frame over the 1 MiB limit, a text frame of invalid UTF-8, protocol violations (reserved bits and opcodes, an
 * unmasked frame, an oversized or fragmented control frame) each close that one connection with the RFC's code, and
 * the server answers the next client. Frames with an unusable id get a reply that says what is wrong with it, and a
 * burst of requests on one connection gets "busy" answers past the limit instead of unbounded work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Frame } from '../helpers/bridgeClient';
import { closeCode, rawWebSocket, textFrame, wsFrame } from '../helpers/rawWebSocket';
import { startServeChild, stillAnswers } from '../helpers/serveChild';
import { makeShapeDataset } from '../helpers/images';

const server = await startServeChild();
test.after(() => server.stop());
const path = `/ws?token=${server.token}`;

const violations: { name: string; bytes: Buffer; code: number }[] = [
  {
    name: 'a text frame over the 1 MiB limit',
    bytes: textFrame(Buffer.alloc((1 << 20) + 1, 0x20)),
    code: 1009,
  },
  { name: 'a 3-byte text frame of invalid UTF-8', bytes: textFrame(Buffer.from([0xe0, 0xa4, 0x41])), code: 1007 },
  { name: 'a frame with RSV1 set', bytes: wsFrame({ opcode: 1, payload: Buffer.from('{}'), rsv: 4 }), code: 1002 },
  { name: 'reserved opcode 3', bytes: wsFrame({ opcode: 3, payload: Buffer.from('x') }), code: 1002 },
  {
    name: 'an unmasked client frame',
    bytes: wsFrame({ opcode: 1, payload: Buffer.from('{}'), masked: false }),
    code: 1002,
  },
  { name: 'a ping of 126 bytes', bytes: wsFrame({ opcode: 9, payload: Buffer.alloc(126) }), code: 1002 },
  { name: 'a fragmented ping', bytes: wsFrame({ opcode: 9, payload: Buffer.from('x'), fin: false }), code: 1002 },
  { name: 'a continuation with no message', bytes: wsFrame({ opcode: 0, payload: Buffer.from('x') }), code: 1002 },
  {
    name: 'a claimed length of 2^53 - 1',
    bytes: wsFrame({ opcode: 2, payload: Buffer.alloc(0), claimedLength: Number.MAX_SAFE_INTEGER }),
    code: 1009,
  },
];

for (const v of violations) {
  test(`${v.name}: that connection is closed (${v.code}), the server answers the next client`, async () => {
    const conn = await rawWebSocket(server.port, path);
    conn.socket.write(v.bytes);
    const received = await conn.closed;
    assert.equal(closeCode(received), v.code);
    await stillAnswers(server, `after ${v.name}`);
  });
}

/** Sends raw text frames on one connection and collects the replies (as JSON) until `count` came. */
async function replies(frames: (string | Buffer)[], count = frames.length): Promise<Frame[]> {
  const ws = await connect(server.wsUrl);
  const got: Frame[] = [];
  const all = new Promise<void>((resolve) =>
    ws.on('message', (d) => {
      got.push(JSON.parse(d.toString()) as Frame);
      if (got.length === count) resolve();
    }),
  );
  // One write for all of them: the server reads the burst at once.
  const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
  socket.write(Buffer.concat(frames.map((f) => textFrame(f))));
  await all;
  ws.close();
  return got;
}

test('a frame with an unusable id gets a reply that says what is wrong with the id', async () => {
  const ids = ['1.5', '1e300', '-3', '"7"', 'null', '9007199254740993'];
  const got = await replies(ids.map((id) => `{"id":${id},"method":"runs.list","params":{}}`));
  for (const [i, reply] of got.entries()) {
    assert.equal(reply.ok, false, `id ${ids[i]}`);
    assert.equal(reply.id, -1);
    assert.match(
      reply.error!,
      /^Malformed request frame: "id" must be a whole number from 0 to 9007199254740991, got /,
    );
  }
  const [method] = await replies(['{"id":4,"method":["runs.list"],"params":{}}']);
  assert.deepEqual(method, {
    id: 4,
    ok: false,
    error: 'Malformed request frame: "method" must be a string, got ["runs.list"]',
  });
  await stillAnswers(server, 'after frames with bad ids');
});

test('a binary frame is refused with a reason', async () => {
  const ws = await connect(server.wsUrl);
  const reply = new Promise<Frame>((resolve) => ws.once('message', (d) => resolve(JSON.parse(d.toString()) as Frame)));
  ws.send(Buffer.from('{"id":1,"method":"runs.list","params":{}}'), { binary: true });
  assert.match((await reply).error!, /binary frames are not accepted/);
  ws.close();
});

test('a burst of 1000 scans on one connection: at most 8 run, the rest are told "busy", every frame is answered', async () => {
  const data = join(mkdtempSync(join(tmpdir(), 'ft-burst-')), 'shapes');
  await makeShapeDataset(data, { perClass: 6, seed: 5 });
  const frames = Array.from({ length: 1000 }, (_, i) =>
    JSON.stringify({ id: i + 1, method: 'dataset.scan', params: { dir: data, seed: i } }),
  );
  const got = await replies(frames);
  assert.deepEqual(
    got.map((f) => f.id).sort((a, b) => a! - b!),
    frames.map((_, i) => i + 1),
    'one answer per frame',
  );
  const busy = got.filter((f) => /^Busy: 8 requests on this connection/.test(f.error ?? ''));
  const scanned = got.filter((f) => f.ok);
  assert.ok(busy.length > 0, 'some were told busy');
  assert.equal(busy.length + scanned.length, 1000, got.find((f) => !f.ok && !busy.includes(f))?.error);
  await stillAnswers(server, 'after 1000 scans');
});
