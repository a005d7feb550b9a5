"""Synthetic datacenters of N nginx or N app services, deterministic (no clock, no randomness).

The services vary by their number so that every nginx option appears at every size: shared
namespaces, routed hosts and ports, autoscaling, explicit architectures, resources,
annotations, single replicas. The platform layer is on (CNI, load balancer, Traefik with the
Gateway API, metrics), without certificates: one Gateway holds 63 HTTPS hosts, fewer than the
1000-service datacenter routes. The app datacenter varies the app options the same way:
workloads, ports, env, secretEnv, files, volumes on nfs, probes, run settings.
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


def app_service_name(number: int) -> str:
    return f"app-{number:04d}"


def _app_service_lines(number: int) -> list[str]:
    name = app_service_name(number)
    workload = ("deployment", "deployment", "statefulset", "daemonset", "cronjob")[number % 5]
    lines = [f"  - name: {name}", "    type: app", f"    workload: {workload}"]
    lines.append(
        "    architectures: [amd64, arm64]" if number % 2 else "    architectures: [amd64]"
    )
    lines.append(f'    image: {{repository: ghcr.io/bench/app-{number % 7}, tag: "1.{number}.0"}}')
    if workload in ("deployment", "statefulset"):
        lines.append(f"    replicas: {1 + number % 3}")
    if workload == "cronjob":
        lines.append(f'    schedule: "{number % 60} 3 * * *"')
    else:
        lines.append(f"    ports: [{{name: http, port: {8000 + number % 100}}}]")
        if number % 3 == 0:
            lines.append("    probe: {http: {path: /healthz}}")
    if number % 4 == 0:
        lines.append(f"    namespace: apps-{number % 3}")
    if workload == "deployment" and number % 10 == 0:
        lines.append(f"    expose: {{host: {name}.bench.example}}")
    lines.append("    env:")
    lines.append(f'      APP_NUMBER: "{number}"')
    lines.append(f'      APP_GREETING: "hello {{{{ .Values }}}} $(HOME) #{number}"')
    if number % 2 == 0:
        lines.append(f"    secretEnv: [{{name: APP_TOKEN, secret: {name}-secrets, key: token}}]")
    if number % 3 == 1:
        lines.append("    files:")
        lines.append(f'      - {{path: /etc/app/config.yaml, content: "number: {number}\\n"}}')
    if workload in ("deployment", "statefulset") and number % 4 == 1:
        size = f"{number % 5 + 1}Gi"
        lines.append(f"    volumes: [{{name: data, mountPath: /data, storage: {{size: {size}}}}}]")
    if number % 6 == 0:
        lines.append("    run: {user: 1000, writablePaths: [/tmp, /var/cache/app]}")
    return lines


_APP_HEADER = _HEADER.replace("nginx services", "app services")
_APP_STORAGE = """\
storage:
  - {name: nas, type: nfs, default: true, nfs: {server: 172.16.0.5, path: /export/k8s}}
"""


def app_datacenter_text(count: int) -> str:
    """datacenter.yaml with `count` app services (every workload kind and option)."""
    lines = [line for number in range(1, count + 1) for line in _app_service_lines(number)]
    body = "".join(f"{line}\n" for line in lines)
    return _APP_HEADER.format(count=count) + body + _APP_STORAGE + _PLATFORM
