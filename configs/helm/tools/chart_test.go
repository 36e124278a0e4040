// Package tools pins the Helm that CI runs (`go tool helm`) and checks the
// chart in ../gatehouse: it renders the chart with Helm's own template
// action (what `helm template` runs), decodes every manifest strictly into
// the Kubernetes API types (an unknown or misspelt field fails), and checks
// what the deployment relies on: kinds, probes, security context,
// resources, the migration hook, and that no secret value is ever inlined.
package tools

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "../gatehouse"

// secretVariables are the settings that carry secrets (the `secret` tags
// of internal/config): the chart must read each from a Secret.
var secretVariables = []string{
	"GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_SECRET", "GATEHOUSE_JWT_KEY",
	"GATEHOUSE_TOTP_ENCRYPTION_KEYS", "GATEHOUSE_SMS_WEBHOOK_SECRET", "GATEHOUSE_SMTP_PASSWORD",
	"GATEHOUSE_TENCENT_SECRET_KEY", "GATEHOUSE_LARK_APP_SECRET", "GATEHOUSE_BOOTSTRAP_PASSWORD",
}

// rendered is one render of the chart, decoded.
type rendered struct {
	kinds          []string
	deployment     *appsv1.Deployment
	service        *corev1.Service
	hpa            *autoscalingv2.HorizontalPodAutoscaler
	pdb            *policyv1.PodDisruptionBudget
	job            *batchv1.Job
	serviceMonitor map[string]any
	raw            string
}

// render runs `helm template gh ../gatehouse` with vals over the chart's
// values and decodes the manifests, hooks included.
func render(t *testing.T, vals map[string]any) (*rendered, error) {
	t.Helper()
	chart, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.ClientOnly = true
	install.Replace = true
	install.ReleaseName = "gh"
	install.Namespace = "auth"
	rel, err := install.Run(chart, vals)
	if err != nil {
		return nil, err
	}
	all := rel.Manifest
	for _, h := range rel.Hooks {
		all += "\n---\n" + h.Manifest
	}
	out := &rendered{raw: all}
	for _, doc := range releaseutil.SplitManifests(all) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("decode %q: %v", doc, err)
		}
		if tm.Kind == "" {
			continue
		}
		out.kinds = append(out.kinds, tm.Kind)
		var target any
		switch tm.Kind {
		case "Deployment":
			out.deployment = &appsv1.Deployment{}
			target = out.deployment
		case "Service":
			out.service = &corev1.Service{}
			target = out.service
		case "HorizontalPodAutoscaler":
			out.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			target = out.hpa
		case "PodDisruptionBudget":
			out.pdb = &policyv1.PodDisruptionBudget{}
			target = out.pdb
		case "Job":
			out.job = &batchv1.Job{}
			target = out.job
		case "ServiceAccount":
			target = &corev1.ServiceAccount{}
		case "ServiceMonitor":
			// Its type lives in the Prometheus Operator's module; a map
			// is enough for the few fields checked.
			out.serviceMonitor = map[string]any{}
			target = &out.serviceMonitor
		default:
			t.Fatalf("unexpected kind %s rendered:\n%s", tm.Kind, doc)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), target); err != nil {
			t.Fatalf("%s does not decode strictly: %v\n%s", tm.Kind, err, doc)
		}
	}
	slices.Sort(out.kinds)
	return out, nil
}

func mustRender(t *testing.T, vals map[string]any) *rendered {
	t.Helper()
	r, err := render(t, vals)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return r
}

func TestDefaultRender(t *testing.T) {
	r := mustRender(t, nil)
	want := []string{"Deployment", "HorizontalPodAutoscaler", "Job", "PodDisruptionBudget", "Service", "ServiceAccount"}
	if !slices.Equal(r.kinds, want) {
		t.Fatalf("kinds = %v, want %v (no Secret, no ServiceMonitor by default)", r.kinds, want)
	}

	d := r.deployment
	if d.Spec.Replicas != nil {
		t.Errorf("replicas = %d with autoscaling on; the HPA owns the count", *d.Spec.Replicas)
	}
	pod := d.Spec.Template.Spec
	checkPodSecurity(t, "Deployment", pod)
	if len(pod.Containers) != 1 {
		t.Fatalf("containers = %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	checkProbe(t, "readiness", c.ReadinessProbe, "/readyz")
	checkProbe(t, "liveness", c.LivenessProbe, "/healthz")
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources = %+v; want cpu and memory requests and a memory limit", c.Resources)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != 8080 || ports["metrics"] != 9090 {
		t.Errorf("container ports = %v", ports)
	}
	env := envMap(c.Env)
	if env["GATEHOUSE_HTTP_ADDR"].Value != ":8080" || env["GATEHOUSE_METRICS_ADDR"].Value != ":9090" {
		t.Errorf("listen addresses: http %q, metrics %q", env["GATEHOUSE_HTTP_ADDR"].Value, env["GATEHOUSE_METRICS_ADDR"].Value)
	}
	if env["GATEHOUSE_MIGRATE_ON_START"].Value != "false" {
		t.Errorf("GATEHOUSE_MIGRATE_ON_START = %q; the migration Job migrates", env["GATEHOUSE_MIGRATE_ON_START"].Value)
	}
	for _, name := range []string{"GATEHOUSE_DATABASE_URL", "GATEHOUSE_REDIS_URL", "GATEHOUSE_SECRET"} {
		ref := env[name].ValueFrom
		if ref == nil || ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != "gatehouse" {
			t.Errorf("%s = %+v; want a secretKeyRef to Secret gatehouse", name, env[name])
		}
	}
	checkNoSecretInlined(t, r)
	if key := env["GATEHOUSE_JWT_KEY_FILE"].Value; key == "" || len(c.VolumeMounts) != 1 || !strings.HasPrefix(key, c.VolumeMounts[0].MountPath+"/") || !c.VolumeMounts[0].ReadOnly {
		t.Errorf("signing key file %q, mounts %+v; want the key Secret mounted read-only under the file's directory", key, c.VolumeMounts)
	}
	if len(pod.Volumes) != 1 || pod.Volumes[0].Secret == nil || pod.Volumes[0].Secret.SecretName != "gatehouse-jwt" {
		t.Errorf("volumes = %+v; want Secret gatehouse-jwt", pod.Volumes)
	}

	podLabels := d.Spec.Template.Labels
	if !matches(d.Spec.Selector.MatchLabels, podLabels) || !matches(r.service.Spec.Selector, podLabels) || !matches(r.pdb.Spec.Selector.MatchLabels, podLabels) {
		t.Errorf("selectors of the Deployment, Service or PDB miss the pod labels %v", podLabels)
	}
	if r.hpa.Spec.ScaleTargetRef.Kind != "Deployment" || r.hpa.Spec.ScaleTargetRef.Name != d.Name || r.hpa.Spec.MinReplicas == nil || *r.hpa.Spec.MinReplicas < 2 {
		t.Errorf("HPA = %+v; want it to scale the Deployment from at least 2", r.hpa.Spec)
	}
	if r.pdb.Spec.MaxUnavailable == nil && r.pdb.Spec.MinAvailable == nil {
		t.Error("PDB has neither maxUnavailable nor minAvailable")
	}
	svcPorts := map[string]string{}
	for _, p := range r.service.Spec.Ports {
		svcPorts[p.Name] = p.TargetPort.String()
	}
	if svcPorts["http"] != "http" || svcPorts["metrics"] != "metrics" {
		t.Errorf("service ports = %v", svcPorts)
	}

	// The migration hook: before install and upgrade, same image and
	// configuration as the server, `gatehouse migrate up`.
	j := r.job
	hooks := strings.Split(j.Annotations["helm.sh/hook"], ",")
	if !slices.Contains(hooks, "pre-install") || !slices.Contains(hooks, "pre-upgrade") {
		t.Errorf("job hooks = %v; want pre-install and pre-upgrade", hooks)
	}
	jpod := j.Spec.Template.Spec
	checkPodSecurity(t, "Job", jpod)
	jc := jpod.Containers[0]
	if !slices.Equal(jc.Args, []string{"migrate", "up"}) || jc.Image != c.Image {
		t.Errorf("job runs %s %v; want %s migrate up", jc.Image, jc.Args, c.Image)
	}
	if !slices.EqualFunc(jc.Env, c.Env, func(a, b corev1.EnvVar) bool { return a.String() == b.String() }) {
		t.Errorf("job env differs from the server's:\njob    %v\nserver %v", jc.Env, c.Env)
	}
	if jpod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("job restartPolicy = %s", jpod.RestartPolicy)
	}
}

func TestServiceMonitor(t *testing.T) {
	r := mustRender(t, map[string]any{"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}}})
	sm := r.serviceMonitor
	if sm == nil {
		t.Fatalf("no ServiceMonitor; kinds %v", r.kinds)
	}
	spec, _ := sm["spec"].(map[string]any)
	endpoints, _ := spec["endpoints"].([]any)
	if len(endpoints) != 1 {
		t.Fatalf("endpoints = %v", spec["endpoints"])
	}
	ep, _ := endpoints[0].(map[string]any)
	if ep["port"] != "metrics" || ep["path"] != "/metrics" {
		t.Errorf("endpoint = %v; want port metrics, path /metrics", ep)
	}
	labels, _ := sm["metadata"].(map[string]any)["labels"].(map[string]any)
	if labels["release"] != "prom" {
		t.Errorf("labels = %v; want the extra label release=prom", labels)
	}
}

func TestMetricsOff(t *testing.T) {
	r := mustRender(t, map[string]any{"metrics": map[string]any{"enabled": false, "serviceMonitor": map[string]any{"enabled": true}}})
	if r.serviceMonitor != nil {
		t.Error("ServiceMonitor rendered with metrics off")
	}
	c := r.deployment.Spec.Template.Spec.Containers[0]
	if _, ok := envMap(c.Env)["GATEHOUSE_METRICS_ADDR"]; ok || len(c.Ports) != 1 || len(r.service.Spec.Ports) != 1 {
		t.Errorf("metrics off: env %v, container ports %v, service ports %v", c.Env, c.Ports, r.service.Spec.Ports)
	}
}

func TestFixedReplicasWithoutAutoscaling(t *testing.T) {
	r := mustRender(t, map[string]any{"autoscaling": map[string]any{"enabled": false}, "replicaCount": 3})
	if r.hpa != nil || r.deployment.Spec.Replicas == nil || *r.deployment.Spec.Replicas != 3 {
		t.Errorf("autoscaling off: hpa %v, replicas %v", r.hpa != nil, r.deployment.Spec.Replicas)
	}
}

// A secret given as a plain value is refused, whatever its name's case in
// the list; secrets in other Secrets are referenced by name and key.
func TestSecretsAreOnlyReferenced(t *testing.T) {
	for _, name := range secretVariables {
		_, err := render(t, map[string]any{"config": map[string]any{name: "inline-secret-value"}})
		if err == nil || !strings.Contains(err.Error(), "secrets.env") {
			t.Errorf("config.%s: err = %v; want a refusal pointing at secrets.env", name, err)
		}
	}
	r := mustRender(t, map[string]any{"secrets": map[string]any{"env": map[string]any{
		"GATEHOUSE_SMTP_PASSWORD":   map[string]any{"secretName": "mail", "key": "password"},
		"GATEHOUSE_LARK_APP_SECRET": map[string]any{"secretName": "lark", "key": "secret", "optional": true},
	}}})
	env := envMap(r.deployment.Spec.Template.Spec.Containers[0].Env)
	if ref := env["GATEHOUSE_SMTP_PASSWORD"].ValueFrom; ref == nil || ref.SecretKeyRef.Name != "mail" || ref.SecretKeyRef.Key != "password" {
		t.Errorf("GATEHOUSE_SMTP_PASSWORD = %+v", env["GATEHOUSE_SMTP_PASSWORD"])
	}
	if ref := env["GATEHOUSE_LARK_APP_SECRET"].ValueFrom; ref == nil || ref.SecretKeyRef.Optional == nil || !*ref.SecretKeyRef.Optional {
		t.Errorf("GATEHOUSE_LARK_APP_SECRET = %+v; want an optional reference", env["GATEHOUSE_LARK_APP_SECRET"])
	}
	checkNoSecretInlined(t, r)

	if _, err := render(t, map[string]any{"config": map[string]any{"GATEHOUSE_HTTP_ADDR": ":9999"}}); err == nil {
		t.Error("config.GATEHOUSE_HTTP_ADDR accepted; the chart sets the listen address its probes use")
	}
}

// checkNoSecretInlined: no Secret object, and every secret variable of
// every container comes from a secretKeyRef, never a value.
func checkNoSecretInlined(t *testing.T, r *rendered) {
	t.Helper()
	if slices.Contains(r.kinds, "Secret") {
		t.Error("the chart rendered a Secret")
	}
	pods := map[string]corev1.PodSpec{"Deployment": r.deployment.Spec.Template.Spec}
	if r.job != nil {
		pods["Job"] = r.job.Spec.Template.Spec
	}
	for kind, pod := range pods {
		for _, c := range pod.Containers {
			for _, e := range c.Env {
				if !slices.Contains(secretVariables, e.Name) {
					continue
				}
				if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					t.Errorf("%s: %s is not read from a Secret: %+v", kind, e.Name, e)
				}
			}
		}
	}
}

func checkPodSecurity(t *testing.T, kind string, pod corev1.PodSpec) {
	t.Helper()
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s pod securityContext = %+v; want runAsNonRoot and a non-zero uid", kind, psc)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s mounts a service account token; Gatehouse calls no Kubernetes API", kind)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("%s container %s securityContext = %+v; want a read-only root, no privilege escalation, all capabilities dropped", kind, c.Name, sc)
		}
	}
}

func checkProbe(t *testing.T, name string, p *corev1.Probe, path string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
		t.Errorf("%s probe = %+v; want GET %s on port http", name, p, path)
	}
}

func envMap(env []corev1.EnvVar) map[string]corev1.EnvVar {
	m := make(map[string]corev1.EnvVar, len(env))
	for _, e := range env {
		m[e.Name] = e
	}
	return m
}

// matches reports whether every label of selector is in labels.
func matches(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k := range maps.Keys(selector) {
		if labels[k] != selector[k] {
			return false
		}
	}
	return true
}
