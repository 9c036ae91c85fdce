// No cluster runs here, so the deployment files are checked by reading them: parsed as YAML, with
// the fields the README's Deploy section promises asserted one by one.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  COMPOSE_LOAD_BALANCER,
  findHaproxy,
  haproxyConfig,
  LB_CHECK_PATH,
} from '../../src/launcher/haproxy.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('deploy/kubernetes/statefulset.yaml', () => {
  const docs = parseAllDocuments(read('deploy/kubernetes/statefulset.yaml')).map((d) => d.toJS() as Doc);
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const set = byKind('StatefulSet')[0]!;
  const pod = set.spec.template.spec;
  const container = pod.containers[0];
  const config = byKind('ConfigMap')[0]!.data as Record<string, string>;

  it('starts pods in parallel (a full restart needs every pod for a quorum)', () => {
    expect(set.spec.podManagementPolicy).toBe('Parallel');
    expect(set.spec.replicas).toBe(3);
  });

  it('founds a cluster only when told to: --bootstrap on pod 0 behind BOOTSTRAP_NEW_CLUSTER, others join', () => {
    const script = container.args.join('\n') as string;
    expect(script).toMatch(/\[ "\$ORDINAL" = "0" \] && \[ "\$BOOTSTRAP_NEW_CLUSTER" = "true" \]/);
    expect(script).toMatch(/node dist\/cmd\/node\.js --bootstrap/);
    expect(script).toMatch(/export JOIN=/);
    expect(config.BOOTSTRAP_NEW_CLUSTER).toBe('true');
  });

  it('runs behind one public address with forwarding, trusted proxies and a graceful stop', () => {
    expect(config.SHORT_URL_BASE).toMatch(/^https?:\/\//);
    expect(config.FORWARD_WRITES).toBe('1');
    expect(config.TRUST_PROXY).toMatch(/\/\d+$/);
    const stopMs = Number(config.SHUTDOWN_DELAY_MS) + Number(config.DRAIN_TIMEOUT_MS);
    // Room for the leadership hand-over (2 s at most) inside the grace period.
    expect(stopMs + 2_000).toBeLessThan(pod.terminationGracePeriodSeconds * 1000);
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'shortener-config' } }]);
  });

  it('makes the volume writable for the non-root user, and sets resources', () => {
    expect(pod.securityContext).toMatchObject({ fsGroup: 1000, runAsUser: 1000, runAsNonRoot: true });
    expect(container.resources.requests).toMatchObject({
      cpu: expect.any(String),
      memory: expect.any(String),
    });
    expect(container.resources.limits.memory).toEqual(expect.any(String));
  });

  it('spreads pods over machines', () => {
    const terms = pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    expect(terms[0]).toMatchObject({
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: { matchLabels: { app: 'shortener' } },
    });
  });

  it('probes: startup and liveness on /healthz, readiness on "can serve redirects"', () => {
    expect(container.startupProbe.httpGet.path).toBe('/healthz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe(LB_CHECK_PATH);
  });

  it('a PDB keeps two of three up; the peers service publishes pods before they are ready', () => {
    const pdb = byKind('PodDisruptionBudget')[0]!;
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1, selector: { matchLabels: { app: 'shortener' } } });
    const peers = byKind('Service').find((s) => s.metadata.name === set.spec.serviceName)!;
    expect(peers.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
  });
});

describe('docker-compose.yml', () => {
  // Merge keys (<<: *node) as Docker Compose reads them.
  const compose = parse(read('docker-compose.yml'), { merge: true }) as Doc;
  const nodes = ['node1', 'node2', 'node3'].map((n) => compose.services[n]);

  it('publishes the balancer on the host, in front of three nodes', () => {
    expect(compose.services.lb.ports).toEqual(['8080:8080']);
    expect(compose.services.lb.volumes[0]).toMatch(/^\.\/deploy\/compose\/haproxy\.cfg:/);
    for (const node of nodes) expect(node.ports[0]).toMatch(/^127\.0\.0\.1:/);
  });

  it('every node has the same public base, forwarding on, and trusts the network the balancer is on', () => {
    const subnet = compose.networks.shortener.ipam.config[0].subnet as string;
    for (const node of nodes) {
      expect(node.environment.SHORT_URL_BASE).toBe('${SHORT_URL_BASE:-http://127.0.0.1:8080}');
      expect(node.environment.FORWARD_WRITES).toBe('1');
      expect(node.environment.TRUST_PROXY).toBe(subnet);
    }
  });

  it('node1 founds the cluster only with BOOTSTRAP_NEW_CLUSTER=true, and joins otherwise', () => {
    expect(nodes[0].command.join(' ')).toMatch(
      /BOOTSTRAP_NEW_CLUSTER" = true \]; then exec node dist\/cmd\/node\.js --bootstrap/,
    );
    // --join and --bootstrap exclude each other, so node1's join is in the other branch only.
    expect(nodes[0].command.join(' ')).toMatch(
      /else exec node dist\/cmd\/node\.js --join http:\/\/node2:8080; fi/,
    );
    expect(nodes[0].environment.JOIN).toBeUndefined();
    for (const node of nodes.slice(1)) expect(node.environment.JOIN).toBe('http://node1:8080');
  });

  it("the balancer's config is the launcher's, written out", () => {
    const file = read('deploy/compose/haproxy.cfg');
    expect(file.slice(file.indexOf('\n') + 1)).toBe(haproxyConfig(COMPOSE_LOAD_BALANCER));
  });

  it.runIf(findHaproxy() !== undefined)('haproxy -c accepts it', () => {
    // Names resolve in Docker's network only; the syntax check needs addresses it can parse.
    const dir = mkdtempSync(join(tmpdir(), 'compose-lb-'));
    try {
      const cfg = join(dir, 'haproxy.cfg');
      writeFileSync(cfg, read('deploy/compose/haproxy.cfg').replace(/node\d:8080/g, '127.0.0.1:1'));
      const check = spawnSync(findHaproxy()!, ['-c', '-f', cfg], { encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
