// Validates rendered kustomize output (YAML on stdin) against the
// Kubernetes schemas (kubernetes-models, ajv), KEDA (@kubernetes-models/keda)
// and Strimzi KafkaTopic (kafkatopic.schema.json), then checks busline's
// policy. Usage: kubectl kustomize k8s/overlays/dev | node validate.js TOPICS_FILE
// TOPICS_FILE: the output of `busline topics list`. Prints "ok: N objects",
// or one "FAIL: ..." line per problem and exits 1.
'use strict';
const fs = require('fs');
const path = require('path');
const yaml = require('js-yaml');
const Ajv = require('ajv');

const failures = [];
const fail = (msg) => failures.push(msg);
const docs = yaml.loadAll(fs.readFileSync(0, 'utf8')).filter((d) => d);
if (docs.length === 0) fail('no objects rendered');
const topicsWanted = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l);

const ajv = new Ajv({ allErrors: true, strict: false });
const checkTopic = ajv.compile(JSON.parse(fs.readFileSync(path.join(__dirname, 'kafkatopic.schema.json'), 'utf8')));
const checkRule = ajv.compile(JSON.parse(fs.readFileSync(path.join(__dirname, 'prometheusrule.schema.json'), 'utf8')));

function modelClass(apiVersion, kind) {
  if (apiVersion === 'keda.sh/v1alpha1') return require('@kubernetes-models/keda/keda.sh/v1alpha1')[kind];
  const mod = apiVersion === 'v1' ? 'kubernetes-models/v1' : `kubernetes-models/${apiVersion}`;
  try {
    return require(mod)[kind];
  } catch (e) {
    return undefined;
  }
}

const name = (d) => `${d.kind}/${d.metadata && d.metadata.name}`;
for (const d of docs) {
  if (d.apiVersion === 'kafka.strimzi.io/v1beta2') {
    if (!checkTopic(d)) fail(`${name(d)}: ${ajv.errorsText(checkTopic.errors)}`);
    continue;
  }
  if (d.apiVersion === 'monitoring.coreos.com/v1' && d.kind === 'PrometheusRule') {
    if (!checkRule(d)) fail(`${name(d)}: ${ajv.errorsText(checkRule.errors)}`);
    continue;
  }
  const Cls = modelClass(d.apiVersion, d.kind);
  if (!Cls) {
    fail(`${name(d)}: no schema for ${d.apiVersion} ${d.kind}`);
    continue;
  }
  try {
    new Cls(d).validate();
  } catch (e) {
    fail(`${name(d)}: ${e.message}`);
  }
}

// Policy: what every Deployment must carry.
const of = (kind) => docs.filter((d) => d.kind === kind);
const matches = (selector, labels) =>
  Object.entries((selector && selector.matchLabels) || {}).every(([k, v]) => labels[k] === v);
for (const dep of of('Deployment')) {
  const pod = dep.spec.template.spec;
  const labels = dep.spec.template.metadata.labels || {};
  const psc = pod.securityContext || {};
  if (!psc.runAsNonRoot) fail(`${name(dep)}: pod securityContext.runAsNonRoot is not true`);
  if (!psc.seccompProfile || psc.seccompProfile.type !== 'RuntimeDefault')
    fail(`${name(dep)}: pod seccompProfile is not RuntimeDefault`);
  if (!pod.terminationGracePeriodSeconds) fail(`${name(dep)}: no terminationGracePeriodSeconds`);
  for (const c of pod.containers) {
    const where = `${name(dep)} container ${c.name}`;
    if (!c.livenessProbe || !c.livenessProbe.httpGet || c.livenessProbe.httpGet.path !== '/healthz')
      fail(`${where}: no liveness probe on /healthz`);
    if (!c.readinessProbe || !c.readinessProbe.httpGet || c.readinessProbe.httpGet.path !== '/readyz')
      fail(`${where}: no readiness probe on /readyz`);
    const lim = (c.resources && c.resources.limits) || {};
    const req = (c.resources && c.resources.requests) || {};
    if (!lim.cpu || !lim.memory) fail(`${where}: no cpu and memory limits`);
    if (!req.cpu || !req.memory) fail(`${where}: no cpu and memory requests`);
    const sc = c.securityContext || {};
    if (!sc.readOnlyRootFilesystem) fail(`${where}: readOnlyRootFilesystem is not true`);
    if (sc.allowPrivilegeEscalation !== false) fail(`${where}: allowPrivilegeEscalation is not false`);
    if (!sc.capabilities || !(sc.capabilities.drop || []).includes('ALL')) fail(`${where}: capabilities not dropped`);
    if (!(psc.runAsNonRoot || sc.runAsNonRoot)) fail(`${where}: not runAsNonRoot`);
  }
  if (!of('PodDisruptionBudget').some((p) => matches(p.spec.selector, labels)))
    fail(`${name(dep)}: no PodDisruptionBudget selects it`);
  if (!of('NetworkPolicy').some((p) => Object.keys(p.spec.podSelector.matchLabels || {}).length && matches(p.spec.podSelector, labels)))
    fail(`${name(dep)}: no NetworkPolicy of its own`);
}
if (!of('NetworkPolicy').some((p) => Object.keys(p.spec.podSelector).length === 0 &&
    (p.spec.policyTypes || []).includes('Ingress') && (p.spec.policyTypes || []).includes('Egress') &&
    !p.spec.ingress && !p.spec.egress))
  fail('no default-deny NetworkPolicy');

// Every topic of the catalog has a KafkaTopic, and nothing else does.
const topics = new Map(of('KafkaTopic').map((t) => [t.spec.topicName || t.metadata.name, t]));
for (const t of topicsWanted) if (!topics.has(t)) fail(`topic ${t}: no KafkaTopic`);
for (const t of topics.keys()) if (!topicsWanted.includes(t)) fail(`KafkaTopic ${t}: not a busline topic`);

// A consumer never scales past the partitions of what it reads.
for (const so of of('ScaledObject')) {
  const target = so.spec.scaleTargetRef.name;
  if (!of('Deployment').some((d) => d.metadata.name === target)) fail(`${name(so)}: no Deployment ${target}`);
  for (const tr of so.spec.triggers || []) {
    if (tr.type !== 'kafka') continue;
    const kt = topics.get(tr.metadata.topic);
    if (!kt) fail(`${name(so)}: topic ${tr.metadata.topic} has no KafkaTopic`);
    else if (kt.spec.partitions < so.spec.maxReplicaCount)
      fail(`${name(so)}: maxReplicaCount ${so.spec.maxReplicaCount} > ${kt.spec.partitions} partitions of ${tr.metadata.topic}`);
    if (!tr.metadata.lagThreshold) fail(`${name(so)}: kafka trigger without lagThreshold`);
  }
}

if (failures.length) {
  for (const f of failures) console.log(`FAIL: ${f}`);
  process.exit(1);
}
console.log(`ok: ${docs.length} objects`);
