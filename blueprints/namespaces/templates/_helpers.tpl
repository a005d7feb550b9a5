{{/*
The chart name, or nameOverride; 63 characters at most (a DNS label).
*/}}
{{- define "namespaces.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "namespaces.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object of the chart.
*/}}
{{- define "namespaces.labels" -}}
helm.sh/chart: {{ include "namespaces.chart" . }}
{{ include "namespaces.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chartgen
{{- end }}

{{/*
Labels that identify the release's objects (stable across upgrades: never the version).
*/}}
{{- define "namespaces.selectorLabels" -}}
app.kubernetes.io/name: {{ include "namespaces.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The Pod Security labels of one level: enforced on pods, and warned about and audited on the
workloads too (enforcement alone rejects only pods, so a Deployment that breaks the level would
be accepted and then silently never get its pods). Call with (dict "level" L "version" V).
*/}}
{{- define "namespaces.podSecurityLabels" -}}
{{- range $mode := list "enforce" "warn" "audit" }}
pod-security.kubernetes.io/{{ $mode }}: {{ $.level | quote }}
pod-security.kubernetes.io/{{ $mode }}-version: {{ $.version | quote }}
{{- end }}
{{- end }}
