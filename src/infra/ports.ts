import getPort from 'get-port';

/**
 * A free TCP port on loopback. get-port also remembers the ports it handed out for a while, so
 * two servers started back to back in one run never get the same one.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return getPort({ host });
}
