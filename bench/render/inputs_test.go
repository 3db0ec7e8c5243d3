package render_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kustomizeResources is the number of resources in the generated base.
const kustomizeResources = 2000

// writeKustomization writes a base of 2,000 resources (Deployments, Services and
// ConfigMaps in 100 files) and an overlay with a name prefix, labels, a
// strategic-merge and a JSON6902 patch, an image override and a configMapGenerator.
// It returns the artifact root; the overlay is "overlay".
func writeKustomization(b *testing.B) string {
	b.Helper()
	root := b.TempDir()
	var files []string
	for f := 0; f < 100; f++ {
		var doc strings.Builder
		for i := 0; i < kustomizeResources/100; i++ {
			n := f*kustomizeResources/100 + i
			switch n % 4 {
			case 0, 1:
				fmt.Fprintf(&doc, `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-%d
  labels: {app: app-%d}
spec:
  replicas: 1
  selector:
    matchLabels: {app: app-%d}
  template:
    metadata:
      labels: {app: app-%d}
    spec:
      containers:
        - name: main
          image: nginx:1.25
          ports: [{containerPort: 80}]
          envFrom: [{configMapRef: {name: settings}}]
`, n, n, n, n)
			case 2:
				fmt.Fprintf(&doc, "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc-%d\nspec:\n  selector: {app: app-%d}\n  ports: [{port: 80}]\n", n, n-2)
			default:
				fmt.Fprintf(&doc, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  key: value-%d\n", n, n)
			}
		}
		name := fmt.Sprintf("resources-%03d.yaml", f)
		write(b, filepath.Join(root, "base", name), doc.String())
		files = append(files, name)
	}
	write(b, filepath.Join(root, "base", "kustomization.yaml"), "resources:\n  - "+strings.Join(files, "\n  - ")+"\n")
	write(b, filepath.Join(root, "overlay", "kustomization.yaml"), `namespace: bench
namePrefix: prod-
labels:
  - pairs: {env: prod}
    includeSelectors: false
resources:
  - ../base
patches:
  - path: resources.yaml
    target: {kind: Deployment}
  - target: {kind: Deployment}
    patch: |-
      - op: replace
        path: /spec/replicas
        value: 2
images:
  - name: nginx
    newTag: "1.27"
configMapGenerator:
  - name: settings
    literals: [MODE=prod, REGION=eu]
`)
	write(b, filepath.Join(root, "overlay", "resources.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: any
spec:
  template:
    spec:
      containers:
        - name: main
          resources:
            limits: {memory: 128Mi}
`)
	return root
}

// chartObjects is about the number of objects the generated chart renders.
const chartObjects = 1000

// writeChart writes a chart whose templates render 1,000 objects from values,
// returning the artifact root; the chart is "chart".
func writeChart(b *testing.B) string {
	b.Helper()
	root := b.TempDir()
	write(b, filepath.Join(root, "chart", "Chart.yaml"), "apiVersion: v2\nname: bench\nversion: 1.0.0\n")
	write(b, filepath.Join(root, "chart", "values.yaml"), fmt.Sprintf("count: %d\nimage: nginx:1.27\n", chartObjects/4))
	write(b, filepath.Join(root, "chart", "templates", "_helpers.tpl"), `{{- define "bench.labels" -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/name: app-{{ .i }}
{{- end -}}
`)
	for _, kind := range []string{"deployment", "service", "configmap", "serviceaccount"} {
		write(b, filepath.Join(root, "chart", "templates", kind+".yaml"), chartTemplate(kind))
	}
	return root
}

func chartTemplate(kind string) string {
	body := map[string]string{
		"deployment": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $.Release.Name }}-app-{{ $i }}
  labels:
    {{- include "bench.labels" (dict "root" $ "i" $i) | nindent 4 }}
spec:
  replicas: 2
  selector:
    matchLabels:
      {{- include "bench.labels" (dict "root" $ "i" $i) | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "bench.labels" (dict "root" $ "i" $i) | nindent 8 }}
    spec:
      serviceAccountName: {{ $.Release.Name }}-sa-{{ $i }}
      containers:
        - name: main
          image: {{ $.Values.image | quote }}
          envFrom: [{configMapRef: {name: {{ $.Release.Name }}-cm-{{ $i }}}}]
`,
		"service": `apiVersion: v1
kind: Service
metadata:
  name: {{ $.Release.Name }}-svc-{{ $i }}
  labels:
    {{- include "bench.labels" (dict "root" $ "i" $i) | nindent 4 }}
spec:
  selector:
    {{- include "bench.labels" (dict "root" $ "i" $i) | nindent 4 }}
  ports: [{port: 80}]
`,
		"configmap": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $.Release.Name }}-cm-{{ $i }}
data:
  index: {{ $i | quote }}
`,
		"serviceaccount": `apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $.Release.Name }}-sa-{{ $i }}
`,
	}[kind]
	return "{{- range $i := until (int .Values.count) }}\n---\n" + body + "{{- end }}\n"
}

func write(b *testing.B, name, content string) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}
