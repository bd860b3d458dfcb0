/** The sample Grafana dashboard's shape, as the tests read it. */
export const DASHBOARD_FILE = new URL('../../docs/grafana/xfed-watch.json', import.meta.url);

export interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
export interface Panel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
export interface Dashboard {
  __inputs?: { name: string; type: string; pluginId: string }[];
  __requires?: { type: string; id: string }[];
  schemaVersion?: number;
  uid?: string;
  title?: string;
  panels?: Panel[];
  annotations?: { list?: { builtIn?: number; expr?: string; datasource?: { uid?: string } }[] };
  templating?: { list?: { name: string; query?: string | { query?: string }; datasource?: { uid?: string } }[] };
}

/** Every panel, those inside collapsed rows included. */
export function allPanels(d: Dashboard): Panel[] {
  return (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL expression of the dashboard, with where it is. */
export function expressions(d: Dashboard): [string, string][] {
  const out: [string, string][] = [];
  for (const p of allPanels(d)) for (const t of p.targets ?? []) out.push([`panel "${p.title}" ${t.refId}`, t.expr ?? '']);
  for (const a of d.annotations?.list ?? []) if (!a.builtIn) out.push([`annotation`, a.expr ?? '']);
  for (const v of d.templating?.list ?? []) out.push([`variable ${v.name}`, typeof v.query === 'string' ? v.query : (v.query?.query ?? '')]);
  return out;
}
