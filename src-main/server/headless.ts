/**
 * Headless mode: the same StudioService over HTTP + WebSocket on 127.0.0.1 only, for a browser (and for the
 * end-to-end tests, since Electron itself cannot start everywhere). A random token, printed in the URL, guards the
 * WebSocket (the only door to the API): the page sends it explicitly on the WebSocket's URL (`/ws?token=`) or a
 * client in the `x-finetune-token` header; it never travels in a cookie, which every other port on 127.0.0.1 would
 * receive. Every request needs this server's own Host (no DNS rebinding), the WebSocket also its own Origin or none.
 * No byte sequence on any socket ends the process (error handlers everywhere, a URL decode that cannot throw) and a
 * client's work is bounded (connections, requests in flight, long requests, frame size, unsent replies: bridge.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { StudioService } from '../app/service';
import type { BackendChoice } from '../core/tf/backend';
import { BRIDGE_LIMITS, serveBridge } from './bridge';

export interface HeadlessOptions {
  home: string;
  backend: BackendChoice;
  port?: number;
  rendererDir?: string;
  token?: string;
}

export interface HeadlessServer {
  url: string;
  port: number;
  token: string;
  service: StudioService;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** A WebSocket frame's largest payload; ws closes the connection (1009) on a bigger one. */
export const MAX_FRAME_BYTES = 1 << 20;
/** Open WebSockets at once (a browser tab holds one); more are answered 503. */
export const MAX_WEBSOCKETS = 16;
/** Sockets at once, WebSockets included; more are closed as they connect. */
const MAX_HTTP_CONNECTIONS = 64;

function rejectUpgrade(socket: Duplex, status: string): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  socket.destroy();
}

export function defaultRendererDir(): string {
  return fileURLToPath(new URL('../../out/renderer', import.meta.url));
}

function sameToken(a: string | undefined | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The request target's percent-decoded path and its `?token=`; null for a target that does not parse. */
export function parseTarget(raw: string | undefined): { path: string; token: string | null } | null {
  try {
    const url = new URL(raw ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    return path.includes('\0') ? null : { path, token: url.searchParams.get('token') };
  } catch {
    // new URL on a target like "//[" and decodeURIComponent on "%E0%A4%A" throw.
    return null;
  }
}

function headerToken(req: IncomingMessage): string | undefined {
  const value = req.headers['x-finetune-token'];
  return Array.isArray(value) ? undefined : value;
}

export async function startHeadless(opts: HeadlessOptions): Promise<HeadlessServer> {
  const rendererDir = resolve(opts.rendererDir ?? defaultRendererDir());
  if (!existsSync(join(rendererDir, 'index.html'))) {
    throw new Error(`The renderer is not built (${rendererDir}/index.html missing): run "npm run build" first.`);
  }
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const service = new StudioService({ home: opts.home, backend: opts.backend, mode: 'headless' });
  let port = 0;
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`];
  const csp = () =>
    `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; ` +
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'`;

  const hostOk = (req: IncomingMessage) => allowedHosts().includes(req.headers.host ?? '');
  const refuse = (res: ServerResponse, status: number, text: string) =>
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(text);

  // Static files are the app's own public code and need no token (the browser sends none with a page's scripts
  // and styles, and no cookie carries it: cookies are not scoped by port, so every page on 127.0.0.1 would get it).
  // The Host check stays: a page on a rebinding DNS name cannot read them through this port.
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.on('error', () => res.destroy());
    const target = parseTarget(req.url);
    if (!hostOk(req)) return refuse(res, 403, 'Forbidden: unknown Host.');
    if (!target) return refuse(res, 400, 'Bad request: the address does not parse.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Only GET and HEAD.');
    const rel = target.path === '/' ? 'index.html' : target.path.replace(/^\/+/, '');
    const file = normalize(join(rendererDir, rel));
    let body: Buffer;
    try {
      if (!file.startsWith(rendererDir + sep) || !statSync(file).isFile()) throw new Error('not a file');
      body = readFileSync(file);
    } catch {
      return refuse(res, 404, 'Not found');
    }
    res
      .writeHead(200, {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'content-security-policy': csp(),
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      })
      .end(req.method === 'HEAD' ? undefined : body);
  });
  // A malformed request (bad request line, header, size) or a socket error: answer 400 if the socket still can.
  server.on('clientError', (_err, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    socket.destroy();
  });
  server.maxConnections = MAX_HTTP_CONNECTIONS;
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Once upgraded, the HTTP server no longer watches this socket: an error on it would otherwise be unhandled.
    socket.on('error', () => socket.destroy());
    const target = parseTarget(req.url);
    const origin = req.headers.origin;
    const originOk = !origin || allowedHosts().some((h) => origin === `http://${h}`);
    const authorised = sameToken(target?.token, token) || sameToken(headerToken(req), token);
    if (!target || target.path !== '/ws' || !hostOk(req) || !originOk || !authorised) {
      return rejectUpgrade(socket, '403 Forbidden');
    }
    if (wss.clients.size >= MAX_WEBSOCKETS) return rejectUpgrade(socket, '503 Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('error', (err) => console.error(`finetune serve: ${err.message}`));
  const stopEvents = serveBridge(wss, service, BRIDGE_LIMITS);

  try {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(opts.port ?? 0, '127.0.0.1', () => {
        server.off('error', fail);
        ok();
      });
    });
  } catch (err) {
    stopEvents();
    await service.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new Error(`port ${opts.port} on 127.0.0.1 is in use; pick another with --port`, { cause: err });
    if (code === 'EACCES')
      throw new Error(`port ${opts.port} on 127.0.0.1 is not allowed for this user`, { cause: err });
    throw err;
  }
  // After listening, an error (e.g. too many open files on accept) is reported and the server goes on.
  server.on('error', (err) => console.error(`finetune serve: ${err.message}`));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    service,
    async close() {
      stopEvents();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((ok) => wss.close(() => ok()));
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
      await service.close();
    },
  };
}
