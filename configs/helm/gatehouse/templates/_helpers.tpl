{{/* The chart's name, or nameOverride. */}}
{{- define "gatehouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resource name: fullnameOverride, else release-chart. */}}
{{- define "gatehouse.fullname" -}}
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

{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gatehouse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "gatehouse.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gatehouse.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "gatehouse.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
The variables that carry secrets. The chart refuses them in `config`: they
are read from a Secret through secretKeyRef, never written into a manifest.
*/}}
{{- define "gatehouse.secretVariables" -}}
GATEHOUSE_DATABASE_URL GATEHOUSE_REDIS_URL GATEHOUSE_SECRET GATEHOUSE_JWT_KEY GATEHOUSE_TOTP_ENCRYPTION_KEYS GATEHOUSE_SMS_WEBHOOK_SECRET GATEHOUSE_SMTP_PASSWORD GATEHOUSE_TENCENT_SECRET_KEY GATEHOUSE_LARK_APP_SECRET GATEHOUSE_BOOTSTRAP_PASSWORD
{{- end }}

{{/* Where the signing key's Secret is mounted. */}}
{{- define "gatehouse.keyDir" -}}/etc/gatehouse/keys{{- end }}

{{/*
The environment of every Gatehouse container (the server and the migration
Job alike, so both read the same configuration and pass the same checks).
An empty value in `config` is left out, so the service's default applies.
*/}}
{{- define "gatehouse.env" -}}
{{- $secretVars := splitList " " (include "gatehouse.secretVariables" .) }}
{{- $fixed := list "GATEHOUSE_HTTP_ADDR" "GATEHOUSE_METRICS_ADDR" "GATEHOUSE_MIGRATE_ON_START" "GATEHOUSE_JWT_KEY_FILE" }}
- name: GATEHOUSE_HTTP_ADDR
  value: ":8080"
{{- if .Values.metrics.enabled }}
- name: GATEHOUSE_METRICS_ADDR
  value: {{ printf ":%v" .Values.metrics.port | quote }}
{{- end }}
- name: GATEHOUSE_MIGRATE_ON_START
  value: {{ ternary "false" "true" .Values.migration.enabled | quote }}
{{- if .Values.secrets.jwtKey.secretName }}
- name: GATEHOUSE_JWT_KEY_FILE
  value: {{ printf "%s/%s" (include "gatehouse.keyDir" .) .Values.secrets.jwtKey.key | quote }}
{{- end }}
{{- range $name, $value := .Values.config }}
{{- if has $name $secretVars }}
{{- fail (printf "config.%s carries a secret: reference it under secrets.env instead" $name) }}
{{- end }}
{{- if has $name $fixed }}
{{- fail (printf "config.%s is set by the chart" $name) }}
{{- end }}
{{- if not (hasPrefix "GATEHOUSE_" $name) }}
{{- fail (printf "config.%s: only GATEHOUSE_* settings belong in config" $name) }}
{{- end }}
{{- if ne (toString $value) "" }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- range $name, $ref := .Values.secrets.env }}
{{- if hasKey $.Values.config $name }}
{{- fail (printf "%s is set both in config and in secrets.env" $name) }}
{{- end }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
{{- if kindIs "string" $ref }}
      name: {{ required "secrets.existingSecret names the Secret of secrets.env" $.Values.secrets.existingSecret }}
      key: {{ $ref }}
{{- else }}
      name: {{ required (printf "secrets.env.%s.secretName" $name) $ref.secretName }}
      key: {{ required (printf "secrets.env.%s.key" $name) $ref.key }}
{{- if hasKey $ref "optional" }}
      optional: {{ $ref.optional }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The signing key's volume and mount, when a Secret is named. */}}
{{- define "gatehouse.keyVolume" -}}
{{- if .Values.secrets.jwtKey.secretName }}
- name: jwt-key
  secret:
    secretName: {{ .Values.secrets.jwtKey.secretName }}
    defaultMode: 0440
    items:
      - key: {{ .Values.secrets.jwtKey.key }}
        path: {{ .Values.secrets.jwtKey.key }}
{{- end }}
{{- end }}

{{- define "gatehouse.keyMount" -}}
{{- if .Values.secrets.jwtKey.secretName }}
- name: jwt-key
  mountPath: {{ include "gatehouse.keyDir" . }}
  readOnly: true
{{- end }}
{{- end }}
