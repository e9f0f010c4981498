/**
 * Headless mode: the same StudioService over HTTP + WebSocket on 127.0.0.1 only, for a browser (and for the
 * end-to-end tests, since Electron itself cannot start everywhere). A random token is required on every
 * request: from the printed URL's `?token=`, then from an HttpOnly same-site cookie.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import { RequestFrame, type EventFrame, type ResponseFrame } from '../../src-shared/contract';
import { StudioService } from '../app/service';
import type { BackendChoice } from '../core/tf/backend';

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

export function defaultRendererDir(): string {
  return fileURLToPath(new URL('../../out/renderer', import.meta.url));
}

function sameToken(a: string | undefined | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(req: IncomingMessage): string | undefined {
  const m = /(?:^|;\s*)ft_token=([^;]+)/.exec(req.headers.cookie ?? '');
  return m?.[1];
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

  const authorised = (req: IncomingMessage, url: URL) =>
    allowedHosts().includes(req.headers.host ?? '') &&
    (sameToken(url.searchParams.get('token'), token) ||
      sameToken(cookieToken(req), token) ||
      sameToken(req.headers['x-finetune-token'] as string | undefined, token));

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (!authorised(req, url)) {
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end('Forbidden: open the URL printed by "finetune serve" (it carries the access token).');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
    const file = normalize(join(rendererDir, rel));
    if (!file.startsWith(rendererDir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    const headers: Record<string, string> = {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': csp(),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    if (url.searchParams.has('token')) headers['set-cookie'] = `ft_token=${token}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = req.headers.origin;
    const originOk = !origin || allowedHosts().some((h) => origin === `http://${h}`);
    if (url.pathname !== '/ws' || !originOk || !authorised(req, url)) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const send = (ws: WebSocket, frame: ResponseFrame | EventFrame) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', async (data) => {
      let frame: RequestFrame;
      try {
        frame = RequestFrame.parse(JSON.parse(data.toString()));
      } catch {
        send(ws, { id: -1, ok: false, error: 'Malformed request frame' });
        return;
      }
      try {
        send(ws, { id: frame.id, ok: true, result: await service.handle(frame.method, frame.params) });
      } catch (err) {
        send(ws, { id: frame.id, ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    });
  });
  const unsubscribe = service.onEvent((event, payload) => {
    for (const ws of wss.clients) send(ws, { event, payload });
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => ok());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    service,
    async close() {
      unsubscribe();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((ok) => wss.close(() => ok()));
      await new Promise<void>((ok) => server.close(() => ok()));
      await service.close();
    },
  };
}
