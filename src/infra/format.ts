import { z } from 'zod';

/**
 * The building blocks every section of the suite format is made of (the partner, each target,
 * each check and step kind): names, durations and addresses, each with the message a suite author
 * sees when a value is wrong. One definition each, so a domain is checked the same way in a suite
 * file, in a partner profile and in the API.
 */

/** RFC 1123 host names of at least two labels, as federating domains are: `partner.test`. Lowercase. */
const DOMAIN_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/** Whether `name` is a domain name in any case (domains compare case-insensitively). */
export function isDomainName(name: string): boolean {
  return DOMAIN_NAME.test(name.toLowerCase());
}

export const DomainName = z.string().regex(DOMAIN_NAME, 'a DNS domain name such as partner.test');

export const UserName = z.string().min(1).describe('A localpart: the user name without @domain');

/** Suite, phase and check names: they become file names and ids. */
export const Name = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" and "-"');

/** `500ms`, `2s`, `1.5s`, `1m`, or a number of milliseconds. */
export const Duration = z
  .union([z.number().int().positive(), z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, 'a duration such as 500ms, 2s or 1m')])
  .describe('A duration: 500ms, 2s, 1m, or milliseconds as a number');
export type Duration = z.infer<typeof Duration>;

export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(d)!;
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm']);
}

/** A host and, optionally, a port, as a suite names a server. */
export const Address = z
  .strictObject({
    host: z
      .string()
      .regex(/^[A-Za-z0-9.:_-]+$/, 'a host name or an IP address')
      .describe('A host name or an IP address'),
    port: z.number().int().min(1).max(65535).optional(),
  })
  .describe('A host and, optionally, a port');
export type Address = z.infer<typeof Address>;

/**
 * Fields of one check or step that can never be met together, declared by its kind: `at` is the
 * field the validator points at (the one to change), `why` says what is wrong with this entry, or
 * undefined where nothing is.
 */
export interface Conflict<E> {
  readonly at: string;
  why(entry: E): string | undefined;
}

/**
 * What a field of a step or check names, which the validator looks up in the suite: an SfB user
 * or a partner user, a partner domain (the suite's `partner.domains`), a SIP domain of the SfB
 * side, or one of the simulated legacy Edge pools.
 */
export type SuiteReference = 'sfb-user' | 'partner-user' | 'partner-domain' | 'sip-domain' | 'edge-pool';
