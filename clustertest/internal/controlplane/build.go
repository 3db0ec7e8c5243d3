package controlplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// recipe changes when Build changes how it builds, so that the key does too.
const recipe = 1

// kwokStages are the stages kwok's fake nodes and pods follow, from kwok's module:
// nodes turn Ready and keep a heartbeat, pods turn Ready, complete or go away.
var kwokStages = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat/node-heartbeat.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

// ColdBuild is how long a build takes with an empty Go build cache, as measured on
// two cores; Build says it before it starts.
const ColdBuild = "about 10 minutes on 2 cores"

// Build builds the binaries into the build directory for [Key] under cache, unless a
// complete build is there, and returns that directory. The go command's output and a
// line before and after go to log. An interrupted build leaves no directory that
// [Find] would take.
func Build(ctx context.Context, cache string, log io.Writer) (string, error) {
	key, err := Key()
	if err != nil {
		return "", err
	}
	dest := filepath.Join(BuildsDir(cache), key)
	if isComplete(dest) {
		return dest, nil
	}
	v, err := ModuleVersions()
	if err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command builds the control plane: %w", err)
	}
	if err := os.MkdirAll(BuildsDir(cache), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(BuildsDir(cache), ".build-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	src, bin := filepath.Join(tmp, "module"), filepath.Join(tmp, "bin")
	if err := WriteModule(src); err != nil {
		return "", fmt.Errorf("write the builder module: %w", err)
	}
	if err := os.Mkdir(bin, 0o755); err != nil {
		return "", err
	}

	start := time.Now()
	fmt.Fprintf(log, "building Kubernetes %s, etcd %s and kwok %s into %s (a cold build takes %s)\n",
		v.Kubernetes, v.Etcd, v.Kwok, dest, ColdBuild)
	// -mod=readonly builds exactly what go.sum pins, whatever GOFLAGS the caller has;
	// GOWORK=off keeps a workspace of the caller's out.
	env := append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly")
	build := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags", ldflags(v.Kubernetes),
		"-o", bin+string(filepath.Separator), "./cmd/...", "sigs.k8s.io/kwok/cmd/kwok")
	build.Dir, build.Env, build.Stdout, build.Stderr = src, env, log, log
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("go build in %s: %w", src, err)
	}
	list := exec.CommandContext(ctx, goBin, "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok")
	list.Dir, list.Env, list.Stderr = src, env, log
	kwokDir, err := list.Output()
	if err != nil {
		return "", fmt.Errorf("find kwok's module: %w", err)
	}
	if err := writeStages(filepath.Join(bin, "kwok-stages.yaml"), strings.TrimSpace(string(kwokDir))); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(bin, complete), []byte(key+"\n"), 0o644); err != nil {
		return "", err
	}
	if err := install(bin, dest); err != nil {
		return "", err
	}
	fmt.Fprintf(log, "built in %s\n", time.Since(start).Round(time.Second))
	return dest, nil
}

// install moves a finished build into place. Another build of the same key that
// finished first wins; an interrupted one is replaced.
func install(bin, dest string) error {
	err := os.Rename(bin, dest)
	if err == nil || isComplete(dest) {
		return nil
	}
	if rmErr := os.RemoveAll(dest); rmErr != nil {
		return errors.Join(err, rmErr)
	}
	return os.Rename(bin, dest)
}

// writeStages concatenates kwok's stages into one file. Each must start its own YAML
// document: kwok silently drops the stages after the first of a file otherwise.
func writeStages(path, kwokDir string) error {
	var b bytes.Buffer
	for _, s := range kwokStages {
		data, err := os.ReadFile(filepath.Join(kwokDir, filepath.FromSlash(s)))
		if err != nil {
			return fmt.Errorf("kwok stage: %w", err)
		}
		b.WriteString("---\n")
		b.Write(data)
		if !bytes.HasSuffix(data, []byte("\n")) {
			b.WriteString("\n")
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// ldflags strip the binaries and stamp the Kubernetes version, which discovery
// reports and Helm and kubectl check.
func ldflags(kubeVersion string) string {
	minor := strings.SplitN(strings.TrimPrefix(kubeVersion, "v1."), ".", 2)[0]
	flags := []string{"-s", "-w"}
	for _, pkg := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		flags = append(flags,
			"-X", pkg+".gitVersion="+kubeVersion,
			"-X", pkg+".gitMajor=1",
			"-X", pkg+".gitMinor="+minor)
	}
	flags = append(flags, "-X", "k8s.io/component-base/version.gitTreeState=clean")
	return strings.Join(flags, " ")
}
