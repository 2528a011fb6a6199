#!/usr/bin/env python3
"""Checks Herald's Kubernetes manifests, offline (`make kubernetes-check`).

Renders the base and each overlay with kustomize, then
- validates every object against the Kubernetes API schemas (kubernetes-validate, strict: an unknown
  field is an error), and the Prometheus Operator's kinds against their CRDs' schemas (schemas/: the CRDs
  of prometheus-operator v0.93.0, example/prometheus-operator-crd/ at b9090747, unchanged; made strict
  here the same way);
- checks what the manifests promise: each service's replica count in that rendering, a restricted security
  context, no two replicas on one node, the metrics port on the container and the Service, a
  ServiceMonitor, a NetworkPolicy and a PodDisruptionBudget per service, an autoscaler where expected;
- checks that base/prometheus-rule.yaml holds deploy/observability/herald-alerts.yaml's rules unchanged.

`check.py --write-prometheus-rule` writes base/prometheus-rule.yaml from herald-alerts.yaml.
"""
import argparse
import copy
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

KUBERNETES_VERSION = '1.37.0'
here = Path(__file__).resolve().parent
repo = here.parent.parent
alerts_file = repo / 'deploy' / 'observability' / 'herald-alerts.yaml'
prometheus_rule_file = here / 'base' / 'prometheus-rule.yaml'

SERVICES = {
    'herald-publisher': 9461,
    'herald-subscriber-registry': 9462,
    'herald-dispatcher': 9463,
}

# Each rendering, the replicas each service runs there, and whether it carries autoscalers and
# ServiceMonitors.
RENDERINGS = [
    ('deploy/kubernetes', {'replicas': 2, 'autoscaled': True, 'monitored': True}),
    ('deploy/kubernetes/overlays/dev', {'replicas': 1, 'autoscaled': False, 'monitored': False}),
    ('deploy/kubernetes/overlays/prod', {'replicas': 3, 'autoscaled': True, 'monitored': True}),
]


def strict(schema):
    """A CRD's OpenAPI schema as JSON Schema that rejects unknown fields, as the API server's strict
    field validation does (fields under x-kubernetes-preserve-unknown-fields stay open)."""
    schema = copy.deepcopy(schema)

    def visit(node):
        if isinstance(node, dict):
            if (
                node.get('type') == 'object'
                and 'properties' in node
                and 'additionalProperties' not in node
                and not node.get('x-kubernetes-preserve-unknown-fields')
            ):
                node['additionalProperties'] = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


def crd_validators():
    validators = {}
    for path in sorted((here / 'schemas').glob('*.yaml')):
        crd = yaml.safe_load(path.read_text())
        for version in crd['spec']['versions']:
            schema = strict(version['schema']['openAPIV3Schema'])
            key = (f"{crd['spec']['group']}/{version['name']}", crd['spec']['names']['kind'])
            validators[key] = jsonschema.Draft7Validator(schema)
    return validators


def render(kustomize, path):
    result = subprocess.run([kustomize, 'build', str(repo / path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f'kustomize build {path} failed:\n{result.stderr}')
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def validate_schemas(where, objects, crds):
    problems = []
    for obj in objects:
        name = f"{where}: {obj['kind']}/{obj['metadata']['name']}"
        validator = crds.get((obj['apiVersion'], obj['kind']))
        if obj['apiVersion'].startswith('monitoring.coreos.com/'):
            if validator is None:
                problems.append(f'{name}: no schema for {obj["apiVersion"]} {obj["kind"]} in schemas/')
                continue
            for error in validator.iter_errors(obj):
                problems.append(f"{name}: {'.'.join(str(p) for p in error.absolute_path)}: {error.message}")
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{name}: {'.'.join(str(p) for p in error.path)}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f'{name}: {error.message}')
    return problems


def check_production(where, objects, expect):
    """What the manifests promise, per service."""
    problems = []
    by_kind = {}
    for obj in objects:
        by_kind.setdefault(obj['kind'], {})[obj['metadata']['name']] = obj

    def need(condition, message):
        if not condition:
            problems.append(f'{where}: {message}')

    for service, metrics_port in SERVICES.items():
        deployment = by_kind.get('Deployment', {}).get(service)
        need(deployment is not None, f'no Deployment {service}')
        if deployment is None:
            continue
        spec = deployment['spec']
        pod = spec['template']['spec']
        labels = spec['template']['metadata']['labels']
        replicas = spec.get('replicas')
        need(replicas == expect['replicas'], f"{service}: {replicas} replicas, not {expect['replicas']}")

        pod_security = pod.get('securityContext', {})
        need(pod_security.get('runAsNonRoot') is True, f'{service}: runAsNonRoot is not true')
        need(
            isinstance(pod_security.get('runAsUser'), int) and pod_security['runAsUser'] > 0,
            f'{service}: no numeric non-root runAsUser (the image names its user, which the kubelet cannot check)',
        )
        seccomp = pod_security.get('seccompProfile', {}).get('type')
        need(seccomp == 'RuntimeDefault', f'{service}: seccomp profile {seccomp}, not RuntimeDefault')
        for container in pod['containers']:
            security = container.get('securityContext', {})
            need(security.get('allowPrivilegeEscalation') is False, f'{service}: allowPrivilegeEscalation is not false')
            need(security.get('readOnlyRootFilesystem') is True, f'{service}: root filesystem not read-only')
            need(security.get('capabilities', {}).get('drop') == ['ALL'], f'{service}: capabilities not dropped (ALL)')
            ports = {p.get('name'): p['containerPort'] for p in container.get('ports', [])}
            need(ports.get('metrics') == metrics_port, f'{service}: no container port "metrics" {metrics_port}')
            env = {e['name']: e.get('value') for e in container.get('env', [])}
            need(
                str(metrics_port) in env.values(),
                f'{service}: the *_METRICS_PORT variable does not name port {metrics_port}',
            )

        anti = pod.get('affinity', {}).get('podAntiAffinity', {})
        anti = anti.get('requiredDuringSchedulingIgnoredDuringExecution', [])
        need(
            any(
                term.get('topologyKey') == 'kubernetes.io/hostname'
                and term.get('labelSelector', {}).get('matchLabels', {}).items() <= labels.items()
                and term.get('labelSelector', {}).get('matchLabels')
                for term in anti
            ),
            f'{service}: nothing keeps two replicas off one node '
            '(required pod anti-affinity on kubernetes.io/hostname)',
        )

        container_ports = {p.get('name') for c in pod['containers'] for p in c.get('ports', [])}
        svc = by_kind.get('Service', {}).get(service)
        need(svc is not None, f'no Service {service}')
        if svc:
            need(
                any(p.get('name') == 'metrics' and p['port'] == metrics_port for p in svc['spec']['ports']),
                f'{service}: the Service has no port "metrics" {metrics_port}',
            )
            for port in svc['spec']['ports']:
                target = port.get('targetPort')
                need(
                    not isinstance(target, str) or target in container_ports,
                    f'{service}: the Service targets port "{target}", which no container names',
                )

        pdb = by_kind.get('PodDisruptionBudget', {}).get(service)
        need(
            pdb is not None and pdb['spec']['selector']['matchLabels'].items() <= labels.items(),
            f'{service}: no PodDisruptionBudget',
        )

        policy = by_kind.get('NetworkPolicy', {}).get(service)
        need(
            policy is not None and policy['spec']['podSelector']['matchLabels'].items() <= labels.items(),
            f'{service}: no NetworkPolicy selecting its pods',
        )
        if policy:
            need(
                set(policy['spec'].get('policyTypes', [])) == {'Ingress', 'Egress'},
                f'{service}: NetworkPolicy not on both ingress and egress',
            )
            for rule in policy['spec'].get('ingress', []):
                for port in rule.get('ports', []):
                    need(
                        not isinstance(port.get('port'), str) or port['port'] in container_ports,
                        f"{service}: the NetworkPolicy admits port \"{port.get('port')}\", which no container names",
                    )

        hpa = by_kind.get('HorizontalPodAutoscaler', {}).get(service)
        if expect['autoscaled']:
            need(hpa is not None, f'{service}: no HorizontalPodAutoscaler')
            if hpa:
                target = hpa['spec']['scaleTargetRef']['name']
                need(target == service, f'{service}: the autoscaler scales {target}')
                need(
                    hpa['spec'].get('minReplicas') == expect['replicas'],
                    f"{service}: the autoscaler's minReplicas {hpa['spec'].get('minReplicas')} "
                    f"is not the {expect['replicas']} replicas",
                )
                need(
                    any(m.get('resource', {}).get('name') == 'cpu' for m in hpa['spec']['metrics']),
                    f'{service}: the autoscaler does not follow CPU',
                )
        else:
            need(hpa is None, f'{service}: an autoscaler would override the {expect["replicas"]} replica(s)')

        monitor = by_kind.get('ServiceMonitor', {}).get(service)
        if expect['monitored']:
            need(monitor is not None, f'{service}: no ServiceMonitor')
            if monitor and svc:
                need(
                    monitor['spec']['selector']['matchLabels'].items() <= svc['metadata'].get('labels', {}).items(),
                    f"{service}: the ServiceMonitor's selector does not match the Service's labels",
                )
                need(
                    [e.get('port') for e in monitor['spec']['endpoints']] == ['metrics'],
                    f'{service}: the ServiceMonitor does not scrape the port "metrics"',
                )
    return problems


def prometheus_rule():
    """prometheus-rule.yaml's text: herald-alerts.yaml's groups as a PrometheusRule's spec."""
    alerts = alerts_file.read_text()
    body = alerts[alerts.index('\ngroups:') + 1 :]
    return (
        '# GENERATED from deploy/observability/herald-alerts.yaml by `deploy/kubernetes/check.py\n'
        '# --write-prometheus-rule` (make kubernetes-rules): edit the rules there. make kubernetes-check fails\n'
        '# when the two differ. The runbook of each alert is in deploy/README.md.\n'
        'apiVersion: monitoring.coreos.com/v1\n'
        'kind: PrometheusRule\n'
        'metadata:\n'
        '  name: herald\n'
        '  labels:\n'
        '    app.kubernetes.io/part-of: herald\n'
        'spec:\n' + ''.join(f'  {line}\n' if line else '\n' for line in body.rstrip('\n').split('\n'))
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--kustomize', help='the kustomize binary')
    parser.add_argument('--write-prometheus-rule', action='store_true')
    args = parser.parse_args()

    if args.write_prometheus_rule:
        prometheus_rule_file.write_text(prometheus_rule())
        print(f'wrote {prometheus_rule_file.relative_to(repo)}')
        return 0

    if not args.kustomize:
        parser.error('--kustomize is needed to render the manifests')
    problems = []
    # Every manifest of the folder is in the base's rendering, so every one is checked.
    listed = set(yaml.safe_load((here / 'base' / 'kustomization.yaml').read_text())['resources'])
    for path in sorted((here / 'base').glob('*.yaml')):
        if path.name != 'kustomization.yaml' and path.name not in listed:
            problems.append(
                f'deploy/kubernetes/base/{path.name} is not in its kustomization.yaml: neither applied nor checked'
            )
    if prometheus_rule_file.read_text() != prometheus_rule():
        problems.append(
            'deploy/kubernetes/base/prometheus-rule.yaml differs from deploy/observability/herald-alerts.yaml: '
            'run `make kubernetes-rules`'
        )
    # The generated PrometheusRule says the same as the rules file promtool checks.
    rule = yaml.safe_load(prometheus_rule_file.read_text())
    if rule['spec'] != yaml.safe_load(alerts_file.read_text()):
        problems.append('prometheus-rule.yaml spec is not herald-alerts.yaml')

    crds = crd_validators()
    for path, expect in RENDERINGS:
        objects = render(args.kustomize, path)
        kinds = sorted({o['kind'] for o in objects})
        problems += validate_schemas(path, objects, crds)
        problems += check_production(path, objects, expect)
        print(f'{path}: {len(objects)} objects ({", ".join(kinds)})')
    for problem in problems:
        print(f'ERROR {problem}')
    if problems:
        return 1
    print('every rendering valid against the Kubernetes 1.37 and Prometheus Operator schemas, and fit for production')
    return 0


if __name__ == '__main__':
    sys.exit(main())
