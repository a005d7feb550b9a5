{{/*
The chart name, or nameOverride; 63 characters at most (a DNS label).
*/}}
{{- define "nginx.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources: fullnameOverride, else the release name (when it
already contains the chart name), else "release-chart"; 63 characters at most.
*/}}
{{- define "nginx.fullname" -}}
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
{{- define "nginx.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object of the chart.
*/}}
{{- define "nginx.labels" -}}
helm.sh/chart: {{ include "nginx.chart" . }}
{{ include "nginx.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chartgen
{{- end }}

{{/*
Labels that select the nginx pods (stable across upgrades: never the version).
*/}}
{{- define "nginx.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nginx.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "nginx.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "nginx.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The nginx image reference.
*/}}
{{- define "nginx.image" -}}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end }}

{{/*
checkov exceptions, as annotations checkov itself honours, so that anyone scanning the rendered
manifests gets the same result. Call with a list of check ids; each id needs its reason here.
The README's Security section lists every exception.
*/}}
{{- define "nginx.checkovSkips" -}}
{{- $reasons := dict
  "CKV_K8S_15" "the image is pinned to a release tag; IfNotPresent lets pods restart while the registry is unreachable"
  "CKV_K8S_43" "images are pinned by release tag (a multi-arch index); chartgen's image catalog records tags, not digests"
  "CKV_K8S_40" "runs as uid 101, the image's own unprivileged nginx user that owns its files"
}}
{{- range $index, $check := . }}
checkov.io/skip{{ add1 $index }}: {{ printf "%s=%s" $check (required (printf "no reason for %s" $check) (get $reasons $check)) | quote }}
{{- end }}
{{- end }}

{{/*
checkov exceptions of a `helm test` pod (same form as nginx.checkovSkips).
*/}}
{{- define "nginx.checkovTestSkips" -}}
{{- $reasons := dict
  "CKV_K8S_15" "the image is pinned to a release tag; IfNotPresent lets pods restart while the registry is unreachable"
  "CKV_K8S_43" "images are pinned by release tag (a multi-arch index); chartgen's image catalog records tags, not digests"
  "CKV_K8S_8" "a helm test pod runs once to completion; there is nothing to keep alive"
  "CKV_K8S_9" "a helm test pod runs once to completion and receives no traffic"
  "CKV_K8S_40" "runs as uid 101, the image's own unprivileged nginx user that owns its files"
}}
{{- range $index, $check := . }}
checkov.io/skip{{ add1 $index }}: {{ printf "%s=%s" $check (required (printf "no reason for %s" $check) (get $reasons $check)) | quote }}
{{- end }}
{{- end }}
