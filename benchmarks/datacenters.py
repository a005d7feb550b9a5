"""Synthetic datacenters of N nginx services, deterministic (no clock, no randomness).

The services vary by their number so that every nginx option appears at every size: shared
namespaces, routed hosts and ports, autoscaling, explicit architectures, resources,
annotations, single replicas. The platform layer is on (CNI, load balancer, Traefik with the
Gateway API, metrics), without certificates: one Gateway holds 63 HTTPS hosts, fewer than the
1000-service datacenter routes.
"""

from __future__ import annotations

SIZES = (20, 200, 1000)

_HEADER = """\
# A synthetic datacenter of {count} nginx services (benchmarks/datacenters.py).
apiVersion: chartgen/v1
kind: Datacenter
metadata:
  name: bench-{count}
  description: {count} nginx services, to measure chartgen at scale
cluster:
  kubernetesVersion: "1.32.2"
  cni: calico
nodes:
  - {{name: cp1, role: control-plane, arch: amd64, address: 172.16.0.10}}
  - {{name: node-amd64-1, role: worker, arch: amd64, address: 172.16.0.11}}
  - {{name: node-amd64-2, role: worker, arch: amd64, address: 172.16.0.12}}
  - {{name: node-arm64-1, role: worker, arch: arm64, address: 172.16.0.21}}
  - {{name: node-arm-1, role: worker, arch: arm, address: 172.16.0.31}}
services:
"""


def service_name(number: int) -> str:
    return f"web-{number:04d}"


def _service_lines(number: int) -> list[str]:
    name = service_name(number)
    lines = [f"  - name: {name}", "    type: nginx"]
    lines.append(f"    replicas: {1 if number % 25 == 0 else 2 + number % 3}")
    if number % 4 == 0:
        lines.append(f"    namespace: team-{number % 3}")
    if number % 10 == 0:
        lines.append(f"    expose: {{host: {name}.bench.example, port: {8000 + number % 1000}}}")
    elif number % 5 == 0:
        lines.append(f"    expose: {{host: {name}.bench.example}}")
    if number % 7 == 0:
        lines.append(f"    autoscaling: {{maxReplicas: {6 + number % 4}, cpuPercent: 70}}")
    if number % 6 == 0:
        lines.append("    architectures: [arm64, arm]")
    elif number % 9 == 0:
        lines.append("    architectures: [amd64]")
    if number % 8 == 0:
        lines.append("    resources: {cpu: 100m, memory: 96Mi}")
    if number % 3 == 0:
        lines.append("    annotations:")
        lines.append(f'      bench.example/owner: "team-{number % 4}"')
        lines.append(f'      bench.example/index: "{number}"')
    return lines


_PLATFORM = """\
platform:
  loadBalancer: {addresses: [172.16.0.200-172.16.0.250]}
  metrics: true
"""


def datacenter_text(count: int) -> str:
    """datacenter.yaml with `count` nginx services."""
    lines = [line for number in range(1, count + 1) for line in _service_lines(number)]
    return _HEADER.format(count=count) + "".join(f"{line}\n" for line in lines) + _PLATFORM
