// crigen: a small containerd root holding Kubernetes CRI records, written with containerd
// 1.6's own metadata package (every bucket, key and encoding is containerd's), shaped as the
// CRI plugin writes them:
//
//   - namespace k8s.io: one pod sandbox and three of its containers (running at the "crash",
//     exited with code 137 / OOMKilled, created and never started), each with the CRI labels
//     (io.cri-containerd.kind, io.kubernetes.pod.*, io.kubernetes.container.name) and the CRI
//     metadata extension (a typeurl Any whose value is JSON {"Version":"v1","Metadata":{...}},
//     type URL github.com/containerd/cri/pkg/store/{container,sandbox}/Metadata);
//   - the CRI status file of each container, <root>/io.containerd.grpc.v1.cri/containers/<id>/status,
//     encoded as containerd's internal/cri/store/container/status.go encodes it
//     (versionedStatus{Version "v1", Status} with Starting/Removing/Unknown not written);
//   - a task bundle dir <root>/io.containerd.runtime.v2.task/k8s.io/<id> for the sandbox and the
//     running container (what a crash leaves);
//   - namespace default: one plain container (as nerdctl makes, label nerdctl/name).
//
// It then reads every record back through containerd's store and writes the ground truth:
// <out>/truth.json (per record: the CRI view computed here with containerd's State() rules)
// and <out>/info/<id>.json (the record as ctr 1.6 `containers info` prints it).
//
//	crigen -root DIR -out DIR
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/metadata"
	"github.com/containerd/containerd/namespaces"
	"github.com/gogo/protobuf/types"
	bolt "go.etcd.io/bbolt"
)

// status mirrors containerd's CRI container Status (the fields it writes).
type status struct {
	Pid        uint32
	CreatedAt  int64
	StartedAt  int64
	FinishedAt int64
	ExitCode   int32
	Reason     string
	Message    string
	Resources  *struct{}
}

type versionedStatus struct {
	Version string
	status
}

// state is containerd's Status.State(), as crictl shows it.
func (s status) state() string {
	switch {
	case s.FinishedAt != 0:
		return "exited"
	case s.StartedAt != 0:
		return "running"
	case s.CreatedAt != 0:
		return "created"
	}
	return "unknown"
}

func rfc(n int64) string {
	if n == 0 {
		return ""
	}
	return time.Unix(0, n).UTC().Format(time.RFC3339Nano)
}

func jsonOf(v interface{}) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func spec(args []string, hostname string) *types.Any {
	s := map[string]interface{}{
		"ociVersion": "1.0.2-dev",
		"process": map[string]interface{}{
			"user": map[string]interface{}{"uid": 0, "gid": 0},
			"args": args,
			"env":  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=" + hostname},
			"cwd":  "/",
		},
		"root":     map[string]interface{}{"path": "rootfs"},
		"hostname": hostname,
	}
	return &types.Any{TypeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", Value: jsonOf(s)}
}

type record struct {
	c      containers.Container
	kind   string
	status *status
	bundle bool
	truth  map[string]interface{}
}

const (
	ns        = "k8s.io"
	sandboxID = "5b1c0f3e9a7d4c2b8e6f0a1d3c5b7e9f2a4c6e8b0d1f3a5c7e9b2d4f6a8c0e1b"
	podUID    = "0f6e2c1a-3b4d-4e5f-8a9b-7c6d5e4f3a2b"
)

func criLabels(kind, container string) map[string]string {
	l := map[string]string{
		"io.cri-containerd.kind":      kind,
		"io.kubernetes.pod.name":      "web-0",
		"io.kubernetes.pod.namespace": "shop",
		"io.kubernetes.pod.uid":       podUID,
		"app.kubernetes.io/name":      "web",
	}
	if container != "" {
		l["io.kubernetes.container.name"] = container
	}
	return l
}

// versioned is how the CRI plugin writes its Metadata (a struct: Version first).
type versioned struct {
	Version  string
	Metadata interface{}
}

func containerMeta(id, name, image string, attempt int) types.Any {
	m := versioned{
		Version: "v1",
		Metadata: map[string]interface{}{
			"ID":        id,
			"Name":      fmt.Sprintf("%s_web-0_shop_%s_%d", name, podUID, attempt),
			"SandboxID": sandboxID,
			"Config": map[string]interface{}{
				"metadata": map[string]interface{}{"name": name, "attempt": attempt},
				"image":    map[string]interface{}{"image": image},
				"log_path": name + "/" + fmt.Sprint(attempt) + ".log",
			},
			"ImageRef":   "sha256:" + fmt.Sprintf("%064x", len(name)),
			"LogPath":    "/var/log/pods/shop_web-0_" + podUID + "/" + name + "/" + fmt.Sprint(attempt) + ".log",
			"StopSignal": "SIGTERM",
		},
	}
	return types.Any{TypeUrl: "github.com/containerd/cri/pkg/store/container/Metadata", Value: jsonOf(m)}
}

func sandboxMeta() types.Any {
	m := versioned{
		Version: "v1",
		Metadata: map[string]interface{}{
			"ID":   sandboxID,
			"Name": "web-0_shop_" + podUID + "_0",
			"Config": map[string]interface{}{
				"metadata": map[string]interface{}{"name": "web-0", "uid": podUID, "namespace": "shop", "attempt": 0},
				"hostname": "web-0",
			},
			"NetNSPath":      "/var/run/netns/cni-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718",
			"IP":             "10.42.0.17",
			"RuntimeHandler": "",
		},
	}
	return types.Any{TypeUrl: "github.com/containerd/cri/pkg/store/sandbox/Metadata", Value: jsonOf(m)}
}

func main() {
	root := flag.String("root", "", "containerd root to create")
	out := flag.String("out", "", "where truth.json and info/<id>.json go")
	flag.Parse()
	if *root == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "crigen: -root and -out required")
		os.Exit(2)
	}
	if err := run(*root, *out); err != nil {
		fmt.Fprintln(os.Stderr, "crigen:", err)
		os.Exit(1)
	}
}

func run(root, out string) error {
	dbDir := filepath.Join(root, "io.containerd.metadata.v1.bolt")
	if err := os.MkdirAll(dbDir, 0o700); err != nil {
		return err
	}
	bdb, err := bolt.Open(filepath.Join(dbDir, "meta.db"), 0o644, nil)
	if err != nil {
		return err
	}
	db := metadata.NewDB(bdb, nil, nil)
	ctx := context.Background()
	if err := db.Init(ctx); err != nil {
		return err
	}
	store := metadata.NewContainerStore(db)
	runc := containers.RuntimeInfo{Name: "io.containerd.runc.v2", Options: &types.Any{TypeUrl: "containerd.runc.v1.Options", Value: []byte("2\x04runc")}}
	// Times of the CRI status files (nanoseconds), fixed so that the truth is stable.
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 123456789, time.UTC).UnixNano()
	sec := int64(time.Second)
	recs := []*record{
		{
			c: containers.Container{ID: sandboxID, Labels: criLabels("sandbox", ""), Image: "registry.k8s.io/pause:3.9",
				Runtime: runc, Spec: spec([]string{"/pause"}, "web-0"), SnapshotKey: sandboxID, Snapshotter: "overlayfs",
				Extensions: map[string]types.Any{"io.cri-containerd.sandbox.metadata": sandboxMeta()}},
			kind: "sandbox", bundle: true,
		},
		{
			c: containers.Container{ID: "a1" + fmt.Sprintf("%062x", 1), Labels: criLabels("container", "nginx"), Image: "docker.io/library/nginx:1.27",
				Runtime: runc, Spec: spec([]string{"nginx", "-g", "daemon off;"}, "web-0"), SnapshotKey: "a1" + fmt.Sprintf("%062x", 1), Snapshotter: "overlayfs",
				Extensions: map[string]types.Any{"io.cri-containerd.container.metadata": containerMeta("a1"+fmt.Sprintf("%062x", 1), "nginx", "docker.io/library/nginx:1.27", 0)}},
			kind: "container", bundle: true,
			status: &status{Pid: 4242, CreatedAt: t0 + 2*sec, StartedAt: t0 + 3*sec},
		},
		{
			c: containers.Container{ID: "b2" + fmt.Sprintf("%062x", 2), Labels: criLabels("container", "sidecar"), Image: "docker.io/library/busybox:1.36",
				Runtime: runc, Spec: spec([]string{"sh", "-c", "tail -f /dev/null > /tmp/x && echo <done>"}, "web-0"), SnapshotKey: "b2" + fmt.Sprintf("%062x", 2), Snapshotter: "overlayfs",
				Extensions: map[string]types.Any{"io.cri-containerd.container.metadata": containerMeta("b2"+fmt.Sprintf("%062x", 2), "sidecar", "docker.io/library/busybox:1.36", 3)}},
			kind:   "container",
			status: &status{CreatedAt: t0 + 4*sec, StartedAt: t0 + 5*sec, FinishedAt: t0 + 65*sec, ExitCode: 137, Reason: "OOMKilled", Message: "memory limit 64Mi"},
		},
		{
			c: containers.Container{ID: "c3" + fmt.Sprintf("%062x", 3), Labels: criLabels("container", "init-db"), Image: "docker.io/library/postgres:16",
				Runtime: runc, Spec: spec([]string{"docker-entrypoint.sh", "postgres"}, "web-0"), SnapshotKey: "c3" + fmt.Sprintf("%062x", 3), Snapshotter: "overlayfs",
				Extensions: map[string]types.Any{"io.cri-containerd.container.metadata": containerMeta("c3"+fmt.Sprintf("%062x", 3), "init-db", "docker.io/library/postgres:16", 0)}},
			kind:   "container",
			status: &status{CreatedAt: t0 + 6*sec},
		},
	}
	for _, r := range recs {
		if _, err := store.Create(namespaces.WithNamespace(ctx, ns), r.c); err != nil {
			return fmt.Errorf("create %s: %w", r.c.ID, err)
		}
		if r.status != nil {
			dir := filepath.Join(root, "io.containerd.grpc.v1.cri", "containers", r.c.ID)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, "status"), jsonOf(&versionedStatus{Version: "v1", status: *r.status}), 0o600); err != nil {
				return err
			}
		}
		if r.bundle {
			if err := os.MkdirAll(filepath.Join(root, "io.containerd.runtime.v2.task", ns, r.c.ID), 0o700); err != nil {
				return err
			}
		}
	}
	plain := containers.Container{ID: "plain-web", Labels: map[string]string{"nerdctl/name": "plain-web"}, Image: "docker.io/library/nginx:1.27",
		Runtime: runc, Spec: spec([]string{"nginx"}, "plain"), SnapshotKey: "plain-web", Snapshotter: "overlayfs"}
	if _, err := store.Create(namespaces.WithNamespace(ctx, "default"), plain); err != nil {
		return err
	}
	if err := bdb.Close(); err != nil {
		return err
	}

	// Read everything back through containerd's store (a fresh open) for the truth.
	bdb, err = bolt.Open(filepath.Join(dbDir, "meta.db"), 0o644, &bolt.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer bdb.Close()
	store = metadata.NewContainerStore(metadata.NewDB(bdb, nil, nil))
	if err := os.MkdirAll(filepath.Join(out, "info"), 0o755); err != nil {
		return err
	}
	var truth []map[string]interface{}
	for _, space := range []string{"default", ns} {
		list, err := store.List(namespaces.WithNamespace(ctx, space))
		if err != nil {
			return err
		}
		sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		for _, c := range list {
			// As ctr 1.6 `containers info` prints it: the record, its spec decoded.
			info, err := json.MarshalIndent(struct {
				containers.Container
				Spec json.RawMessage `json:"Spec,omitempty"`
			}{Container: c, Spec: c.Spec.Value}, "", "    ")
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(out, "info", c.ID+".json"), append(info, '\n'), 0o644); err != nil {
				return err
			}
			t := map[string]interface{}{
				"namespace": space, "id": c.ID, "image": c.Image,
				"createdAt": c.CreatedAt.Format(time.RFC3339Nano),
				"kind":      c.Labels["io.cri-containerd.kind"],
				"pod":       c.Labels["io.kubernetes.pod.name"], "podNamespace": c.Labels["io.kubernetes.pod.namespace"],
				"podUID": c.Labels["io.kubernetes.pod.uid"], "container": c.Labels["io.kubernetes.container.name"],
			}
			for name, ext := range c.Extensions {
				var v struct{ Metadata struct{ ImageRef string } }
				if name == "io.cri-containerd.container.metadata" && json.Unmarshal(ext.Value, &v) == nil {
					t["imageRef"] = v.Metadata.ImageRef
				}
			}
			for _, r := range recs {
				if r.c.ID != c.ID {
					continue
				}
				t["taskBundle"] = r.bundle
				if r.status != nil {
					t["state"] = r.status.state()
					t["exitCode"] = r.status.ExitCode
					t["pid"] = r.status.Pid
					t["reason"] = r.status.Reason
					t["statusCreatedAt"] = rfc(r.status.CreatedAt)
					t["startedAt"] = rfc(r.status.StartedAt)
					t["finishedAt"] = rfc(r.status.FinishedAt)
				}
			}
			truth = append(truth, t)
		}
	}
	b, err := json.MarshalIndent(truth, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "truth.json"), append(b, '\n'), 0o644)
}
