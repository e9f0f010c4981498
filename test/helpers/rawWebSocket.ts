/**
 * WebSocket and HTTP at the byte level, for tests that send what no well-behaved client would: a hand-made
 * handshake on a net.Socket, then frames built bit by bit (any opcode, RSV bits, length, mask, fragmentation).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export interface FrameBits {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  /** RSV1-3 as a 3-bit number (no extension is negotiated: any set bit is a protocol error). */
  rsv?: number;
  /** Client frames must be masked (RFC 6455 §5.1); false sends an unmasked one. */
  masked?: boolean;
  /** Claim this payload length in the header instead of the real one. */
  claimedLength?: number;
}

/** One WebSocket frame's bytes. */
export function wsFrame({ opcode, payload, fin = true, rsv = 0, masked = true, claimedLength }: FrameBits): Buffer {
  const len = claimedLength ?? payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
  const maskBit = masked ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126) head.push(maskBit | len);
  else if (len < 0x10000) {
    head.push(maskBit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push(maskBit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  }
  if (!masked) return Buffer.concat([Buffer.from(head), ext, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from(head), ext, mask, body]);
}

export const textFrame = (text: string | Buffer) =>
  wsFrame({ opcode: 1, payload: typeof text === 'string' ? Buffer.from(text) : text });

/** A raw TCP connection that keeps everything it receives. */
export interface RawConnection {
  socket: Socket;
  received: () => Buffer;
  /** Resolves when the server closes the connection (or it errors), with everything received. */
  closed: Promise<Buffer>;
  /** Resolves once the received bytes (as latin1 text) match `pattern`; rejects if the connection closes first. */
  waitFor: (pattern: RegExp) => Promise<string>;
}

export function rawConnect(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const received = () => Buffer.concat(chunks);
    const waiters = new Set<() => void>();
    let ended = false;
    const closed = new Promise<Buffer>((done) => {
      const finish = () => {
        ended = true;
        for (const w of waiters) w();
        done(received());
      };
      socket.on('close', finish);
    });
    socket.on('error', () => undefined); // ECONNRESET from a server that drops us is an answer, not a failure
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      for (const w of waiters) w();
    });
    const waitFor = (pattern: RegExp) =>
      new Promise<string>((ok, fail) => {
        const check = () => {
          const text = received().toString('latin1');
          if (pattern.test(text)) {
            waiters.delete(check);
            ok(text);
          } else if (ended) {
            waiters.delete(check);
            fail(new Error(`connection closed before ${pattern}; received ${JSON.stringify(text.slice(0, 300))}`));
          }
        };
        waiters.add(check);
        check();
      });
    socket.once('connect', () => resolve({ socket, received, closed, waitFor }));
    socket.once('error', reject);
  });
}

/** A raw connection upgraded to a WebSocket at `path` (with the token), the 101 answer consumed. */
export async function rawWebSocket(port: number, path: string): Promise<RawConnection> {
  const conn = await rawConnect(port);
  conn.socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await conn.waitFor(/^HTTP\/1\.1 101 [^]*?\r\n\r\n/);
  return conn;
}

/** The close code in the first close frame the server sent (unmasked server frames), or null. */
export function closeCode(received: Buffer): number | null {
  const text = received.toString('latin1');
  let i = text.indexOf('\r\n\r\n');
  if (i < 0) return null;
  i += 4;
  while (i + 2 <= received.length) {
    const opcode = received[i]! & 0x0f;
    let len = received[i + 1]! & 0x7f;
    let at = i + 2;
    if (len === 126) {
      len = received.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      len = Number(received.readBigUInt64BE(at));
      at += 8;
    }
    if (opcode === 8) return len >= 2 ? received.readUInt16BE(at) : null;
    i = at + len;
  }
  return null;
}
