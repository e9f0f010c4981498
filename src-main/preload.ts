/**
 * Electron preload (sandboxed, context-isolated): exposes the typed StudioApi and nothing else.
 * Every request and event is validated here, at the boundary, with the shared contract.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { BRIDGE_GLOBAL, IPC_EVENT_CHANNEL, parseParams, parseResult } from '../src-shared/contract';
import type { Method, Params, Result, StudioApi } from '../src-shared/contract';
import { EventSubscribers } from '../src-shared/events';

const events = new EventSubscribers((message, error) => console.error(`Finetune Studio: ${message}`, error));
ipcRenderer.on(IPC_EVENT_CHANNEL, (_e: IpcRendererEvent, frame: unknown) => events.dispatch(frame));

const api: StudioApi = {
  async invoke<M extends Method>(method: M, params: Params<M>): Promise<Result<M>> {
    const checked = parseParams(method, params);
    const reply = (await ipcRenderer.invoke(`finetune:${method}`, checked)) as
      { ok: true; result: unknown } | { ok: false; error: string };
    if (!reply.ok) throw new Error(reply.error);
    return parseResult(method, reply.result);
  },
  on: (event, handler) => events.on(event, handler),
  // A folder dragged onto the window: Electron's File has no `path` any more; webUtils gives it (empty if none).
  pathForFile: (file) => webUtils.getPathForFile(file),
};

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, api);
