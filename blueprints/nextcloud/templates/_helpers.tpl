{{/*
Name of the chart, or nameOverride.
*/}}
{{- define "nextcloud.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name, truncated at 63 characters (DNS label). A release name that
contains the chart name is used as is.
*/}}
{{- define "nextcloud.fullname" -}}
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
Prefix of the component names (`<prefix>-postgresql`, `<prefix>-cron`, ...): the full name cut
to 41 characters, so that a StatefulSet or CronJob name plus its suffix stays within 52.
*/}}
{{- define "nextcloud.prefix" -}}
{{- include "nextcloud.fullname" . | trunc 41 | trimSuffix "-" }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "nextcloud.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "nextcloud.labels" -}}
helm.sh/chart: {{ include "nextcloud.chart" . }}
{{ include "nextcloud.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: chartgen
{{- end }}

{{/*
Selector labels of the release (every component adds app.kubernetes.io/component).
*/}}
{{- define "nextcloud.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nextcloud.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Object names.
*/}}
{{- define "nextcloud.dataClaim" -}}
{{- printf "%s-data" (include "nextcloud.prefix" .) }}
{{- end }}

{{- define "nextcloud.backupClaim" -}}
{{- printf "%s-backup" (include "nextcloud.prefix" .) }}
{{- end }}

{{- define "nextcloud.postgresql" -}}
{{- printf "%s-postgresql" (include "nextcloud.prefix" .) }}
{{- end }}

{{- define "nextcloud.redis" -}}
{{- printf "%s-redis" (include "nextcloud.prefix" .) }}
{{- end }}

{{/*
The Secret holding the passwords: the user's, or the one the hook Job creates.
*/}}
{{- define "nextcloud.credentialsSecret" -}}
{{- if .Values.credentials.existingSecret }}
{{- .Values.credentials.existingSecret }}
{{- else }}
{{- printf "%s-credentials" (include "nextcloud.prefix" .) }}
{{- end }}
{{- end }}

{{/*
A PHP single-quoted string literal.
*/}}
{{- define "nextcloud.phpString" -}}
{{- printf "'%s'" (. | toString | replace "\\" "\\\\" | replace "'" "\\'") }}
{{- end }}

{{/*
A config.php value of `nextcloud.extraConfig` as a PHP literal: strings through
nextcloud.phpString, numbers as JSON writes them (a PHP number literal too), booleans, and
lists of those as arrays.
*/}}
{{- define "nextcloud.phpValue" -}}
{{- if kindIs "string" . }}
{{- include "nextcloud.phpString" . }}
{{- else if kindIs "bool" . }}
{{- ternary "true" "false" . }}
{{- else if kindIs "slice" . }}
{{- print "array(" }}
{{- range $index, $item := . }}{{ $index }} => {{ include "nextcloud.phpValue" $item }}, {{ end }}
{{- print ")" }}
{{- else if or (kindIs "float64" .) (kindIs "int64" .) (kindIs "int" .) }}
{{- toJson . }}
{{- else }}
{{- fail (printf "nextcloud.extraConfig: unsupported value %v" .) }}
{{- end }}
{{- end }}

{{/*
Image reference of an {repository, tag} value.
*/}}
{{- define "nextcloud.image" -}}
{{- printf "%s:%s" .repository .tag }}
{{- end }}

{{/*
The effective number of Nextcloud pods that may run at once.
*/}}
{{- define "nextcloud.scaled" -}}
{{- if or (gt (int .Values.replicaCount) 1) (and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) 1)) }}true{{- end }}
{{- end }}

{{/*
Environment shared by every container running Nextcloud's PHP (FPM, cron, upgrade Job):
database settings for the image's installer, the admin account, and Redis. Passwords come
from the credentials Secret. REDIS_HOST is deliberately not set: the image's entrypoint would
then write into /usr/local/etc, which uid 33 cannot; chartgen configures Redis itself.
*/}}
{{- define "nextcloud.env" -}}
- name: POSTGRES_HOST
  value: {{ include "nextcloud.postgresql" . | quote }}
- name: POSTGRES_DB
  value: {{ .Values.postgresql.database | quote }}
- name: POSTGRES_USER
  value: {{ .Values.postgresql.username | quote }}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "nextcloud.credentialsSecret" . }}
      key: postgres-password
- name: NEXTCLOUD_ADMIN_USER
  value: {{ .Values.nextcloud.adminUser | quote }}
- name: NEXTCLOUD_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "nextcloud.credentialsSecret" . }}
      key: admin-password
- name: NEXTCLOUD_TRUSTED_DOMAINS
  value: {{ .Values.nextcloud.host | quote }}
- name: PHP_MEMORY_LIMIT
  value: {{ .Values.php.memoryLimit | quote }}
- name: PHP_UPLOAD_LIMIT
  value: {{ .Values.php.uploadLimit | quote }}
{{- with .Values.nextcloud.mail.existingSecret }}
- name: CHARTGEN_SMTP_NAME
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: username
- name: CHARTGEN_SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: password
{{- end }}
{{- if .Values.redis.enabled }}
- name: CHARTGEN_REDIS_HOST
  value: {{ include "nextcloud.redis" . | quote }}
- name: CHARTGEN_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "nextcloud.credentialsSecret" . }}
      key: redis-password
{{- end }}
{{- end }}

{{/*
Pod-level scheduling of the Nextcloud, cron and upgrade pods.
*/}}
{{- define "nextcloud.appScheduling" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Volumes of a pod running Nextcloud's PHP: the data claim, the config ConfigMap and /tmp.
*/}}
{{- define "nextcloud.appVolumes" -}}
- name: html
  persistentVolumeClaim:
    claimName: {{ include "nextcloud.dataClaim" . }}
- name: config
  configMap:
    name: {{ include "nextcloud.prefix" . }}-config
- name: tmp
  emptyDir: {}
{{- end }}

{{/*
checkov exceptions, as annotations checkov itself honours, so that anyone scanning the rendered
manifests gets the same result. Call with a list of check ids; each id needs its reason here.
The README's Security section lists every exception.
*/}}
{{- define "nextcloud.checkovSkips" -}}
{{- $reasons := dict
  "CKV_K8S_15" "the image is pinned to a release tag; IfNotPresent lets pods restart while the registry is unreachable"
  "CKV_K8S_43" "images are pinned by release tag (a multi-arch index); chartgen's image catalog records tags, not digests"
  "CKV_K8S_40" "runs as the image's own user (www-data 33 owns the Nextcloud web root; postgres and redis 999 own their data)"
  "CKV_K8S_35" "the official images take these passwords from env variables; the values come from a Secret created in the cluster, never rendered"
  "CKV_K8S_38" "this hook creates the credentials Secret through the API; its Role allows only that"
}}
{{- range $index, $check := . }}
checkov.io/skip{{ add1 $index }}: {{ printf "%s=%s" $check (required (printf "no reason for %s" $check) (get $reasons $check)) | quote }}
{{- end }}
{{- end }}

{{/*
checkov exceptions of a `helm test` pod (same form as nextcloud.checkovSkips).
*/}}
{{- define "nextcloud.checkovTestSkips" -}}
{{- $reasons := dict
  "CKV_K8S_15" "the image is pinned to a release tag; IfNotPresent lets pods restart while the registry is unreachable"
  "CKV_K8S_43" "images are pinned by release tag (a multi-arch index); chartgen's image catalog records tags, not digests"
  "CKV_K8S_8" "a helm test pod runs once to completion; there is nothing to keep alive"
  "CKV_K8S_9" "a helm test pod runs once to completion and receives no traffic"
  "CKV_K8S_40" "runs as the image's own user (www-data 33 owns the Nextcloud web root; postgres and redis 999 own their data)"
}}
{{- range $index, $check := . }}
checkov.io/skip{{ add1 $index }}: {{ printf "%s=%s" $check (required (printf "no reason for %s" $check) (get $reasons $check)) | quote }}
{{- end }}
{{- end }}

{{/*
Script of the init container that waits for PostgreSQL ($1 its Service, $2 the user name):
pg_isready every 5 seconds, for 10 minutes at most; then it fails and the kubelet retries the
pod with back-off.
*/}}
{{- define "nextcloud.waitForPostgresql" -}}
tries=0
until pg_isready -q -h "$1" -p 5432 -U "$2" -t 5; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "PostgreSQL ($1) did not accept connections for 10 minutes" >&2
    exit 1
  fi
  sleep 5
done
{{- end }}

{{/*
Readiness of the PHP-FPM container ($1 Nextcloud's host): status.php, asked through the web
front on the pod's loopback, reports "installed":true (what `occ status` reports, without
starting a PHP process). Until then the pod gets no traffic, so the web installer is never
served.
*/}}
{{- define "nextcloud.installedProbe" -}}
status=$(curl -fsS --max-time 4 -H "Host: $1" http://127.0.0.1:8080/status.php) || exit 1
case "$status" in
  *'"installed":true'*) exit 0 ;;
esac
exit 1
{{- end }}
