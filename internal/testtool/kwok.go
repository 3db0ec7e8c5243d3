package testtool

// FailPodsStage is a kwok Stage (for clustertest.Options.KwokStages) that fails
// the pods labelled gitopskit.io/kwok: fail once they run, with exit code 1: its
// weight wins over kwok's own stage that completes the pods of a Job, so a Job
// whose pod template carries the label fails (at once with backoffLimit: 0).
const FailPodsStage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-fail-on-label
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchLabels:
      gitopskit.io/kwok: fail
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
  weight: 1000
  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 1
            finishedAt: {{ $now | Quote }}
            reason: Error
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Failed
`
