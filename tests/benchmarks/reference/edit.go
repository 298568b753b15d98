package main

// edit and await-strategies: the latency and debug-expiry benchmarks' instruments (see main.go
// for the usage).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// One edit's life, on this program's clock.
type editTimes struct {
	want     string    // the label value the edit sets, and the env value that answers it
	sent     time.Time // the PATCH request started
	returned time.Time // its response arrived (the edit is committed)
	seen     time.Time // the watch delivered the edited object
	answered time.Time // the watch delivered the object carrying the answer in every container
}

// percentiles of ds (sorted in place), in ms: p50, p99, max (nearest rank).
func percentiles(ds []time.Duration) (p50, p99, max float64) {
	if len(ds) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		if i < 0 {
			i = 0
		}
		return float64(ds[i].Microseconds()) / 1000
	}
	return rank(0.50), rank(0.99), float64(ds[len(ds)-1].Microseconds()) / 1000
}

// envOfAll: the value every container gives NAME, "" when they differ or one lacks it.
func envOfAll(d *appsv1.Deployment, name string) string {
	value := ""
	for i, c := range d.Spec.Template.Spec.Containers {
		v, found := "", false
		for _, e := range c.Env {
			if e.Name == name && e.ValueFrom == nil {
				v, found = e.Value, true
			}
		}
		if !found || (i > 0 && v != value) {
			return ""
		}
		value = v
	}
	return value
}

func runEdit(args []string) error {
	fs := flag.NewFlagSet("edit", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default $KUBECONFIG)")
	selector := fs.String("selector", "", "label selector over Deployments in all namespaces")
	label := fs.String("label", "app.kubernetes.io/name", "metadata label to edit")
	suffix := fs.String("suffix", "", "the edited value is <name>-SUFFIX")
	env := fs.String("env", "OTEL_SERVICE_NAME", "variable that answers an edit by carrying its value")
	rate := fs.Float64("rate", 100, "edits per second")
	count := fs.Int("count", 0, "Deployments to edit (0: all that match)")
	inFlight := fs.Int("in-flight", 16, "requests in flight at most")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up waiting for the answers after")
	manager := fs.String("field-manager", "someone-else", "field manager of the edits")
	out := fs.String("out", "", "per-edit timestamps (TSV) into this file")
	fs.Parse(args)
	if *suffix == "" || *rate <= 0 {
		return fmt.Errorf("--suffix and a positive --rate are needed")
	}
	cs, err := newClient(*kubeconfig)
	if err != nil {
		return err
	}
	ctx := context.Background()
	refs, err := listDeployments(ctx, cs, *selector)
	if err != nil {
		return err
	}
	sort.Slice(refs, func(i, j int) bool {
		return refs[i].ns+"/"+refs[i].name < refs[j].ns+"/"+refs[j].name
	})
	if *count > 0 {
		if *count > len(refs) {
			return fmt.Errorf("--count %d: only %d Deployments match %q", *count, len(refs), *selector)
		}
		refs = refs[:*count]
	}

	var mu sync.Mutex
	edits := map[string]*editTimes{} // namespace/name → its edit
	for _, r := range refs {
		edits[r.ns+"/"+r.name] = &editTimes{want: r.name + "-" + *suffix}
	}
	answered := 0
	allAnswered := make(chan struct{})
	// The watch: judged in the transform (in order, one goroutine), nothing kept but the key.
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = *selector }))
	inf := factory.Apps().V1().Deployments().Informer()
	const stripped = "tracing-bench/stripped"
	inf.SetTransform(func(obj any) (any, error) {
		d, ok := obj.(*appsv1.Deployment)
		if !ok || d.Annotations[stripped] != "" {
			return obj, nil
		}
		now := time.Now()
		mu.Lock()
		if e := edits[d.Namespace+"/"+d.Name]; e != nil {
			if e.seen.IsZero() && d.Labels[*label] == e.want {
				e.seen = now
			}
			if e.answered.IsZero() && envOfAll(d, *env) == e.want {
				e.answered = now
				answered++
				if answered == len(edits) {
					close(allAnswered)
				}
			}
		}
		mu.Unlock()
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace,
			ResourceVersion: d.ResourceVersion, Annotations: map[string]string{stripped: "1"}}}, nil
	})
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		return fmt.Errorf("cache did not sync")
	}
	mu.Lock()
	for k, e := range edits {
		if !e.answered.IsZero() {
			mu.Unlock()
			return fmt.Errorf("%s already carries %s=%s before its edit: use a new --suffix", k, *env, e.want)
		}
	}
	mu.Unlock()

	// The edits, paced: edit i is due at t0 + i/rate; at most in-flight at once.
	type job struct {
		ref deploymentRef
		e   *editTimes
	}
	jobs := make(chan job)
	errs := make(chan error, len(refs))
	var wg sync.WaitGroup
	for w := 0; w < *inFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				p, _ := json.Marshal(map[string]any{"metadata": map[string]any{
					"labels": map[string]string{*label: j.e.want}}})
				sent := time.Now()
				_, perr := cs.AppsV1().Deployments(j.ref.ns).Patch(ctx, j.ref.name, types.MergePatchType, p,
					metav1.PatchOptions{FieldManager: *manager})
				returned := time.Now()
				if perr != nil {
					errs <- fmt.Errorf("%s/%s: %w", j.ref.ns, j.ref.name, perr)
					continue
				}
				mu.Lock()
				j.e.sent, j.e.returned = sent, returned
				mu.Unlock()
			}
		}()
	}
	interval := time.Duration(float64(time.Second) / *rate)
	t0 := time.Now()
	for i, r := range refs {
		if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		jobs <- job{r, edits[r.ns+"/"+r.name]}
	}
	close(jobs)
	wg.Wait()
	editSeconds := time.Since(t0).Seconds()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}

	timedOut := false
	select {
	case <-allAnswered:
	case <-time.After(*timeout):
		timedOut = true
	}

	mu.Lock()
	defer mu.Unlock()
	var write, watch, latency []time.Duration
	var lastAnswer time.Time
	for _, e := range edits {
		write = append(write, e.returned.Sub(e.sent))
		if !e.seen.IsZero() {
			watch = append(watch, e.seen.Sub(e.returned))
		}
		if !e.answered.IsZero() {
			latency = append(latency, e.answered.Sub(e.returned))
			if e.answered.After(lastAnswer) {
				lastAnswer = e.answered
			}
		}
	}
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		fmt.Fprintln(f, "deployment\tsent\treturned\tseen\tanswered")
		ts := func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 6, 64)
		}
		for _, r := range refs {
			k := r.ns + "/" + r.name
			e := edits[k]
			fmt.Fprintf(f, "%s\t%s\t%s\t%s\t%s\n", k, ts(e.sent), ts(e.returned), ts(e.seen), ts(e.answered))
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	pr := func(name string, ds []time.Duration) {
		p50, p99, max := percentiles(ds)
		fmt.Printf("%s_count %d\n%s_p50_ms %.1f\n%s_p99_ms %.1f\n%s_max_ms %.1f\n",
			name, len(ds), name, p50, name, p99, name, max)
	}
	fmt.Printf("edits %d\nedit_seconds %.3f\nedit_rate %.1f\n", len(refs), editSeconds,
		float64(len(refs))/editSeconds)
	pr("write", write)
	pr("watch", watch)
	pr("latency", latency)
	if !lastAnswer.IsZero() {
		fmt.Printf("answered_until_s %.3f\n", lastAnswer.Sub(t0).Seconds())
	}
	if timedOut {
		return fmt.Errorf("timed out: %d of %d edits answered after %s", answered, len(refs), *timeout)
	}
	return nil
}

// The strategies file as Jaeger reads it (SPEC §6).
type strategiesFile struct {
	ServiceStrategies []struct {
		Service string  `json:"service"`
		Param   float64 `json:"param"`
	} `json:"service_strategies"`
}

func runAwaitStrategies(args []string) error {
	fs := flag.NewFlagSet("await-strategies", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default $KUBECONFIG)")
	namespace := fs.String("namespace", "", "the ConfigMap's namespace")
	name := fs.String("name", "jaeger-sampling-strategies", "the ConfigMap")
	key := fs.String("key", "strategies.json", "its data key")
	param := fs.Float64("param", -1, "the ratio every service strategy must have")
	services := fs.Int("services", 1, "service strategies it must list at least")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after")
	fs.Parse(args)
	if *namespace == "" || *param < 0 {
		return fmt.Errorf("--namespace and --param are needed")
	}
	cs, err := newClient(*kubeconfig)
	if err != nil {
		return err
	}
	done := make(chan time.Time, 1)
	var once sync.Once
	var mu sync.Mutex
	last := "not seen"
	judge := func(obj any) {
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok {
			return
		}
		now := time.Now()
		var s strategiesFile
		verdict := ""
		if err := json.Unmarshal([]byte(cm.Data[*key]), &s); err != nil {
			verdict = "unreadable: " + err.Error()
		} else {
			off := 0
			for _, st := range s.ServiceStrategies {
				if st.Param != *param {
					off++
				}
			}
			if len(s.ServiceStrategies) >= *services && off == 0 {
				once.Do(func() { done <- now })
			}
			verdict = fmt.Sprintf("%d service strategies, %d of them not at %g", len(s.ServiceStrategies), off, *param)
		}
		mu.Lock()
		last = verdict
		mu.Unlock()
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(*namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", *name).String()
		}))
	inf := factory.Core().V1().ConfigMaps().Informer()
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    judge,
		UpdateFunc: func(_, obj any) { judge(obj) },
	})
	stop := make(chan struct{})
	defer close(stop)
	factory.Start(stop)
	if !cache.WaitForCacheSync(stop, inf.HasSynced) {
		return fmt.Errorf("cache did not sync")
	}
	fmt.Println("synced")
	select {
	case t := <-done:
		fmt.Printf("done %d.%09d\n", t.Unix(), t.Nanosecond())
		return nil
	case <-time.After(*timeout):
		mu.Lock()
		defer mu.Unlock()
		return fmt.Errorf("timed out: %s/%s: %s", *namespace, *name, last)
	}
}
