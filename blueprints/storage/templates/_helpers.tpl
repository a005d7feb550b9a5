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

{{/*
checkov exceptions, as annotations checkov itself honours, so that anyone scanning the rendered
manifests gets the same result. Call with a list of check ids; each id needs its reason here.
The README's Security section lists every exception.
*/}}
{{- define "storage.checkovSkips" -}}
{{- $reasons := dict
  "CKV_K8S_15" "the image is pinned to a release tag; IfNotPresent lets pods restart while the registry is unreachable"
  "CKV_K8S_43" "images are pinned by release tag (a multi-arch index); chartgen's image catalog records tags, not digests"
  "CKV_K8S_38" "the NFS provisioner creates PersistentVolumes through the API (its ClusterRole allows only that)"
  "CKV_K8S_8" "the NFS provisioner serves no port and has no health endpoint to probe"
  "CKV_K8S_9" "the NFS provisioner serves no port and receives no traffic"
}}
{{- range $index, $check := . }}
checkov.io/skip{{ add1 $index }}: {{ printf "%s=%s" $check (required (printf "no reason for %s" $check) (get $reasons $check)) | quote }}
{{- end }}
{{- end }}

{{/*
checkov exceptions of a `helm test` pod (same form as storage.checkovSkips).
*/}}
{{- define "storage.checkovTestSkips" -}}
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
