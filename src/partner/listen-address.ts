import net from 'node:net';
import { EnvironmentError } from '../errors.js';
import type { Endpoint } from '../infra/endpoint.js';
import { holderOfPort } from '../infra/port-holder.js';

/**
 * Fails at once, in one line, when `address` cannot be listened on: the address, who holds it
 * where the machine tells, and `fix`. A server started there would only log its failure (Prosody
 * keeps running without the listener), so this is asked before one starts.
 */
export async function expectListenable(address: Endpoint, what: string, fix: string): Promise<void> {
  const server = net.createServer();
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    server.once('error', resolve);
    server.listen({ host: address.host, port: address.port, exclusive: true }, () => resolve(undefined));
  });
  if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!error) return;
  const where = `${address.host}:${address.port}`;
  if (error.code === 'EADDRINUSE') {
    const holder = holderOfPort(address.port);
    throw new EnvironmentError(`${what} ${where} is taken${holder ? ` by ${holder}` : ' by another program'}: ${fix}`);
  }
  if (error.code === 'EADDRNOTAVAIL') throw new EnvironmentError(`${what} ${where}: this machine has no such address: ${fix}`);
  if (error.code === 'EACCES') throw new EnvironmentError(`${what} ${where}: a port below 1024 needs privileges: ${fix}`);
  throw new EnvironmentError(`${what} ${where} cannot be listened on (${error.message}): ${fix}`);
}
