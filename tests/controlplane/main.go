// Command controlplane is the project's local Kubernetes control plane for tests and the demo:
// a real kube-apiserver (k8s.io/kubernetes) backed by an embedded etcd at the version
// Kubernetes pins, plus kubectl and kube-controller-manager from the same module.
//
// One binary, dispatched on its first argument (or on argv[0] when invoked through a link
// named kubectl):
//
//	controlplane pki --dir D                 certificates, keys, token file, audit policy (idempotent)
//	controlplane kubeconfigs --dir D --server URL   admin / user / token kubeconfigs
//	controlplane etcd --dir D --client-port P --peer-port Q   embedded etcd, in the foreground
//	controlplane apiserver FLAGS...          kube-apiserver, in the foreground
//	controlplane controller-manager FLAGS... kube-controller-manager, in the foreground
//	controlplane compact --etcd URL          compact etcd to its current revision
//	controlplane kubectl ARGS...             kubectl
//	controlplane promlint < METRICS          Prometheus' own linter (client_golang promlint) on a
//	                                         text exposition: exit 1 on any parse or lint problem
//
// scripts/controlplane drives it; nothing here is shipped with the operator.
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	_ "k8s.io/component-base/logs/json/register"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	kubectlutil "k8s.io/kubectl/pkg/cmd/util"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kcm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	args := os.Args[1:]
	cmd := ""
	if filepath.Base(os.Args[0]) == "kubectl" {
		cmd = "kubectl"
	} else if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "pki":
		err = runPKI(args)
	case "kubeconfigs":
		err = runKubeconfigs(args)
	case "etcd":
		err = runEtcd(args)
	case "compact":
		err = runCompact(args)
	case "promlint":
		err = runPromlint()
	case "apiserver":
		c := apiserver.NewAPIServerCommand()
		c.SetArgs(args)
		os.Exit(cli.Run(c))
	case "controller-manager":
		c := kcm.NewControllerManagerCommand()
		c.SetArgs(args)
		os.Exit(cli.Run(c))
	case "kubectl":
		os.Args = append([]string{"kubectl"}, args...)
		logs.GlogSetter(kubectlcmd.GetLogVerbosity(os.Args)) // nolint:errcheck
		c := kubectlcmd.NewDefaultKubectlCommand()
		c.SetArgs(args)
		if err := cli.RunNoErrOutput(c); err != nil {
			kubectlutil.CheckErr(err)
		}
		return
	default:
		err = fmt.Errorf("usage: controlplane pki|kubeconfigs|etcd|compact|apiserver|controller-manager|kubectl|promlint ...")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		os.Exit(1)
	}
}

// ---- PKI ----------------------------------------------------------------------------------

type keyPair struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode)
}

func newKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func issue(dir, name string, tmpl *x509.Certificate, ca *keyPair) (*keyPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial()
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(10 * 365 * 24 * time.Hour)
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(dir, name+".crt"), "CERTIFICATE", der, 0o644); err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(dir, name+".key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), 0o600); err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return &keyPair{cert, key}, err
}

func clientCert(cn string, groups ...string) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn, Organization: groups},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

// Identities the tests rely on:
//
//	admin   client certificate, group system:masters (full access)
//	tester  client certificate, no groups: authenticated only, so RBAC denies nearly everything
//	operator  client certificate, user tracing-operator: what deploy/rbac.yaml grants, nothing more
//	admin-token / tester-token  bearer tokens for the same two kinds of identity
const (
	adminToken  = "admin-token-0123456789abcdef"
	testerToken = "tester-token-0123456789abcdef"
)

func runPKI(args []string) error {
	fs := flag.NewFlagSet("pki", flag.ExitOnError)
	dir := fs.String("dir", "", "output directory")
	fs.Parse(args)
	if *dir == "" {
		return fmt.Errorf("pki: --dir is required")
	}
	if _, err := os.Stat(filepath.Join(*dir, "done")); err == nil {
		return nil
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	ca, err := issue(*dir, "ca", &x509.Certificate{
		Subject:               pkix.Name{CommonName: "tracing-operator-test-ca"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
	}, nil)
	if err != nil {
		return err
	}
	if _, err := issue(*dir, "apiserver", &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("10.0.0.1")},
	}, ca); err != nil {
		return err
	}
	for _, id := range []struct {
		name, cn string
		groups   []string
	}{
		{"admin", "admin", []string{"system:masters"}},
		{"tester", "tester", nil},
		{"controller-manager", "system:kube-controller-manager", nil},
		{"operator", "tracing-operator", nil},
	} {
		if _, err := issue(*dir, id.name, clientCert(id.cn, id.groups...), ca); err != nil {
			return err
		}
	}
	sa, err := newKey()
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(*dir, "sa.key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(sa), 0o600); err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(*dir, "sa.pub"), "PUBLIC KEY", pub, 0o644); err != nil {
		return err
	}
	tokens := fmt.Sprintf("%s,admin-token-user,100,\"system:masters\"\n%s,tester-token-user,101\n", adminToken, testerToken)
	if err := os.WriteFile(filepath.Join(*dir, "tokens.csv"), []byte(tokens), 0o600); err != nil {
		return err
	}
	// Audit: one line per mutating request, so tests can count the operator's writes.
	audit := `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  verbs: [get, list, watch]
- level: None
  resources: [{group: coordination.k8s.io, resources: [leases]}]
  users: [system:kube-controller-manager, system:apiserver]
- level: Metadata
`
	if err := os.WriteFile(filepath.Join(*dir, "audit-policy.yaml"), []byte(audit), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*dir, "done"), nil, 0o644)
}

func b64file(path string) (string, error) {
	b, err := os.ReadFile(path)
	return base64.StdEncoding.EncodeToString(b), err
}

func runKubeconfigs(args []string) error {
	fs := flag.NewFlagSet("kubeconfigs", flag.ExitOnError)
	dir := fs.String("dir", "", "directory holding the PKI; kubeconfigs are written here")
	server := fs.String("server", "", "API server URL")
	fs.Parse(args)
	if *dir == "" || *server == "" {
		return fmt.Errorf("kubeconfigs: --dir and --server are required")
	}
	caData, err := b64file(filepath.Join(*dir, "ca.crt"))
	if err != nil {
		return err
	}
	write := func(name, user string) error {
		doc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
%s
contexts:
- name: local
  context: {cluster: local, user: %s, namespace: default}
current-context: local
`, *server, caData, name, user, name)
		return os.WriteFile(filepath.Join(*dir, name+".kubeconfig"), []byte(doc), 0o600)
	}
	certUser := func(id string) (string, error) {
		crt, err := b64file(filepath.Join(*dir, id+".crt"))
		if err != nil {
			return "", err
		}
		key, err := b64file(filepath.Join(*dir, id+".key"))
		return fmt.Sprintf("    client-certificate-data: %s\n    client-key-data: %s", crt, key), err
	}
	for _, id := range []string{"admin", "tester", "controller-manager", "operator"} {
		u, err := certUser(id)
		if err != nil {
			return err
		}
		if err := write(id, u); err != nil {
			return err
		}
	}
	if err := write("admin-token", "    token: "+adminToken); err != nil {
		return err
	}
	return write("tester-token", "    token: "+testerToken)
}

// ---- etcd ---------------------------------------------------------------------------------

func mustURL(s string) url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return *u
}

func runEtcd(args []string) error {
	fs := flag.NewFlagSet("etcd", flag.ExitOnError)
	dir := fs.String("dir", "", "data directory")
	clientPort := fs.Int("client-port", 2379, "client port on 127.0.0.1")
	peerPort := fs.Int("peer-port", 2380, "peer port on 127.0.0.1")
	fs.Parse(args)
	cfg := embed.NewConfig()
	cfg.Name = "default"
	cfg.Dir = *dir
	cfg.UnsafeNoFsync = true
	cfg.LogLevel = "error"
	client := mustURL(fmt.Sprintf("http://127.0.0.1:%d", *clientPort))
	peer := mustURL(fmt.Sprintf("http://127.0.0.1:%d", *peerPort))
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
		fmt.Println("etcd ready on", client.String())
	case <-time.After(60 * time.Second):
		return fmt.Errorf("etcd did not become ready in 60s")
	}
	return <-e.Err()
}

func runCompact(args []string) error {
	fs := flag.NewFlagSet("compact", flag.ExitOnError)
	endpoint := fs.String("etcd", "http://127.0.0.1:2379", "etcd client URL")
	fs.Parse(args)
	c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoint, ","), DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A write moves the revision past everything the API server has handed out, so compacting
	// at it expires every resourceVersion a client could hold.
	put, err := c.Put(ctx, "/tracing-operator-test/compact-marker", time.Now().String())
	if err != nil {
		return err
	}
	rev := put.Header.Revision
	if _, err := c.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		return err
	}
	fmt.Println(rev)
	return nil
}

// runPromlint lints a Prometheus text exposition read from stdin, as promtool check metrics does.
func runPromlint() error {
	problems, err := promlint.New(os.Stdin).Lint()
	if err != nil {
		return fmt.Errorf("parsing the exposition: %w", err)
	}
	for _, p := range problems {
		fmt.Printf("%s: %s\n", p.Metric, p.Text)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d lint problem(s)", len(problems))
	}
	return nil
}
