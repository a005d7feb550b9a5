{{/*
The chart name, or nameOverride; 63 characters at most (a DNS label).
*/}}
{{- define "app.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources: fullnameOverride, else the release name (when it
already contains the chart name), else "release-chart"; 63 characters at most.
*/}}
{{- define "app.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "app.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object of the chart.
*/}}
{{- define "app.labels" -}}
helm.sh/chart: {{ include "app.chart" . }}
{{ include "app.instanceLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chartgen
{{- end }}

{{/*
Labels of every pod of the release (the workload's and the helm test's): what the
NetworkPolicy selects.
*/}}
{{- define "app.instanceLabels" -}}
app.kubernetes.io/name: {{ include "app.name" . | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end }}

{{/*
Labels that select the workload's pods (stable across upgrades: never the version). The
component keeps the helm test pod out: a DaemonSet adopts every orphan pod its selector
matches, and a Service or PodDisruptionBudget would count it.
*/}}
{{- define "app.selectorLabels" -}}
{{ include "app.instanceLabels" . }}
app.kubernetes.io/component: app
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "app.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "app.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The workload's name. A StatefulSet's pods carry the label controller-revision-hash:
"<name>-<10-character hash>", a label value of 63 characters at most, so its name keeps 52.
*/}}
{{- define "app.workloadName" -}}
{{- if eq .Values.workload.kind "StatefulSet" }}
{{- include "app.fullname" . | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- include "app.fullname" . }}
{{- end }}
{{- end }}

{{/*
The StatefulSet's headless Service (its pods' stable DNS names), a DNS label too.
*/}}
{{- define "app.headlessName" -}}
{{- printf "%s-headless" (include "app.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{/*
The image reference: repository[:tag][@digest].
*/}}
{{- define "app.image" -}}
{{- $image := .Values.image }}
{{- $ref := required "image.repository is required" $image.repository }}
{{- if not (or $image.tag $image.digest) }}
{{- fail "image.tag or image.digest is required" }}
{{- end }}
{{- with $image.tag }}
{{- $ref = printf "%s:%s" $ref . }}
{{- end }}
{{- with $image.digest }}
{{- $ref = printf "%s@%s" $ref . }}
{{- end }}
{{- $ref }}
{{- end }}

{{/*
A list of strings as a YAML sequence, each reaching the process as written. Kubernetes
expands $(VAR) in a container's command and args and in exec probes, and turns `$$` into `$`
(third_party/forked/golang/expansion): doubling every `$` makes the expansion give back the
string itself. toYaml quotes whatever YAML would read as another type or as syntax.
*/}}
{{- define "app.literalList" -}}
{{- $out := list }}
{{- range . }}
{{- $out = append $out (replace "$" "$$" (toString .)) }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/*
The declared ports with their protocol made explicit (TCP when omitted), as JSON.
*/}}
{{- define "app.ports" -}}
{{- $ports := list }}
{{- range .Values.ports }}
{{- $ports = append $ports (dict "name" .name "port" (int .port) "protocol" (default "TCP" .protocol)) }}
{{- end }}
{{- toJson $ports }}
{{- end }}

{{/*
The port behind service.port (JSON; {} when there is none): service.targetPort (a declared
port's name or number), else the first TCP port.
*/}}
{{- define "app.routedPort" -}}
{{- $target := toString .Values.service.targetPort }}
{{- $found := dict }}
{{- range (include "app.ports" . | fromJsonArray) }}
{{- if empty $found }}
{{- if eq $target "" }}
{{- if eq .protocol "TCP" }}
{{- $found = . }}
{{- end }}
{{- else if or (eq .name $target) (eq (toString .port) $target) }}
{{- $found = . }}
{{- end }}
{{- end }}
{{- end }}
{{- if and (ne $target "") (empty $found) }}
{{- fail (printf "service.targetPort %s is not one of the declared ports" $target) }}
{{- end }}
{{- toJson $found }}
{{- end }}

{{/*
Whether the chart has a Service ("true" or ""): ports declared and a kind that serves.
*/}}
{{- define "app.hasService" -}}
{{- if and .Values.ports (ne .Values.workload.kind "CronJob") }}true{{ end }}
{{- end }}

{{/*
Whether a route (HTTPRoute or Ingress) may be made: fails unless the Service has a TCP
routed port.
*/}}
{{- define "app.requireRoutable" -}}
{{- $routed := include "app.routedPort" . | fromJson }}
{{- if not (include "app.hasService" .) }}
{{- fail "a route (httpRoute or ingress) needs ports and a kind other than CronJob" }}
{{- end }}
{{- if ne (get $routed "protocol") "TCP" }}
{{- fail "a route (httpRoute or ingress) needs a TCP port behind service.port" }}
{{- end }}
{{- end }}

{{/*
The port of the tcp and http probes: probe.port (a number, or a declared port's name), else
the name of the first TCP port.
*/}}
{{- define "app.probePort" -}}
{{- $port := toString .Values.probe.port }}
{{- $ports := include "app.ports" . | fromJsonArray }}
{{- if eq $port "" }}
{{- $first := "" }}
{{- range $ports }}
{{- if and (eq $first "") (eq .protocol "TCP") }}
{{- $first = .name }}
{{- end }}
{{- end }}
{{- if eq $first "" }}
{{- fail (printf "probe.type %s needs probe.port or a TCP port" .Values.probe.type) }}
{{- end }}
{{- $first | quote }}
{{- else if regexMatch "^[0-9]+$" $port }}
{{- $port }}
{{- else }}
{{- $declared := false }}
{{- range $ports }}
{{- if eq .name $port }}
{{- $declared = true }}
{{- end }}
{{- end }}
{{- if not $declared }}
{{- fail (printf "probe.port %s is not the name of a declared port" $port) }}
{{- end }}
{{- $port | quote }}
{{- end }}
{{- end }}

{{/*
The check that startup, readiness and liveness probes share.
*/}}
{{- define "app.probeHandler" -}}
{{- $probe := .Values.probe }}
{{- if eq $probe.type "tcp" }}
tcpSocket:
  port: {{ include "app.probePort" . }}
{{- else if eq $probe.type "http" }}
httpGet:
  path: {{ $probe.path | quote }}
  port: {{ include "app.probePort" . }}
{{- else if eq $probe.type "exec" }}
{{- if not $probe.command }}
{{- fail "probe.command is required with probe.type exec" }}
{{- end }}
exec:
  command:
    {{- include "app.literalList" $probe.command | nindent 4 }}
{{- end }}
{{- end }}

{{/*
Checks across values that the schema cannot express; renders nothing.
*/}}
{{- define "app.validate" -}}
{{- $ports := include "app.ports" . | fromJsonArray }}
{{- $names := list }}
{{- $numbers := list }}
{{- range $ports }}
{{- if has .name $names }}
{{- fail (printf "ports: the name %s is declared twice" .name) }}
{{- end }}
{{- $names = append $names .name }}
{{- $key := printf "%v/%s" .port .protocol }}
{{- if has $key $numbers }}
{{- fail (printf "ports: %s is declared twice" $key) }}
{{- end }}
{{- $numbers = append $numbers $key }}
{{- end }}
{{- if include "app.hasService" . }}
{{- $routed := include "app.routedPort" . | fromJson }}
{{- range $ports }}
{{- if and (ne .name (get $routed "name")) (eq (int .port) (int $.Values.service.port)) (eq .protocol (get $routed "protocol")) }}
{{- fail (printf "service.port %v is also the number of port %s" $.Values.service.port .name) }}
{{- end }}
{{- end }}
{{- end }}
{{- $volumes := list }}
{{- range .Values.volumes }}
{{- if has .name $volumes }}
{{- fail (printf "volumes: the name %s is declared twice" .name) }}
{{- end }}
{{- $volumes = append $volumes .name }}
{{- end }}
{{- $paths := list }}
{{- range .Values.files }}
{{- $paths = append $paths .path }}
{{- end }}
{{- range .Values.volumes }}
{{- $paths = append $paths .mountPath }}
{{- end }}
{{- range .Values.writablePaths }}
{{- $paths = append $paths . }}
{{- end }}
{{- $seen := list }}
{{- range $paths }}
{{- if has . $seen }}
{{- fail (printf "%s is mounted twice (files, volumes and writablePaths must differ)" .) }}
{{- end }}
{{- $seen = append $seen . }}
{{- end }}
{{- if eq .Values.workload.kind "CronJob" }}
{{- $_ := required "workload.schedule is required with workload.kind CronJob" .Values.workload.schedule }}
{{- end }}
{{- end }}

{{/*
The pod template of every kind: metadata and spec.
*/}}
{{- define "app.podTemplate" -}}
{{- $kind := .Values.workload.kind }}
{{- $fullname := include "app.fullname" . }}
metadata:
  annotations:
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    # A change of the environment or of the files rolls the pods.
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
    app.kubernetes.io/component: app
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- if eq $kind "CronJob" }}
  restartPolicy: OnFailure
  {{- end }}
  serviceAccountName: {{ include "app.serviceAccountName" . | quote }}
  automountServiceAccountToken: false
  # No Docker-link variables (FOO_PORT=tcp://...): they clash with many images' settings.
  enableServiceLinks: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  containers:
    - name: app
      image: {{ include "app.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      {{- with .Values.command }}
      command:
        {{- include "app.literalList" . | nindent 8 }}
      {{- end }}
      {{- with .Values.args }}
      args:
        {{- include "app.literalList" . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      {{- with (include "app.ports" . | fromJsonArray) }}
      ports:
        {{- range . }}
        - name: {{ .name | quote }}
          containerPort: {{ .port }}
          protocol: {{ .protocol }}
        {{- end }}
      {{- end }}
      {{- with .Values.env }}
      # The variables of `env`, byte for byte (envFrom values are never expanded).
      envFrom:
        - configMapRef:
            name: {{ printf "%s-env" $fullname }}
      {{- end }}
      {{- with .Values.secretEnv }}
      env:
        {{- range . }}
        - name: {{ .name | quote }}
          valueFrom:
            secretKeyRef:
              name: {{ .secret | quote }}
              key: {{ .key | quote }}
        {{- end }}
      {{- end }}
      {{- if and (ne $kind "CronJob") (ne .Values.probe.type "none") }}
      {{- $handler := include "app.probeHandler" . | trim }}
      startupProbe:
        {{- $handler | nindent 8 }}
        periodSeconds: {{ .Values.probes.startup.periodSeconds }}
        failureThreshold: {{ .Values.probes.startup.failureThreshold }}
      readinessProbe:
        {{- $handler | nindent 8 }}
        periodSeconds: {{ .Values.probes.readiness.periodSeconds }}
        failureThreshold: {{ .Values.probes.readiness.failureThreshold }}
      livenessProbe:
        {{- $handler | nindent 8 }}
        periodSeconds: {{ .Values.probes.liveness.periodSeconds }}
        failureThreshold: {{ .Values.probes.liveness.failureThreshold }}
      {{- end }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      {{- if or .Values.files .Values.volumes .Values.writablePaths }}
      volumeMounts:
        {{- range $index, $file := .Values.files }}
        - name: chartgen-files
          mountPath: {{ $file.path | quote }}
          subPath: {{ printf "file-%d" $index }}
          readOnly: true
        {{- end }}
        {{- range .Values.volumes }}
        - name: {{ .name | quote }}
          mountPath: {{ .mountPath | quote }}
        {{- end }}
        {{- range $index, $path := .Values.writablePaths }}
        - name: {{ printf "chartgen-writable-%d" $index }}
          mountPath: {{ $path | quote }}
        {{- end }}
      {{- end }}
  {{- $podVolumes := list }}
  {{- range .Values.volumes }}
  {{- if or .emptyDir (ne $kind "StatefulSet") }}
  {{- $podVolumes = append $podVolumes . }}
  {{- end }}
  {{- end }}
  {{- if or .Values.files $podVolumes .Values.writablePaths }}
  volumes:
    {{- if .Values.files }}
    - name: chartgen-files
      configMap:
        name: {{ printf "%s-files" $fullname }}
    {{- end }}
    {{- range $podVolumes }}
    - name: {{ .name | quote }}
      {{- if .emptyDir }}
      emptyDir: {}
      {{- else }}
      persistentVolumeClaim:
        claimName: {{ printf "%s-%s" $fullname .name | quote }}
      {{- end }}
    {{- end }}
    {{- range $index, $path := .Values.writablePaths }}
    - name: {{ printf "chartgen-writable-%d" $index }}
      emptyDir: {}
    {{- end }}
  {{- end }}
  {{- if and .Values.topologySpread.enabled (has $kind (list "Deployment" "StatefulSet")) }}
  topologySpreadConstraints:
    - maxSkew: {{ .Values.topologySpread.maxSkew }}
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: {{ .Values.topologySpread.whenUnsatisfiable }}
      labelSelector:
        matchLabels:
          {{- include "app.selectorLabels" . | nindent 10 }}
      {{- if eq $kind "Deployment" }}
      # Count only the pods of the current ReplicaSet, so a rollout spreads too.
      matchLabelKeys:
        - pod-template-hash
      {{- end }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}

{{/*
A PersistentVolumeClaim's spec from a volume's `claim`.
*/}}
{{- define "app.claimSpec" -}}
accessModes:
  - {{ .accessMode }}
{{- with .storageClassName }}
storageClassName: {{ . | quote }}
{{- end }}
resources:
  requests:
    storage: {{ .size | quote }}
{{- end }}

{{/*
checkov exceptions, as annotations checkov itself honours, so that anyone scanning the rendered
manifests gets the same result. Call with the candidate check ids followed by the root
context: each id needs its reason here, and is written only when the values make its check
fail (an image pinned by digest needs no CKV_K8S_43 exception), so no exception is stale.
The README's Security section lists every exception.
*/}}
{{- define "app.checkovSkips" -}}
{{- $root := last . }}
{{- $values := $root.Values }}
{{- $uid := -1 }}
{{- if hasKey $values.podSecurityContext "runAsUser" }}
{{- $uid = int $values.podSecurityContext.runAsUser }}
{{- end }}
{{- if hasKey $values.securityContext "runAsUser" }}
{{- $uid = int $values.securityContext.runAsUser }}
{{- end }}
{{- $noProbe := and (eq $values.probe.type "none") (ne $values.workload.kind "CronJob") }}
{{- $applies := dict
  "CKV_K8S_15" (and (not $values.image.digest) (ne $values.image.pullPolicy "Always"))
  "CKV_K8S_43" (not $values.image.digest)
  "CKV_K8S_40" (lt $uid 10000)
  "CKV_K8S_23" (eq $uid 0)
  "CKV_K8S_35" (not (empty $values.secretEnv))
  "CKV_K8S_22" (not $values.securityContext.readOnlyRootFilesystem)
  "CKV_K8S_8" $noProbe
  "CKV_K8S_9" $noProbe
}}
{{- $reasons := dict
  "CKV_K8S_15" "the image is pinned to a release tag; IfNotPresent lets pods restart while the registry is unreachable"
  "CKV_K8S_43" "the image is pinned by the release tag the datacenter gives; a digest, when given, pins it and drops this exception"
  "CKV_K8S_40" "runs as the uid the datacenter declares for this image (run.user), the user that owns its files"
  "CKV_K8S_23" "the datacenter declares that this image runs as root (run.user 0); its namespace is labelled Pod Security baseline"
  "CKV_K8S_35" "the image reads these settings from env variables; they come from Secrets created in the cluster, never rendered"
  "CKV_K8S_22" "the datacenter declares that this image writes to its root filesystem (run.readOnlyRootFilesystem false)"
  "CKV_K8S_8" "the datacenter declares no health check for this image (probe none), so there is nothing to probe"
  "CKV_K8S_9" "the datacenter declares no health check for this image (probe none); a running pod is ready"
}}
{{- $count := 0 }}
{{- range $check := initial . }}
{{- $reason := required (printf "no reason for %s" $check) (get $reasons $check) }}
{{- if get $applies $check }}
{{- $count = add1 $count }}
checkov.io/skip{{ $count }}: {{ printf "%s=%s" $check $reason | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/*
checkov exceptions of the `helm test` pod (the form of nginx.checkovSkips: every id applies).
*/}}
{{- define "app.checkovTestSkips" -}}
{{- $reasons := dict
  "CKV_K8S_15" "the image is pinned to a release tag; IfNotPresent lets pods restart while the registry is unreachable"
  "CKV_K8S_43" "images are pinned by release tag (a multi-arch index); chartgen's image catalog records tags, not digests"
  "CKV_K8S_8" "a helm test pod runs once to completion; there is nothing to keep alive"
  "CKV_K8S_9" "a helm test pod runs once to completion and receives no traffic"
}}
{{- range $index, $check := . }}
checkov.io/skip{{ add1 $index }}: {{ printf "%s=%s" $check (required (printf "no reason for %s" $check) (get $reasons $check)) | quote }}
{{- end }}
{{- end }}
