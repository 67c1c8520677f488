// ctrtrail: the two ctr operations that make records of their own (image import with unpack,
// container create), done the way ctr 1.6 does them through containerd's Go client, with every
// request the client sends to the daemon written to a trail (JSON lines): the names of the
// transient records those operations create and delete again (the client's leases, content
// ingests, the "extract-..." unpack snapshots), which no listing ever shows.
//
//	ctrtrail -a SOCK -n NS -trail FILE import [-base-name PREFIX] [-snapshotter S] ARCHIVE
//	ctrtrail -a SOCK -n NS -trail FILE container-create [-snapshotter S] IMAGE ID
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/containerd/containerd"
	containersapi "github.com/containerd/containerd/api/services/containers/v1"
	contentapi "github.com/containerd/containerd/api/services/content/v1"
	imagesapi "github.com/containerd/containerd/api/services/images/v1"
	leasesapi "github.com/containerd/containerd/api/services/leases/v1"
	namespacesapi "github.com/containerd/containerd/api/services/namespaces/v1"
	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/images/archive"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/containerd/pkg/dialer"
	"github.com/containerd/containerd/platforms"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

var (
	trailMu sync.Mutex
	trail   *os.File
)

// record writes what a request names: the records it creates, changes or deletes.
func record(ctx context.Context, method string, req interface{}) {
	entry := map[string]interface{}{"method": method}
	if md, ok := metadata.FromOutgoingContext(ctx); ok {
		if ns := md.Get("containerd-namespace"); len(ns) > 0 {
			entry["namespace"] = ns[0]
		}
	}
	switch r := req.(type) {
	case *leasesapi.CreateRequest:
		entry["lease"] = r.ID
		entry["labels"] = r.Labels
	case *leasesapi.DeleteRequest:
		entry["lease"] = r.ID
	case *leasesapi.AddResourceRequest:
		entry["lease"] = r.ID
		entry["resource"] = r.Resource
	case *leasesapi.DeleteResourceRequest:
		entry["lease"] = r.ID
		entry["resource"] = r.Resource
	case *snapshotsapi.PrepareSnapshotRequest:
		entry["snapshotter"], entry["key"], entry["parent"] = r.Snapshotter, r.Key, r.Parent
	case *snapshotsapi.ViewSnapshotRequest:
		entry["snapshotter"], entry["key"], entry["parent"] = r.Snapshotter, r.Key, r.Parent
	case *snapshotsapi.CommitSnapshotRequest:
		entry["snapshotter"], entry["key"], entry["name"] = r.Snapshotter, r.Key, r.Name
	case *snapshotsapi.RemoveSnapshotRequest:
		entry["snapshotter"], entry["key"] = r.Snapshotter, r.Key
	case *contentapi.WriteContentRequest:
		if r.Ref == "" && r.Action != contentapi.WriteActionCommit {
			return // a later message of a write already recorded
		}
		entry["ref"], entry["action"] = r.Ref, r.Action.String()
		entry["expected"], entry["total"] = r.Expected, r.Total
	case *contentapi.DeleteContentRequest:
		entry["digest"] = r.Digest
	case *contentapi.AbortRequest:
		entry["ref"] = r.Ref
	case *imagesapi.CreateImageRequest:
		entry["image"], entry["target"] = r.Image.Name, r.Image.Target.Digest
	case *imagesapi.UpdateImageRequest:
		entry["image"], entry["target"] = r.Image.Name, r.Image.Target.Digest
	case *imagesapi.DeleteImageRequest:
		entry["image"] = r.Name
	case *containersapi.CreateContainerRequest:
		entry["container"], entry["snapshot_key"] = r.Container.ID, r.Container.SnapshotKey
	case *containersapi.DeleteContainerRequest:
		entry["container"] = r.ID
	case *namespacesapi.CreateNamespaceRequest:
		entry["namespace_created"] = r.Namespace.Name
	default:
		return // reads and lists: they name no record of their own
	}
	b, err := json.Marshal(entry)
	if err != nil {
		fmt.Fprintln(os.Stderr, "trail:", err)
		os.Exit(1)
	}
	trailMu.Lock()
	defer trailMu.Unlock()
	if _, err := trail.Write(append(b, '\n')); err != nil {
		fmt.Fprintln(os.Stderr, "trail:", err)
		os.Exit(1)
	}
}

type loggedStream struct {
	grpc.ClientStream
	ctx    context.Context
	method string
}

func (s *loggedStream) SendMsg(m interface{}) error {
	record(s.ctx, s.method, m)
	return s.ClientStream.SendMsg(m)
}

func main() {
	addr := flag.String("a", "", "containerd socket")
	ns := flag.String("n", "default", "namespace")
	trailPath := flag.String("trail", "", "trail file (appended)")
	flag.Parse()
	args := flag.Args()
	if *addr == "" || *trailPath == "" || len(args) < 1 {
		fmt.Fprintln(os.Stderr, "usage: ctrtrail -a SOCK -n NS -trail FILE import|container-create ...")
		os.Exit(2)
	}
	var err error
	trail, err = os.OpenFile(*trailPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	unary := func(ctx context.Context, method string, req, reply interface{}, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		record(ctx, method, req)
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		s, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil {
			return nil, err
		}
		return &loggedStream{ClientStream: s, ctx: ctx, method: method}, nil
	}
	// containerd.New's own dial options, plus the two interceptors.
	dialOpts := []grpc.DialOption{
		grpc.WithBlock(),
		grpc.WithInsecure(),
		grpc.FailOnNonTempDialError(true),
		grpc.WithContextDialer(dialer.ContextDialer),
		grpc.WithReturnConnectionError(),
		grpc.WithChainUnaryInterceptor(unary),
		grpc.WithChainStreamInterceptor(stream),
	}
	client, err := containerd.New(*addr, containerd.WithDialOpts(dialOpts))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer client.Close()
	ctx := namespaces.WithNamespace(context.Background(), *ns)
	switch args[0] {
	case "import":
		err = doImport(ctx, client, args[1:])
	case "container-create":
		err = doCreate(ctx, client, args[1:])
	default:
		err = fmt.Errorf("unknown command %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ctrtrail:", err)
		os.Exit(1)
	}
}

// doImport is ctr 1.6's `images import [--base-name P]`, unpacking into the snapshotter.
func doImport(ctx context.Context, client *containerd.Client, args []string) error {
	fs := flag.NewFlagSet("import", flag.ExitOnError)
	base := fs.String("base-name", "", "base image name (ctr's --base-name)")
	snap := fs.String("snapshotter", "overlayfs", "snapshotter")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("import ARCHIVE")
	}
	var opts []containerd.ImportOpt
	if *base == "" {
		return fmt.Errorf("-base-name is required (ctr's default names the image by the date)")
	}
	opts = append(opts, containerd.WithImageRefTranslator(archive.FilterRefPrefix(*base)))
	opts = append(opts, containerd.WithAllPlatforms(false))
	r, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer r.Close()
	imgs, err := client.Import(ctx, r, opts...)
	if err != nil {
		return err
	}
	for _, img := range imgs {
		image := containerd.NewImageWithPlatform(client, img, platforms.Default())
		fmt.Printf("unpacking %s (%s)...", img.Name, img.Target.Digest)
		if err := image.Unpack(ctx, *snap); err != nil {
			return err
		}
		fmt.Println("done")
	}
	return nil
}

// doCreate is ctr 1.6's `containers create IMAGE ID` (a snapshot named ID on the image's
// chain, an OCI spec from the image config, the default runtime).
func doCreate(ctx context.Context, client *containerd.Client, args []string) error {
	fs := flag.NewFlagSet("container-create", flag.ExitOnError)
	snap := fs.String("snapshotter", "overlayfs", "snapshotter")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("container-create IMAGE ID")
	}
	ref, id := fs.Arg(0), fs.Arg(1)
	image, err := client.GetImage(ctx, ref)
	if err != nil {
		return err
	}
	_, err = client.NewContainer(ctx, id,
		containerd.WithImage(image),
		containerd.WithImageName(ref),
		containerd.WithSnapshotter(*snap),
		containerd.WithNewSnapshot(id, image),
		containerd.WithRuntime(client.Runtime(), nil),
		containerd.WithNewSpec(oci.WithImageConfig(image), oci.WithProcessArgs(strings.Fields("sh")...)),
	)
	return err
}
