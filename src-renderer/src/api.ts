/**
 * The renderer's only door to the backend. `getStudioApi()` returns a `StudioApi` (the shared contract); which
 * transport carries it is decided here and nowhere else:
 *
 * - Electron: the sandboxed preload exposes the API on `window[BRIDGE_GLOBAL]`; it validates at the boundary.
 * - Headless (browser): a WebSocket to `/ws?token=…` on the page's own host (the token is sent explicitly, never
 *   in a cookie: see `accessToken`), framed per the contract
 *   (RequestFrame out, ResponseFrame / EventFrame in); params are validated before sending, results and
 *   events on receipt.
 *
 * The connection state (for the "Connection lost" banner) is published through `onConnectionChange`.
 */
import { EventSubscribers } from '../../src-shared/events';
import {
  BRIDGE_GLOBAL,
  ResponseFrame,
  parseParams,
  parseResult,
  type EventName,
  type EventPayload,
  type Method,
  type Params,
  type PreloadBridge,
  type Reply,
  type RequestFrame,
  type Result,
  type StudioApi,
} from '../../src-shared/contract';
import { say } from './i18n/i18n.svelte';

export type ConnectionStatus = 'connecting' | 'open' | 'lost';

export interface ConnectionState {
  status: ConnectionStatus;
  /** Human-readable explanation when the connection is not open. */
  detail: string | null;
  /** Seconds until the next automatic reconnection attempt, when one is scheduled. */
  retryInSeconds: number | null;
  /** Whether the user can ask for a reconnection (false for the Electron bridge, which cannot drop). */
  canReconnect: boolean;
}

type StateListener = (state: ConnectionState) => void;

interface Pending {
  method: Method;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

const RETRY_DELAYS_S = [1, 2, 4, 8, 15];

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message.replace(/^Error:\s*/, '');
  return String(error);
}

/**
 * The error a failed request throws: a message the core raised as a code is said in the user's language (the
 * `messages` catalogs); other errors keep the server's text.
 */
function replyError(reply: { error: string; message?: { code: string; params: Record<string, string | number> } }) {
  return new Error(say(reply.message, reply.error));
}

function isPreloadBridge(value: unknown): value is PreloadBridge {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { invoke?: unknown; on?: unknown };
  return typeof candidate.invoke === 'function' && typeof candidate.on === 'function';
}

/** Connection state shared by both transports. */
class StateHub {
  private state: ConnectionState;
  private readonly listeners = new Set<StateListener>();

  constructor(initial: ConnectionState) {
    this.state = initial;
  }

  get current(): ConnectionState {
    return this.state;
  }

  set(next: Partial<ConnectionState>): void {
    this.state = { ...this.state, ...next };
    for (const listener of this.listeners) listener(this.state);
  }

  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }
}

/** Wraps the Electron preload bridge: it is already validated and cannot drop. */
function electronTransport(bridge: PreloadBridge, hub: StateHub): { api: StudioApi; reconnect: () => void } {
  hub.set({ status: 'open', detail: null, retryInSeconds: null, canReconnect: false });
  const api: StudioApi = {
    async invoke<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
      let reply: Reply;
      try {
        reply = await bridge.invoke(method, params);
      } catch (error) {
        // Electron prefixes errors crossing ipcRenderer.invoke with "Error invoking remote method …".
        const message = errorMessage(error).replace(/^Error invoking remote method '[^']*':\s*(Error:\s*)?/, '');
        throw new Error(message, { cause: error });
      }
      if (!reply.ok) throw replyError(reply);
      return reply.result as Result<M>;
    },
    on: (event, handler) => bridge.on(event, handler),
    ...(bridge.pathForFile ? { pathForFile: (file: File) => bridge.pathForFile!(file) } : {}),
  };
  return { api, reconnect: () => undefined };
}

/** The headless transport: one WebSocket, reconnecting with backoff. */
class WebSocketTransport implements StudioApi {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly events = new EventSubscribers((message, error) =>
    console.error(`Finetune Studio: ${message}`, error),
  );
  private openWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private everOpened = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private countdownTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly url: string,
    private readonly displayUrl: string,
    private readonly hasToken: boolean,
    private readonly hub: StateHub,
  ) {
    this.connect();
  }

  invoke<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    let checked: unknown;
    try {
      checked = parseParams(method, params);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.whenOpen()
      .then(() => this.send(method, checked))
      .then((raw) => parseResult(method, raw));
  }

  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
    return this.events.on(event, handler);
  }

  /** Reconnect now (the banner's button), skipping the remaining backoff delay. */
  reconnect(): void {
    if (this.hub.current.status !== 'lost') return;
    this.attempt = 0;
    this.connect();
  }

  private whenOpen(): Promise<void> {
    const status = this.hub.current.status;
    if (status === 'open' && this.socket?.readyState === WebSocket.OPEN) return Promise.resolve();
    if (status === 'lost') {
      return Promise.reject(new Error(`Not connected to the Finetune Studio server. ${this.hub.current.detail ?? ''}`));
    }
    return new Promise((resolve, reject) => this.openWaiters.push({ resolve, reject }));
  }

  private send(method: Method, params: unknown): Promise<unknown> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error(`Not connected to the Finetune Studio server; "${method}" was not sent.`));
    }
    const id = this.nextId++;
    const frame: RequestFrame = { id, method, params };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      try {
        socket.send(JSON.stringify(frame));
      } catch (error) {
        this.pending.delete(id);
        reject(new Error(`Could not send "${method}": ${errorMessage(error)}`, { cause: error }));
      }
    });
  }

  private connect(): void {
    this.clearTimers();
    this.hub.set({ status: 'connecting', detail: null, retryInSeconds: null, canReconnect: false });
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch (error) {
      this.onClosed(`Could not open ${this.displayUrl}: ${errorMessage(error)}`);
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      if (this.socket !== socket) return;
      this.everOpened = true;
      this.attempt = 0;
      this.hub.set({ status: 'open', detail: null, retryInSeconds: null, canReconnect: false });
      const waiters = this.openWaiters;
      this.openWaiters = [];
      for (const waiter of waiters) waiter.resolve();
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (this.socket === socket) this.onMessage(event.data);
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.onClosed(this.describeClose(event));
    });
    // 'error' is always followed by 'close', which does the bookkeeping.
  }

  private describeClose(event: CloseEvent): string {
    const reason = event.reason
      ? ` (${event.reason})`
      : event.code && event.code !== 1006
        ? ` (code ${event.code})`
        : '';
    if (!this.hasToken) {
      return (
        `The page address has no "?token=…", so the server at ${this.displayUrl} refused the connection${reason}. ` +
        'Open the exact address printed by "npm run serve".'
      );
    }
    if (!this.everOpened) {
      return (
        `Could not reach the Finetune Studio server at ${this.displayUrl}${reason}. ` +
        'Is it running? Start it with "npm run serve" and open the address it prints.'
      );
    }
    return `The server at ${this.displayUrl} closed the connection${reason}.`;
  }

  private onClosed(detail: string): void {
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const waiter of waiters) waiter.reject(new Error(`Connection lost: ${detail}`));
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      p.reject(new Error(`Connection lost before "${p.method}" answered: ${detail}`));
    }
    this.scheduleRetry(detail);
  }

  private scheduleRetry(detail: string): void {
    this.clearTimers();
    const delay = RETRY_DELAYS_S[Math.min(this.attempt, RETRY_DELAYS_S.length - 1)] ?? 15;
    this.attempt++;
    let left = delay;
    this.hub.set({ status: 'lost', detail, retryInSeconds: left, canReconnect: true });
    this.countdownTimer = setInterval(() => {
      left = Math.max(0, left - 1);
      this.hub.set({ retryInSeconds: left });
    }, 1000);
    this.retryTimer = setTimeout(() => this.connect(), delay * 1000);
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.countdownTimer !== null) clearInterval(this.countdownTimer);
    this.retryTimer = null;
    this.countdownTimer = null;
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let frame: unknown;
    try {
      frame = JSON.parse(data);
    } catch {
      console.error('Finetune Studio: ignoring a frame that is not JSON');
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    if ('id' in frame) {
      this.onResponse(frame);
    } else if ('event' in frame) {
      this.onEvent(frame);
    }
  }

  private onResponse(frame: object): void {
    const parsed = ResponseFrame.safeParse(frame);
    if (!parsed.success) {
      console.error('Finetune Studio: malformed response frame', parsed.error.issues);
      return;
    }
    const reply = parsed.data;
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.result);
    else pending.reject(replyError(reply));
  }

  private onEvent(frame: object): void {
    this.events.dispatch(frame);
  }
}

/** Used when neither the Electron bridge nor an http(s) page host is available (e.g. the file opened directly). */
function unavailableTransport(hub: StateHub, detail: string): StudioApi {
  hub.set({ status: 'lost', detail, retryInSeconds: null, canReconnect: false });
  return {
    invoke: () => Promise.reject(new Error(detail)),
    on: () => () => undefined,
  };
}

interface Connection {
  api: StudioApi;
  reconnect: () => void;
}

const hub = new StateHub({ status: 'connecting', detail: null, retryInSeconds: null, canReconnect: false });
let connection: Connection | null = null;

function createConnection(): Connection {
  const bridge: unknown = (window as unknown as Record<string, unknown>)[BRIDGE_GLOBAL];
  if (isPreloadBridge(bridge)) return electronTransport(bridge, hub);

  if (location.protocol !== 'http:' && location.protocol !== 'https:') {
    const detail =
      'No backend: this page was opened without the Electron app or the Finetune Studio server. ' +
      'Start it with "npm run app" or "npm run serve".';
    return { api: unavailableTransport(hub, detail), reconnect: () => undefined };
  }

  const token = accessToken();
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const base = `${scheme}//${location.host}/ws`;
  const transport = new WebSocketTransport(`${base}?token=${encodeURIComponent(token)}`, base, token !== '', hub);
  return { api: transport, reconnect: () => transport.reconnect() };
}

const TOKEN_KEY = 'finetune-token';

/**
 * The server's access token: from the page address (`?token=…`, as printed by the server), kept in this tab's
 * sessionStorage so the page still connects when reopened without it. sessionStorage belongs to this origin (port
 * included), unlike a cookie, which the browser would also send to every other port on the same host.
 */
function accessToken(): string {
  const fromUrl = new URLSearchParams(location.search).get('token');
  try {
    if (fromUrl) sessionStorage.setItem(TOKEN_KEY, fromUrl);
    return fromUrl ?? sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    // Storage can be disabled; the address still carries the token.
    return fromUrl ?? '';
  }
}

function ensureConnection(): Connection {
  connection ??= createConnection();
  return connection;
}

/** The API, whichever transport carries it. Created on first use. */
export function getStudioApi(): StudioApi {
  return ensureConnection().api;
}

/** Subscribe to connection-state changes; the listener is called immediately with the current state. */
export function onConnectionChange(listener: StateListener): () => void {
  ensureConnection();
  return hub.subscribe(listener);
}

/** Ask for an immediate reconnection attempt (no-op unless the connection is lost). */
export function reconnectNow(): void {
  ensureConnection().reconnect();
}

/** The message of an error thrown by `invoke`, for display. */
export { errorMessage };
