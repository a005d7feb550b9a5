{{/*
The chart name, or nameOverride; 63 characters at most (a DNS label).
*/}}
{{- define "storage.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's objects: fullnameOverride, else the release name (when it
already contains the chart name, as chartgen-storage does), else "release-chart"; 63
characters at most.
*/}}
{{- define "storage.fullname" -}}
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
{{- define "storage.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object of the chart.
*/}}
{{- define "storage.labels" -}}
helm.sh/chart: {{ include "storage.chart" . }}
{{ include "storage.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chartgen
{{- end }}

{{/*
Labels shared by every selector of the chart (stable across upgrades: never the version).
*/}}
{{- define "storage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "storage.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels that tell the provisioner of one NFS class from the others; added to the selector
labels and to the labels. The class goes in a label of its own: "nfs-<class>" could exceed
the 63 characters of a label value. Call with the class.
*/}}
{{- define "storage.provisionerLabels" -}}
app.kubernetes.io/component: nfs-provisioner
chartgen.io/storage-class: {{ .name | quote }}
{{- end }}

{{/*
Name of the provisioner Deployment of one NFS class (an object name may be 253 characters
long, so it is not truncated: truncating could give two classes the same name).
Call with (dict "root" $ "class" $class).
*/}}
{{- define "storage.provisionerDeploymentName" -}}
{{- printf "%s-nfs-%s" (include "storage.fullname" .root) .class.name }}
{{- end }}

{{/*
The ServiceAccount that every NFS provisioner of the release runs as.
*/}}
{{- define "storage.serviceAccountName" -}}
{{- printf "%s-nfs-provisioner" (include "storage.fullname" .) }}
{{- end }}

{{/*
Folder of a local volume on its node: <class path>/<claim namespace>-<claim name>.
Call with (dict "class" $class "volume" $volume).
*/}}
{{- define "storage.localVolumePath" -}}
{{- printf "%s/%s-%s" (trimSuffix "/" .class.path) .volume.claim.namespace .volume.claim.name }}
{{- end }}

{{/*
Name of the PersistentVolume of a local volume: the claim's namespace and name, which are
unique among the claims. Call with (dict "volume" $volume).
*/}}
{{- define "storage.localVolumeName" -}}
{{- printf "%s-%s" .volume.claim.namespace .volume.claim.name }}
{{- end }}
