// @xmpp/component ships no types (and DefinitelyTyped has none): the part xfed uses.
declare module '@xmpp/component' {
  import type { Element } from 'ltx';
  import type { EventEmitter } from 'node:events';

  export interface Component extends EventEmitter {
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: Element): Promise<void>;
    /** Raw write of serialized XML on the stream. */
    write(data: string): Promise<void>;
    reconnect: { stop(): void };
  }

  export function component(options: { service: string; domain: string; password: string }): Component;
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: Array<Element | string>): Element;
}
