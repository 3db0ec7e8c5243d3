package workload

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The generated chart: [ChartComponents] components of three templates each, ten
// objects per component, and a pre-install hook Job in the first two.
const (
	ChartComponents = 100
	ChartTemplates  = 3 * ChartComponents    // besides _helpers.tpl
	ChartObjects    = 10*ChartComponents + 2 // the two hooks included
)

// WriteChart writes a chart of [ChartTemplates] templates rendering
// [ChartObjects] objects into dir, shaped like an umbrella chart of many
// services: a values.yaml with a block per component (image, replicas, ports,
// environment, resources), labels and names from _helpers.tpl, toYaml and
// nindent for nested values, and, per component, a workload template
// (Deployment, ServiceAccount, Role, RoleBinding), a network template (Service,
// Ingress, NetworkPolicy) and a config template (ConfigMap, Secret,
// PodDisruptionBudget, and a hook Job for the components whose values ask for
// one).
func WriteChart(dir string) error {
	files := map[string]string{
		"Chart.yaml":             "apiVersion: v2\nname: fleet\nversion: 1.0.0\nappVersion: \"2.4.1\"\n",
		"values.yaml":            chartValues(),
		"templates/_helpers.tpl": chartHelpers,
	}
	for c := range ChartComponents {
		name := fmt.Sprintf("c%03d", c)
		for kind, body := range map[string]string{"workload": workloadTemplate, "network": networkTemplate, "config": configTemplate} {
			files["templates/"+name+"/"+kind+".yaml"] = strings.ReplaceAll(templatePreamble+body, "COMPONENT", name)
		}
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func chartValues() string {
	var b strings.Builder
	b.WriteString("global:\n  registry: registry.example.com\n  domain: apps.example.com\n  team: platform\ncomponents:\n")
	for c := range ChartComponents {
		fmt.Fprintf(&b, `  c%03d:
    image: {repository: svc-%d, tag: "1.%d.0"}
    replicas: %d
    port: %d
    hook: %t
    env:
      LOG_LEVEL: info
      COMPONENT_ID: "%d"
      FEATURE_FLAGS: "a,b,c"
    resources:
      requests: {cpu: 100m, memory: 128Mi}
      limits: {cpu: "1", memory: 512Mi}
    config:
      settings.yaml: |
        listen: ":%d"
        upstreams: [c%03d, c%03d]
`, c, c, c%7, 1+c%3, 8000+c, c < 2, c, 8000+c, (c+1)%ChartComponents, (c+2)%ChartComponents)
	}
	return b.String()
}

const chartHelpers = `{{- define "fleet.fullname" -}}
{{ printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "fleet.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
team: {{ .root.Values.global.team }}
{{- end -}}

{{- define "fleet.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}
`

// templatePreamble starts every component template: its values, the context of
// the helpers, its full name.
const templatePreamble = `{{- $c := index .Values.components "COMPONENT" }}
{{- $ctx := dict "root" $ "name" "COMPONENT" }}
{{- $name := include "fleet.fullname" $ctx }}
`

const workloadTemplate = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "fleet.labels" $ctx | nindent 4 }}
spec:
  replicas: {{ $c.replicas | default 1 }}
  selector:
    matchLabels:
      {{- include "fleet.selector" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "fleet.labels" $ctx | nindent 8 }}
      annotations:
        checksum/config: {{ toYaml $c.config | sha256sum }}
    spec:
      serviceAccountName: {{ $name }}
      containers:
        - name: main
          image: "{{ .Values.global.registry }}/{{ $c.image.repository }}:{{ $c.image.tag }}"
          ports:
            - name: http
              containerPort: {{ $c.port }}
          env:
            {{- range $k, $v := $c.env }}
            - name: {{ $k }}
              value: {{ $v | quote }}
            {{- end }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          volumeMounts:
            - {name: config, mountPath: /etc/COMPONENT}
      volumes:
        - name: config
          configMap: {name: {{ $name }}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  labels:
    {{- include "fleet.labels" $ctx | nindent 4 }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ $name }}
  labels:
    {{- include "fleet.labels" $ctx | nindent 4 }}
rules:
  - apiGroups: [""]
    resources: [configmaps, secrets]
    resourceNames: [{{ $name }}]
    verbs: [get, watch, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $name }}
  labels:
    {{- include "fleet.labels" $ctx | nindent 4 }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{ $name }}}
subjects:
  - {kind: ServiceAccount, name: {{ $name }}, namespace: {{ .Release.Namespace }}}
`

const networkTemplate = `apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "fleet.labels" $ctx | nindent 4 }}
spec:
  selector:
    {{- include "fleet.selector" $ctx | nindent 4 }}
  ports:
    - {name: http, port: 80, targetPort: {{ $c.port }}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $name }}
  labels:
    {{- include "fleet.labels" $ctx | nindent 4 }}
spec:
  rules:
    - host: {{ printf "COMPONENT.%s" .Values.global.domain }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: {{ $name }}, port: {name: http}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $name }}
  labels:
    {{- include "fleet.labels" $ctx | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "fleet.selector" $ctx | nindent 6 }}
  ingress:
    - ports: [{port: {{ $c.port }}}]
`

const configTemplate = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $name }}
  labels:
    {{- include "fleet.labels" $ctx | nindent 4 }}
data:
  {{- toYaml $c.config | nindent 2 }}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ $name }}
  labels:
    {{- include "fleet.labels" $ctx | nindent 4 }}
type: Opaque
data:
  token: {{ printf "%s-token" $name | b64enc }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  labels:
    {{- include "fleet.labels" $ctx | nindent 4 }}
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
      {{- include "fleet.selector" $ctx | nindent 6 }}
{{- if $c.hook }}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ $name }}-migrate
  annotations:
    helm.sh/hook: pre-install
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: "{{ .Values.global.registry }}/{{ $c.image.repository }}:{{ $c.image.tag }}"
          args: [migrate]
{{- end }}
`
