// @xmpp/component-core ships no types (and DefinitelyTyped has none): the part xfed uses.
declare module '@xmpp/component-core' {
  import type { Element } from 'ltx';
  import type { EventEmitter } from 'node:events';

  /** A XEP-0114 component connection, without @xmpp/component's automatic IQ answers. */
  export class Component extends EventEmitter {
    constructor(options: { service: string; domain: string });
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: Element): Promise<void>;
    /** Raw write of serialized XML on the stream. */
    write(data: string): Promise<void>;
    authenticate(id: string, password: string): Promise<void>;
    socket?: { setNoDelay?: (on: boolean) => void };
    /** The socket class `start()` connects with (node's net.Socket); set on an instance for another transport. */
    Socket: new () => EventEmitter & { connect(params: object): void; write(data: string, cb?: (err?: Error | null) => void): void; end(): void };
    /** What `Socket#connect` is given for the service URI. */
    socketParameters(service: string): object | undefined;
  }
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: Array<Element | string>): Element;
}
