import { describe, expect, it } from '@jest/globals';
import { NotPossible, XfedError } from '../../../src/errors.js';
import { Step } from '../../../src/steps/index.js';
import { applyStep, idleSfbUser, recordingDeployment } from '../../helpers/steps.js';

describe('the Edge pool steps', () => {
  it.each([
    [{ action: 'edge-pool', pool: 'edge-a', state: 'down' }, 'take Edge pool edge-a down', ['setEdgePool', 'edge-a', { state: 'down', priority: undefined }]],
    [
      { action: 'edge-pool', pool: 'edge-b', state: 'up', priority: 5 },
      'take Edge pool edge-b back up, give the SRV records of Edge pool edge-b priority 5',
      ['setEdgePool', 'edge-b', { state: 'up', priority: 5 }],
    ],
    [
      { action: 'edge-pool', pool: 'edge-c', priority: 'none' },
      'remove the SRV records of Edge pool edge-c',
      ['setEdgePool', 'edge-c', { state: undefined, priority: null }],
    ],
    [{ action: 'xmpp-failover', to: 'edge-b' }, 'fail XMPP federation over to Edge pool edge-b', ['failOverXmpp', 'edge-b']],
    [
      { action: 'renew-certificate', certificate: 'missing-bare-domain-san', domain: 'fabrikam.test' },
      'renew the Edge certificate (missing-bare-domain-san for fabrikam.test)',
      ['renewEdgeCertificate', 'missing-bare-domain-san', 'fabrikam.test'],
    ],
  ])('%j reads "%s" and asks the deployment %j', async (raw, description, call) => {
    const { deployment, calls } = recordingDeployment();
    const r = await applyStep(raw, { deployment, sfbUser: idleSfbUser });
    expect(r).toMatchObject({ description, appliesTo: 'sim' });
    expect(calls).toEqual([call]);
  });

  it('an edge-pool step that names nothing to change is refused before it reaches the deployment', async () => {
    const { deployment, calls } = recordingDeployment();
    await expect(applyStep({ action: 'edge-pool', pool: 'edge-a' }, { deployment, sfbUser: idleSfbUser })).rejects.toThrow(
      new XfedError('the edge-pool step needs state, priority, or both'),
    );
    expect(calls).toEqual([]);
  });

  it('take pool names that are DNS labels, and SRV priorities of 16 bits', () => {
    expect(() => Step.parse({ action: 'edge-pool', pool: 'Edge_A', state: 'down' })).toThrow(/DNS label/);
    expect(() => Step.parse({ action: 'edge-pool', pool: 'edge-a', priority: 65536 })).toThrow();
  });

  it('are not possible against a real gateway, whose lab people change', async () => {
    await expect(applyStep({ action: 'xmpp-failover', to: 'edge-b' }, { deployment: undefined, sfbUser: idleSfbUser })).rejects.toThrow(NotPossible);
  });
});
