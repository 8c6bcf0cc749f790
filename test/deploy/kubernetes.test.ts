import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';

const ROOT = join(import.meta.dirname, '../..');
const KUBECTL = '/usr/bin/kubectl';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: any };

/** Each kind we ship: its model (validates against the Kubernetes schema) and its TypeScript interface (for unknown fields). */
const KINDS: Record<string, { model: new (o: any) => { validate(): void }; type: [module: string, name: string] }> = {
  Deployment: { model: Deployment, type: ['kubernetes-models/apps/v1/Deployment', 'IDeployment'] },
  Service: { model: Service, type: ['kubernetes-models/v1/Service', 'IService'] },
  PodDisruptionBudget: { model: PodDisruptionBudget, type: ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'] },
  ServiceMonitor: { model: ServiceMonitor, type: ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', 'IServiceMonitor'] },
  PrometheusRule: { model: PrometheusRule, type: ['@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule', 'IPrometheusRule'] },
};

const render = (dir: string): Obj[] =>
  parseAllDocuments(execFileSync(KUBECTL, ['kustomize', join(ROOT, dir)], { encoding: 'utf8' })).map((d) => d.toJS() as Obj);

/**
 * Fields the Kubernetes schemas do not know (the models' validators let them through): every
 * object is written as a literal of its kind's interface, and TypeScript's excess-property check
 * names each unknown field, at any depth.
 */
function unknownFields(objects: Obj[]): string[] {
  const file = join(ROOT, 'test/deploy/__manifests__.ts');
  const source = objects
    .map((o, i) => {
      const [mod, name] = KINDS[o.kind]!.type;
      return `import type { ${name} as T${i} } from '${mod}';\nexport const o${i}: T${i} = ${JSON.stringify(o)};`;
    })
    .join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (f) => (f === file ? source : read(f));
  host.fileExists = (
    (exists) => (f: string) =>
      f === file || exists(f)
  )(host.fileExists.bind(host));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '));
}

describe.runIf(existsSync(KUBECTL))('the Kubernetes manifests (kubectl kustomize, offline)', () => {
  const base = render('deploy/kubernetes');
  const monitoring = render('deploy/kubernetes/monitoring');
  const of = (kind: string, objs = base) => objs.find((o) => o.kind === kind)!;

  it('render to a Deployment, a Service and a PodDisruptionBudget; the monitoring overlay adds a ServiceMonitor and the alert rules', () => {
    expect(base.map((o) => o.kind).sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'Service']);
    expect(monitoring.map((o) => o.kind).sort()).toEqual(['Deployment', 'PodDisruptionBudget', 'PrometheusRule', 'Service', 'ServiceMonitor']);
  });

  it('every object is valid against the Kubernetes schemas and has no field they do not know', () => {
    for (const o of monitoring) expect(() => new KINDS[o.kind]!.model(o).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    expect(unknownFields(monitoring)).toEqual([]);
  });

  it('the unknown-field check catches a typo at any depth (it would let nothing through otherwise)', () => {
    const top = structuredClone(of('Deployment'));
    top.spec.replica = 2;
    const deep = structuredClone(of('Deployment'));
    deep.spec.template.spec.containers[0].readinesProbe = deep.spec.template.spec.containers[0].readinessProbe;
    expect(unknownFields([top]).join('\n')).toContain("'\"replica\"' does not exist in type 'IDeploymentSpec'");
    expect(unknownFields([deep]).join('\n')).toContain("'\"readinesProbe\"' does not exist in type 'IContainer'");
    for (const d of [top, deep]) expect(() => new Deployment(d).validate()).not.toThrow(); // what the schema validation alone misses
  });

  it('two replicas on PostgreSQL: probes on /readyz and /healthz, resources, non-root with a read-only root, the Secret through envFrom', () => {
    const d = of('Deployment');
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(d.spec.replicas).toBe(2);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits.memory).toBeDefined();
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(c.envFrom).toEqual([{ secretRef: { name: 'taskbot' } }]);
    expect(c.env).toContainEqual({ name: 'HTTP_HOST', value: '0.0.0.0' });
    // SIGTERM's 8 s drain fits in the grace period.
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(8);
  });

  it('the Service, the disruption budget and the ServiceMonitor select the pods', () => {
    const podLabels = of('Deployment').spec.template.metadata.labels;
    const selects = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => podLabels[k] === v);
    expect(selects(of('Service').spec.selector)).toBe(true);
    expect(selects(of('PodDisruptionBudget').spec.selector.matchLabels)).toBe(true);
    expect(of('PodDisruptionBudget').spec.minAvailable).toBe(1);
    const sm = of('ServiceMonitor', monitoring);
    expect(Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => of('Service').metadata.labels?.[k] === v)).toBe(true);
    expect(sm.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
  });

  it('the PrometheusRule holds exactly the rules of deploy/prometheus/taskbot-rules.yml', () => {
    const rules = parse(readFileSync(join(ROOT, 'deploy/prometheus/taskbot-rules.yml'), 'utf8')) as { groups: unknown };
    expect(of('PrometheusRule', monitoring).spec).toEqual(rules);
  });
});
