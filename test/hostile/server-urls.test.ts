/**
 * Request targets and request lines that must not end the headless server (issue 22), sent as curl would, byte for
 * byte on a TCP socket, to a real `finetune serve`: a malformed %-escape (with and without the token, on a page and
 * on the WebSocket path), targets `new URL` refuses, a NUL byte, and requests the HTTP parser refuses. Each gets an
 * HTTP error status, and the server answers the next client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawConnect } from '../helpers/rawWebSocket';
import { startServeChild, stillAnswers } from '../helpers/serveChild';

const server = await startServeChild();
test.after(() => server.stop());
const { port, token } = server;
const host = `127.0.0.1:${port}`;

/** Sends `request` as is and returns the status code of the answer (null if the server closed without one). */
async function statusOf(request: string): Promise<number | null> {
  const conn = await rawConnect(port);
  conn.socket.write(request);
  const received = (await Promise.race([conn.waitFor(/\r\n\r\n/).catch(() => ''), conn.closed])).toString();
  conn.socket.destroy();
  const m = /^HTTP\/1\.1 (\d{3})/.exec(received);
  return m ? Number(m[1]) : null;
}

const get = (target: string, extra = '') => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`;
const upgrade = (target: string) =>
  get(
    target,
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
      'Sec-WebSocket-Version: 13\r\n',
  );

const cases: { name: string; request: string; status: number }[] = [
  { name: 'a malformed %-escape with the token', request: get(`/%E0%A4%A?token=${token}`), status: 400 },
  { name: 'a malformed %-escape without a token', request: get('/%E0%A4%A'), status: 400 },
  { name: 'a lone % in a path', request: get(`/assets/%?token=${token}`), status: 400 },
  { name: 'a %-escaped NUL byte', request: get(`/index.html%00.js?token=${token}`), status: 400 },
  { name: 'a malformed %-escape on the WebSocket path', request: upgrade(`/ws%E0%A4%A?token=${token}`), status: 403 },
  { name: 'a malformed %-escape in the token', request: upgrade(`/ws?token=%E0%A4%A`), status: 403 },
  { name: 'a target new URL refuses', request: get('//[::1'), status: 400 },
  { name: 'an absolute-form target to another host', request: get(`http://evil.example/%E0%A4%A`), status: 400 },
  { name: 'a TLS hello instead of HTTP', request: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', status: 400 },
  { name: 'a header with no colon', request: get('/', 'this is not a header\r\n'), status: 400 },
  { name: 'a Content-Length that is not a number', request: get('/', 'Content-Length: 1e9\r\n'), status: 400 },
  { name: 'a control character in the target', request: `GET /\x01 HTTP/1.1\r\nHost: ${host}\r\n\r\n`, status: 400 },
  {
    name: 'a method other than GET',
    request: `DELETE /?token=${token} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
    status: 405,
  },
];

for (const c of cases) {
  test(`${c.name}: ${c.status}, and the server answers the next client`, async () => {
    assert.equal(await statusOf(c.request), c.status);
    await stillAnswers(server, `after ${c.name}`);
  });
}

test('the page itself still loads, with and without the token, and not for a foreign Host', async () => {
  assert.equal(await statusOf(get(`/?token=${token}`)), 200);
  assert.equal(await statusOf(get('/')), 200);
  assert.equal(await statusOf(`GET / HTTP/1.1\r\nHost: evil.example:${port}\r\n\r\n`), 403);
  assert.equal(await statusOf(get('/../../etc/passwd')), 404);
  assert.equal(await statusOf(get('/%2e%2e/%2e%2e/etc/passwd')), 404);
});
