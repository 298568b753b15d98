package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// runKstatus reads one Kubernetes object as JSON on stdin and prints the status kstatus (the
// library Flux and kpt use) computes for it: {"status":"Current|InProgress|Failed|...","message":...}.
func runKstatus(args []string) error {
	if len(args) != 0 {
		return fmt.Errorf("takes no flags; reads one object as JSON on stdin")
	}
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		return err
	}
	// Decoded as apimachinery decodes objects (integers stay int64, as kstatus expects).
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("stdin is not a Kubernetes object as JSON: %w", err)
	}
	res, err := status.Compute(obj)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{
		"status":  res.Status.String(),
		"message": res.Message,
	})
}
