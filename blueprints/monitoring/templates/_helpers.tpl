{{/*
The chart name, or nameOverride; 63 characters at most (a DNS label).
*/}}
{{- define "monitoring.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's full name (the release name: chartgen names its platform releases itself).
*/}}
{{- define "monitoring.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "monitoring.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object of the chart.
*/}}
{{- define "monitoring.labels" -}}
helm.sh/chart: {{ include "monitoring.chart" . }}
{{ include "monitoring.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chartgen
{{- end }}

{{/*
Labels that identify the release's objects (stable across upgrades: never the version).
*/}}
{{- define "monitoring.selectorLabels" -}}
app.kubernetes.io/name: {{ include "monitoring.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Which namespaces may attach HTTPRoutes to a listener: the exposed services' (Kubernetes labels
every namespace with its name). Call with .Values.gateway.
*/}}
{{- define "monitoring.allowedRoutes" -}}
namespaces:
  from: Selector
  selector:
    matchExpressions:
      - key: kubernetes.io/metadata.name
        operator: In
        values:
          {{- toYaml .routeNamespaces | nindent 10 }}
kinds:
  - group: gateway.networking.k8s.io
    kind: HTTPRoute
{{- end }}
