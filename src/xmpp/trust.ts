import tls from 'node:tls';

/**
 * @xmpp/client passes no TLS options to STARTTLS, so a per-run test CA cannot reach it through its
 * API, and NODE_EXTRA_CA_CERTS is read only at process start. xfed therefore wraps `tls.connect`
 * once: a connection whose server name is a registered test domain trusts that domain's test CA in
 * addition to the system roots. Verification stays on for every connection; other names are untouched.
 */
const trustByServername = new Map<string, string[]>();
let installed = false;

export function trustTestCa(domain: string, pem: string): () => void {
  install();
  const key = domain.toLowerCase();
  const list = trustByServername.get(key) ?? [];
  list.push(pem);
  trustByServername.set(key, list);
  return () => {
    const current = trustByServername.get(key);
    if (!current) return;
    const i = current.indexOf(pem);
    if (i >= 0) current.splice(i, 1);
    if (current.length === 0) trustByServername.delete(key);
  };
}

function install(): void {
  if (installed) return;
  installed = true;
  const original = tls.connect;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const options = args.find((a): a is tls.ConnectionOptions => typeof a === 'object' && a !== null);
    const name = (options?.servername ?? options?.host)?.toLowerCase();
    const pems = name ? trustByServername.get(name) : undefined;
    if (options && pems && options.ca === undefined) {
      options.ca = [...tls.rootCertificates, ...pems];
      options.servername ??= name;
    }
    return (original as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
  };
  (tls as { connect: unknown }).connect = wrapped;
}
