/**
 * Electron preload (sandboxed, context-isolated): exposes the typed StudioApi and nothing else.
 * Every request and event is validated here, at the boundary, with the shared contract.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { BRIDGE_GLOBAL, IPC_EVENT_CHANNEL, parseParams, parseResult, Reply } from '../src-shared/contract';
import type { Method, Params, PreloadBridge } from '../src-shared/contract';
import { EventSubscribers } from '../src-shared/events';

const events = new EventSubscribers((message, error) => console.error(`Finetune Studio: ${message}`, error));
ipcRenderer.on(IPC_EVENT_CHANNEL, (_e: IpcRendererEvent, frame: unknown) => events.dispatch(frame));

const api: PreloadBridge = {
  async invoke<M extends Method>(method: M, params: Params<M>): Promise<Reply> {
    const checked = parseParams(method, params);
    const reply = Reply.parse(await ipcRenderer.invoke(`finetune:${method}`, checked));
    return reply.ok ? { ok: true, result: parseResult(method, reply.result) } : reply;
  },
  on: (event, handler) => events.on(event, handler),
  // A folder dragged onto the window: Electron's File has no `path` any more; webUtils gives it (empty if none).
  pathForFile: (file) => webUtils.getPathForFile(file),
};

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, api);
