// @xmpp/connection-tcp ships no types (DefinitelyTyped has @xmpp/connection's, which it extends).
declare module '@xmpp/connection-tcp' {
  import Connection from '@xmpp/connection';
  /** A stream over TCP (`xmpp://host:port`); the part xfed's component builds on. */
  export default class ConnectionTCP extends Connection {
    socketParameters(service: string): object | undefined;
    headerElement(): import('@xmpp/xml').Element;
    /** The socket class `start()` connects with (node's net.Socket); set on an instance for another transport. */
    Socket: Connection['Socket'];
    protected isStanza(element: import('@xmpp/xml').Element): boolean;
    protected _jid(id: string): unknown;
    protected _status(status: string, ...args: unknown[]): void;
  }
}
