import { defineStep, deploymentOf, type SimFault } from './step.js';

/*
 * Faults of the simulated side, as they happen in the field rather than as an administrator's
 * change: a process killed (a crash, the OOM killer), a name service down. A suite injects one
 * where the rehearsal wants to see what partners get, and the checks after it judge that; the
 * target's diagnosis names the fault in effect when an answer never comes.
 */

function faultStep<const A extends SimFault>(action: A, description: string, describe: string) {
  return defineStep({
    action,
    fields: {},
    description,
    appliesTo: 'sim',
    describe: () => describe,
    apply: (s, ctx) => deploymentOf(ctx, s.action).injectFault(action),
  });
}

/** The Edge's XMPP proxy (its Prosody) killed with SIGKILL: streams and the gateway's component connection drop with no close. */
const killEdgeStep = faultStep(
  'kill-edge',
  "Kill the legacy Edge's Prosody with SIGKILL (a crash): its streams drop with no close, its port refuses connections until restart-edge",
  "kill the legacy Edge's Prosody (SIGKILL)",
);

/** The Edge's Prosody started again on its ports (after kill-edge), or restarted; the gateway attaches again. */
const restartEdgeStep = faultStep(
  'restart-edge',
  "Start the legacy Edge's Prosody again after kill-edge (or restart it), on the same ports; the gateway attaches again",
  "restart the legacy Edge's Prosody",
);

/** The gateway's component crashes: its connection to the Edge drops with no close, its SIP dialogs are lost. */
const killComponentStep = faultStep(
  'kill-component',
  "Crash the XMPP gateway's component: its connection to the Edge drops with no stream close and the SIP dialogs it held are lost, until a gateway step starts it",
  "crash the XMPP gateway's component",
);

/** The test DNS stops answering: every lookup of the partner and the Edge times out. */
const stopDnsStep = faultStep(
  'stop-dns',
  'Stop the DNS server the partner and the Edge resolve each other with: new lookups time out until start-dns',
  'stop the DNS server (lookups time out)',
);

const startDnsStep = faultStep('start-dns', 'Start the DNS server again after stop-dns, on the same address', 'start the DNS server again');

/** The fault steps, in the order the format lists them. */
export const FAULT_STEP_KINDS = [killEdgeStep, restartEdgeStep, killComponentStep, stopDnsStep, startDnsStep] as const;
