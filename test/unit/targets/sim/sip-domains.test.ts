import { describe, expect, it } from '@jest/globals';
import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import type { BehaviourId } from '../../../../src/sfb/behaviours/index.js';
import { DomainLinks } from '../../../../src/targets/sim/gateway/domain-links.js';
import { SfbDirectory } from '../../../../src/targets/sim/pool/directory.js';
import { FakeXmppLink } from '../../../helpers/fake-xmpp-link.js';

const message = (from: string, body: string) => xml('message', { from, to: 'alice@partner.test' }, xml('body', {}, body));
const bodies = (stanzas: Element[]) => stanzas.map((s) => s.getChildText('body'));

describe('SfbDirectory with several SIP domains', () => {
  const directory = new SfbDirectory(
    'contoso.test',
    [
      { name: 'erin', pool: 'legacy' },
      { name: 'fiona', pool: 'legacy', domain: 'Fabrikam.test' },
    ],
    ['fabrikam.test'],
  );

  it('gives each user a SIP URI in his own domain, the primary by default, and finds him there only', () => {
    expect(directory.get('fiona')).toMatchObject({ domain: 'fabrikam.test', uri: 'sip:fiona@fabrikam.test' });
    expect(directory.get('erin')).toMatchObject({ domain: 'contoso.test', uri: 'sip:erin@contoso.test' });
    expect(directory.at('fiona', 'FABRIKAM.test')?.name).toBe('fiona');
    expect(directory.at('fiona', 'contoso.test')).toBeUndefined();
    expect(directory.at('erin', 'fabrikam.test')).toBeUndefined();
    expect(directory.isSfbDomain('fabrikam.test')).toBe(true);
    expect(directory.isSfbDomain('partner.test')).toBe(false);
  });

  it('refuses a user in a domain the deployment does not have', () => {
    expect(() => new SfbDirectory('contoso.test', [{ name: 'gus', pool: 'legacy', domain: 'other.test' }])).toThrow(
      'SfB user gus@other.test: other.test is not a SIP domain of the deployment (contoso.test)',
    );
  });
});

describe('DomainLinks (one component connection per SIP domain)', () => {
  const connect = async () => {
    const links = new Map<string, FakeXmppLink>();
    const cited: BehaviourId[] = [];
    const link = await DomainLinks.connect(
      ['contoso.test', 'fabrikam.test'],
      async (domain) => {
        const l = new FakeXmppLink();
        links.set(domain, l);
        return l;
      },
      (id) => cited.push(id),
    );
    return { link, links, cited };
  };

  it('sends each stanza on the connection of its from domain, consecutive ones of a domain in one write', async () => {
    const { link, links, cited } = await connect();
    await link.send(message('fiona@fabrikam.test/pc', 'one'));
    await link.write([message('erin@contoso.test', 'two'), message('erin@contoso.test', 'three'), message('fiona@fabrikam.test', 'four')]);
    expect(links.get('contoso.test')!.writes.map(bodies)).toEqual([['two', 'three']]);
    expect(links.get('fabrikam.test')!.writes.map(bodies)).toEqual([['one'], ['four']]);
    expect(cited).toContain('edge.sip-domains');
  });

  it('reads every connection as one stream', async () => {
    const { link, links } = await connect();
    const got: Element[] = [];
    link.on('stanza', (s: Element) => got.push(s));
    links.get('fabrikam.test')!.deliver(message('alice@partner.test', 'in fabrikam'));
    links.get('contoso.test')!.deliver(message('alice@partner.test', 'in contoso'));
    expect(bodies(got)).toEqual(['in fabrikam', 'in contoso']);
  });

  it('closes the connections that opened when one cannot', async () => {
    const opened: FakeXmppLink[] = [];
    await expect(
      DomainLinks.connect(
        ['contoso.test', 'fabrikam.test'],
        async (domain) => {
          if (domain === 'fabrikam.test') throw new Error('no component for fabrikam.test');
          const l = new FakeXmppLink();
          opened.push(l);
          return l;
        },
        () => {},
      ),
    ).rejects.toThrow('no component for fabrikam.test');
    expect(opened.map((l) => l.stopped)).toEqual([true]);
  });

  it('gives a single domain its connection as it is', async () => {
    const only = new FakeXmppLink();
    expect(
      await DomainLinks.connect(
        ['contoso.test'],
        async () => only,
        () => {},
      ),
    ).toBe(only);
  });
});
