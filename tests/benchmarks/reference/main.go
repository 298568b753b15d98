// Reference programs for the benchmarks in tests/benchmarks: what a Go operator built on
// client-go would cost, and what the API server can take on this machine.
//
//	reference informer [--strip-managed-fields]
//	    a client-go shared informer on Deployments in all namespaces; after it has synced and a
//	    GC, prints "objects N rss_bytes B heap_bytes H" (RSS: VmRSS of /proc/self/status)
//	reference patch --selector L --env NAME=VALUE [--in-flight 16] [--type strategic|apply] [--json]
//	    the raw parallel driver: lists the Deployments matching L (all namespaces), then writes
//	    NAME=VALUE into every container of each with one PATCH, N in flight, no client-side rate
//	    limit, in protobuf (client-go's default for built-in types) or, with --json, in JSON (the
//	    operator's protocol); prints "count C seconds S writes_per_second W list_seconds L"
//	reference create --prefix P --namespaces K --count N --label KEY=VALUE [--start I]
//	    [--replicas R] [--in-flight 16]
//	    K namespaces P00..P(K-1) (kept if they exist) and N realistic Deployments spread over them (two containers,
//	    20 env entries, kubectl's last-applied annotation, managedFields from three managers:
//	    kubectl-client-side-apply creates, kubectl-set patches, deploy-bot applies server-side)
//	reference await --selector L --env NAME=VALUE --count N [--timeout 30m]
//	    watches the Deployments matching L; prints "synced" once its cache is, then, when N of
//	    them carry NAME=VALUE in every container, "done UNIX_SECONDS" (nanosecond precision)
//	reference edit --selector L --label KEY --suffix S --env NAME [--rate 100] [--count N]
//	    [--in-flight 16] [--timeout 10m] [--out FILE]
//	    someone else's edits, paced: for N of the Deployments matching L (all by default, in
//	    namespace/name order), one merge PATCH each (field manager someone-else) setting the
//	    metadata label KEY to "<name>-S", R a second; a watch on the same Deployments notes when
//	    each edit is seen and when every container carries NAME=<name>-S (the operator's answer
//	    when KEY names the service). Prints "key value" lines: the edits' own write latency, the
//	    watch's delivery of them, and edit→answer latency (p50, p99, max, in ms; all on this
//	    program's clock), counts; per edit, tab-separated timestamps into FILE
//	reference await-strategies --namespace NS --name CM --param P --services N [--timeout 30m]
//	    watches ConfigMap NS/CM (a Jaeger sampling strategies file, key strategies.json); prints
//	    "synced", then "done UNIX_SECONDS" once it lists at least N service strategies and every
//	    one of them has param P
//
// Every subcommand reads --kubeconfig (default $KUBECONFIG) and has no client-side rate limit.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: reference informer|patch|create|await|edit|await-strategies|kstatus [flags]")
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "informer":
		err = runInformer(args)
	case "patch":
		err = runPatch(args)
	case "create":
		err = runCreate(args)
	case "await":
		err = runAwait(args)
	case "edit":
		err = runEdit(args)
	case "await-strategies":
		err = runAwaitStrategies(args)
	case "kstatus":
		err = runKstatus(args)
	default:
		err = fmt.Errorf("unknown subcommand %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reference "+cmd+":", err)
		os.Exit(1)
	}
}

func newClient(kubeconfig string) (*kubernetes.Clientset, error) {
	return connect(kubeconfig, false)
}

// connect: a clientset with no client-side rate limit. jsonOnly: JSON both ways, as the
// operator speaks; by default client-go sends and asks for protobuf for the built-in types,
// which costs the API server less to decode and encode.
func connect(kubeconfig string, jsonOnly bool) (*kubernetes.Clientset, error) {
	if kubeconfig == "" {
		kubeconfig = os.Getenv("KUBECONFIG")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS = -1 // no client-side rate limiter: the API server is the limit
	cfg.UserAgent = "tracing-bench-reference"
	if jsonOnly {
		cfg.ContentType = "application/json"
		cfg.AcceptContentTypes = "application/json"
	}
	return kubernetes.NewForConfig(cfg)
}

func vmRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/self/status")
}

// informer: what a client-go operator holding every Deployment costs in memory.
func runInformer(args []string) error {
	fs := flag.NewFlagSet("informer", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default $KUBECONFIG)")
	strip := fs.Bool("strip-managed-fields", false,
		"drop metadata.managedFields before storing (the transform controller-runtime users add)")
	fs.Parse(args)
	cs, err := newClient(*kubeconfig)
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	inf := factory.Apps().V1().Deployments().Informer()
	if *strip {
		if err := inf.SetTransform(func(obj any) (any, error) {
			if d, ok := obj.(*appsv1.Deployment); ok {
				d.ManagedFields = nil
			}
			return obj, nil
		}); err != nil {
			return err
		}
	}
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		return fmt.Errorf("cache did not sync")
	}
	objects := len(inf.GetStore().ListKeys())
	// Let the watch settle, then measure what stays resident.
	time.Sleep(1 * time.Second)
	runtime.GC()
	debug.FreeOSMemory()
	time.Sleep(500 * time.Millisecond)
	rss, err := vmRSS()
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("objects %d rss_bytes %d heap_bytes %d\n", objects, rss, ms.HeapAlloc)
	runtime.KeepAlive(inf)
	return nil
}

type deploymentRef struct {
	ns, name   string
	containers []string
}

func listDeployments(ctx context.Context, cs *kubernetes.Clientset, selector string) ([]deploymentRef, error) {
	var refs []deploymentRef
	opts := metav1.ListOptions{LabelSelector: selector, Limit: 500}
	for {
		l, err := cs.AppsV1().Deployments("").List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, d := range l.Items {
			r := deploymentRef{ns: d.Namespace, name: d.Name}
			for _, c := range d.Spec.Template.Spec.Containers {
				r.containers = append(r.containers, c.Name)
			}
			refs = append(refs, r)
		}
		if l.Continue == "" {
			return refs, nil
		}
		opts.Continue = l.Continue
	}
}

// parallel runs f(i) for i in [0, n) with `inFlight` at once; returns the first error.
func parallel(n, inFlight int, f func(i int) error) error {
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < inFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func splitPair(s, what string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", "", fmt.Errorf("%s: want NAME=VALUE, got %q", what, s)
	}
	return k, v, nil
}

// envPatch: NAME=VALUE in every listed container, as a strategic-merge patch or an apply
// configuration (both merge the env list by name).
func envPatch(r deploymentRef, name, value string, apply bool) []byte {
	var containers []map[string]any
	for _, c := range r.containers {
		containers = append(containers, map[string]any{
			"name": c, "env": []map[string]any{{"name": name, "value": value}}})
	}
	p := map[string]any{"spec": map[string]any{"template": map[string]any{
		"spec": map[string]any{"containers": containers}}}}
	if apply {
		p["apiVersion"] = "apps/v1"
		p["kind"] = "Deployment"
		p["metadata"] = map[string]any{"name": r.name, "namespace": r.ns}
	}
	b, _ := json.Marshal(p)
	return b
}

// patch: the raw parallel driver, the limit the operator's cluster-wide change is judged by.
func runPatch(args []string) error {
	fs := flag.NewFlagSet("patch", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default $KUBECONFIG)")
	selector := fs.String("selector", "", "label selector over Deployments in all namespaces")
	env := fs.String("env", "", "NAME=VALUE to write into every container")
	inFlight := fs.Int("in-flight", 16, "requests in flight")
	kind := fs.String("type", "strategic", "strategic (merge patch) or apply (server-side)")
	manager := fs.String("field-manager", "raw-driver", "field manager")
	jsonOnly := fs.Bool("json", false, "speak JSON, as the operator does (default: client-go's protobuf)")
	fs.Parse(args)
	name, value, err := splitPair(*env, "--env")
	if err != nil {
		return err
	}
	if *kind != "strategic" && *kind != "apply" {
		return fmt.Errorf("--type: strategic or apply, not %q", *kind)
	}
	cs, err := connect(*kubeconfig, *jsonOnly)
	if err != nil {
		return err
	}
	ctx := context.Background()
	t0 := time.Now()
	refs, err := listDeployments(ctx, cs, *selector)
	if err != nil {
		return err
	}
	listed := time.Since(t0)
	t1 := time.Now()
	err = parallel(len(refs), *inFlight, func(i int) error {
		r := refs[i]
		var perr error
		if *kind == "apply" {
			force := true
			_, perr = cs.AppsV1().Deployments(r.ns).Patch(ctx, r.name, types.ApplyPatchType,
				envPatch(r, name, value, true), metav1.PatchOptions{FieldManager: *manager, Force: &force})
		} else {
			_, perr = cs.AppsV1().Deployments(r.ns).Patch(ctx, r.name, types.StrategicMergePatchType,
				envPatch(r, name, value, false), metav1.PatchOptions{FieldManager: *manager})
		}
		if perr != nil {
			return fmt.Errorf("%s/%s: %w", r.ns, r.name, perr)
		}
		return nil
	})
	if err != nil {
		return err
	}
	secs := time.Since(t1).Seconds()
	fmt.Printf("count %d seconds %.3f writes_per_second %.1f list_seconds %.3f\n",
		len(refs), secs, float64(len(refs))/secs, listed.Seconds())
	return nil
}

// The realistic Deployment: two containers, 20 env entries, probes, resources, ports.
func realisticDeployment(ns, name, team string, label [2]string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name, "app.kubernetes.io/name": name,
		"app.kubernetes.io/part-of": "shop", "team": team, label[0]: label[1]}
	env := []corev1.EnvVar{
		{Name: "PORT", Value: "8080"},
		{Name: "LOG_LEVEL", Value: "info"},
		{Name: "LOG_FORMAT", Value: "json"},
		{Name: "DATABASE_HOST", Value: "postgres." + ns + ".svc.cluster.local"},
		{Name: "DATABASE_PORT", Value: "5432"},
		{Name: "DATABASE_NAME", Value: strings.ReplaceAll(name, "-", "_")},
		{Name: "DATABASE_POOL_SIZE", Value: "20"},
		{Name: "REDIS_URL", Value: "redis://redis." + ns + ".svc.cluster.local:6379/0"},
		{Name: "CACHE_TTL_SECONDS", Value: "300"},
		{Name: "HTTP_TIMEOUT_MS", Value: "2500"},
		{Name: "FEATURE_FLAGS", Value: "new-checkout,fast-search,beta-recommendations"},
		{Name: "UPSTREAM_INVENTORY_URL", Value: "http://inventory." + ns + ".svc:8080"},
		{Name: "UPSTREAM_PAYMENTS_URL", Value: "http://payments." + ns + ".svc:8080"},
		{Name: "REGION", Value: "eu-west-1"},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
		{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{
			FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}},
	}
	sidecarEnv := []corev1.EnvVar{
		{Name: "PROXY_LISTEN", Value: "0.0.0.0:15001"},
		{Name: "PROXY_UPSTREAM", Value: "127.0.0.1:8080"},
		{Name: "PROXY_LOG_LEVEL", Value: "warn"},
		{Name: "PROXY_ADMIN_PORT", Value: "15000"},
	}
	probe := func(port int32, path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: path, Port: intOrString(port)}}, PeriodSeconds: 10, TimeoutSeconds: 1,
			SuccessThreshold: 1, FailureThreshold: 3}
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name,
					"app.kubernetes.io/name": name, "team": team}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{
						{
							Name: "app", Image: "registry.example/shop/" + name + ":1.42.0",
							Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
							Env:   env,
							Resources: corev1.ResourceRequirements{
								Requests: corev1.ResourceList{"cpu": mustQty("100m"), "memory": mustQty("128Mi")},
								Limits:   corev1.ResourceList{"memory": mustQty("256Mi")},
							},
							ReadinessProbe: probe(8080, "/readyz"),
							LivenessProbe:  probe(8080, "/healthz"),
						},
						{
							Name: "proxy", Image: "registry.example/mesh/proxy:2.7.1",
							Ports: []corev1.ContainerPort{{Name: "proxy", ContainerPort: 15001}},
							Env:   sidecarEnv,
							Resources: corev1.ResourceRequirements{
								Requests: corev1.ResourceList{"cpu": mustQty("50m"), "memory": mustQty("64Mi")},
								Limits:   corev1.ResourceList{"memory": mustQty("128Mi")},
							},
						},
					},
				},
			},
		},
	}
}

// create: the realistic population, in the shape three real tools leave it.
func runCreate(args []string) error {
	fs := flag.NewFlagSet("create", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default $KUBECONFIG)")
	prefix := fs.String("prefix", "bench-", "namespace name prefix")
	namespaces := fs.Int("namespaces", 20, "namespaces")
	count := fs.Int("count", 100, "Deployments")
	label := fs.String("label", "", "KEY=VALUE on every namespace and Deployment")
	inFlight := fs.Int("in-flight", 16, "requests in flight")
	start := fs.Int("start", 0, "index of the first Deployment (svc-START…), to add to a population")
	replicas := fs.Int("replicas", 2, "spec.replicas")
	fs.Parse(args)
	lk, lv, err := splitPair(*label, "--label")
	if err != nil {
		return err
	}
	cs, err := newClient(*kubeconfig)
	if err != nil {
		return err
	}
	ctx := context.Background()
	t0 := time.Now()
	nsName := func(i int) string { return fmt.Sprintf("%s%02d", *prefix, i) }
	for i := 0; i < *namespaces; i++ {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: nsName(i), Labels: map[string]string{lk: lv}}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	err = parallel(*count, *inFlight, func(i int) error {
		i += *start
		ns := nsName(i % *namespaces)
		name := fmt.Sprintf("svc-%05d", i)
		team := fmt.Sprintf("team-%d", i%7)
		d := realisticDeployment(ns, name, team, [2]string{lk, lv}, int32(*replicas))
		// 1. kubectl apply (client-side): the object carries its own last-applied configuration.
		lastApplied, err := json.Marshal(d)
		if err != nil {
			return err
		}
		d.Annotations = map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": string(lastApplied) + "\n"}
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d,
			metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
			return fmt.Errorf("%s/%s: %w", ns, name, err)
		}
		// 2. kubectl set env: a variable in both containers, owned by another manager.
		set := []byte(`{"spec":{"template":{"spec":{"containers":[` +
			`{"name":"app","env":[{"name":"BENCH_MARK","value":"0"}]},` +
			`{"name":"proxy","env":[{"name":"BENCH_MARK","value":"0"}]}]}}}}`)
		if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, set,
			metav1.PatchOptions{FieldManager: "kubectl-set"}); err != nil {
			return fmt.Errorf("%s/%s: %w", ns, name, err)
		}
		// 3. A deploy bot's server-side apply: an annotation and a label of its own.
		apply := fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":%q,`+
			`"namespace":%q,"labels":{"deploy.example/track":"stable"},"annotations":`+
			`{"deploy.example/commit":"3f9c2a1e5b7d4c6a8e0f1b2d3c4e5f60718293a4"}}}`, name, ns)
		force := true
		if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, name, types.ApplyPatchType, []byte(apply),
			metav1.PatchOptions{FieldManager: "deploy-bot", Force: &force}); err != nil {
			return fmt.Errorf("%s/%s: %w", ns, name, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	fmt.Printf("created %d seconds %.1f\n", *count, secs)
	return nil
}

// await: when every matching Deployment carries NAME=VALUE in every container. The cache keeps
// one bool per Deployment, so watching costs decoding, not memory.
func runAwait(args []string) error {
	fs := flag.NewFlagSet("await", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default $KUBECONFIG)")
	selector := fs.String("selector", "", "label selector over Deployments in all namespaces")
	env := fs.String("env", "", "NAME=VALUE every container must carry")
	count := fs.Int("count", 0, "how many Deployments must carry it")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after")
	fs.Parse(args)
	name, value, err := splitPair(*env, "--env")
	if err != nil {
		return err
	}
	cs, err := newClient(*kubeconfig)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	carries := map[string]bool{} // namespace/name → carries it in every container
	carrying := 0                // how many do
	done := make(chan struct{})
	var once sync.Once
	update := func(d *appsv1.Deployment) {
		all := len(d.Spec.Template.Spec.Containers) > 0
		for _, c := range d.Spec.Template.Spec.Containers {
			found := false
			for _, e := range c.Env {
				if e.Name == name && e.Value == value && e.ValueFrom == nil {
					found = true
				}
			}
			all = all && found
		}
		key := d.Namespace + "/" + d.Name
		mu.Lock()
		defer mu.Unlock()
		if carries[key] != all {
			if all {
				carrying++
			} else {
				carrying--
			}
		}
		carries[key] = all
		if carrying >= *count {
			once.Do(func() { close(done) })
		}
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = *selector }))
	inf := factory.Apps().V1().Deployments().Informer()
	// Every object the watch delivers passes through the transform (in order, one goroutine):
	// judge it there and keep nothing but its key in the store. The transform may meet an object
	// it has already stripped (the initial list passes through it twice): that one is kept as it
	// is, its verdict stands.
	const stripped = "tracing-bench/stripped"
	inf.SetTransform(func(obj any) (any, error) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok || d.Annotations[stripped] != "" {
			return obj, nil
		}
		update(d)
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace,
			ResourceVersion: d.ResourceVersion, Annotations: map[string]string{stripped: "1"}}}, nil
	})
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		return fmt.Errorf("cache did not sync")
	}
	fmt.Println("synced")
	progress := func() (n, of int) {
		mu.Lock()
		defer mu.Unlock()
		return carrying, len(carries)
	}
	deadline := time.After(*timeout)
	ticker := time.NewTicker(30 * time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-done:
			now := time.Now()
			fmt.Printf("done %d.%09d\n", now.Unix(), now.Nanosecond())
			return nil
		case <-ticker.C:
			n, of := progress()
			fmt.Fprintf(os.Stderr, "reference await: %d of %d Deployments carry %s (want %d)\n", n, of, *env, *count)
		case <-deadline:
			n, of := progress()
			return fmt.Errorf("timed out: %d of %d Deployments carry %s (want %d)", n, of, *env, *count)
		}
	}
}

func intOrString(port int32) intstr.IntOrString { return intstr.FromInt32(port) }

func mustQty(s string) resource.Quantity { return resource.MustParse(s) }
