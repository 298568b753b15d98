{{/* The chart name, or nameOverride. */}}
{{- define "tracing-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: fullnameOverride, else the release name when it already
contains the chart name, else "<release>-<chart>". Cluster-scoped objects (ClusterRole, binding)
carry it too, so two releases never share one.
*/}}
{{- define "tracing-operator.fullname" -}}
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

{{- define "tracing-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: stable for the life of a release (a Deployment's selector is immutable). */}}
{{- define "tracing-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tracing-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels on every object. managed-by is Helm: the operator's own proof of creation
(app.kubernetes.io/managed-by=tracing-operator plus its owner annotation) never appears on the
chart's objects, so the operator never mistakes them for ones it manages.
*/}}
{{- define "tracing-operator.labels" -}}
helm.sh/chart: {{ include "tracing-operator.chart" . }}
{{ include "tracing-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tracing-operator
{{- end }}

{{- define "tracing-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tracing-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tracing-operator.rootNamespace" -}}
{{- default .Release.Namespace .Values.rootNamespace }}
{{- end }}

{{- define "tracing-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
