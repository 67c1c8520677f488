// ctrnofreelist: the deleted-1.6 scenario (tests/data/deleted-1.6, made through a real
// containerd 1.6 daemon) replayed on a meta.db opened the way containerd 1.7 and 2.x open it:
// bbolt with NoFreelistSync (containerd commit 6da318310, first in v1.7.0; in
// metadata/plugin/plugin.go of 1.7 and plugins/metadata/plugin.go of 2.x), so no freelist page
// is written and the meta pages say freelist = 0xffffffffffffffff.
//
// Every record is written through containerd 1.6's own metadata stores (Debian's packages):
// images, content (over content/local), leases, containers, the overlayfs snapshotter through
// metadata.DB.Snapshotter, and metadata.DB.GarbageCollect after every deletion (the daemon's
// scheduler collects after deletions too). Imports follow the 1.6 client (archive.ImportIndex,
// children labels, one lease per import and per unpack, deleted afterwards); an unpack
// prepares "extract-<n> <chainID>" and commits it as <chainID>, as rootfs.ApplyLayer does,
// without applying the layer's files (no mount).
//
//	ctrnofreelist -repo REPO -out DIR [-expire 3s]
//
// DIR gets root/io.containerd.metadata.v1.bolt/meta.db,
// root/io.containerd.snapshotter.v1.overlayfs/metadata.db, before.json and after.json (every
// record the stores list, per namespace), trail.jsonl (every record name a store was asked to
// create or delete, including the transient ones no listing shows) and gc.jsonl (what each
// collection removed, as gc.Stats cannot say: the records present before and absent after).
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
	"github.com/containerd/containerd/content"
	"github.com/containerd/containerd/content/local"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/images/archive"
	"github.com/containerd/containerd/leases"
	"github.com/containerd/containerd/metadata"
	"github.com/containerd/containerd/namespaces"
	"github.com/containerd/containerd/platforms"
	_ "github.com/containerd/containerd/runtime" // registers specs.Spec with typeurl, as the client does
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/overlay"
	"github.com/containerd/typeurl"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	bolt "go.etcd.io/bbolt"
)

type lab struct {
	repo  string
	db    *metadata.DB
	bdb   *bolt.DB
	cs    content.Store
	is    images.Store
	ls    leases.Manager
	ctrs  containers.Store
	sn    snapshots.Snapshotter
	trail *os.File
	gclog *os.File
	n     int
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "ctrnofreelist:", err)
		os.Exit(1)
	}
}

func (l *lab) note(ctx context.Context, entry map[string]interface{}) {
	ns, _ := namespaces.Namespace(ctx)
	entry["namespace"] = ns
	b, err := json.Marshal(entry)
	must(err)
	_, err = l.trail.Write(append(b, '\n'))
	must(err)
}

// loggedStore is the metadata content store, with the ingest refs it is asked for noted.
type loggedStore struct {
	content.Store
	l *lab
}

func (s loggedStore) Writer(ctx context.Context, opts ...content.WriterOpt) (content.Writer, error) {
	var wo content.WriterOpts
	for _, o := range opts {
		if err := o(&wo); err != nil {
			return nil, err
		}
	}
	s.l.note(ctx, map[string]interface{}{"op": "content.Writer", "ref": wo.Ref, "expected": wo.Desc.Digest})
	return s.Store.Writer(ctx, opts...)
}

func (l *lab) withLease(ctx context.Context, what string) (context.Context, func()) {
	l.n++
	id := fmt.Sprintf("%s-%d", what, l.n)
	_, err := l.ls.Create(ctx, leases.WithID(id), leases.WithExpiration(24*time.Hour))
	must(err)
	l.note(ctx, map[string]interface{}{"op": "leases.Create", "lease": id})
	return leases.WithLease(ctx, id), func() {
		must(l.ls.Delete(ctx, leases.Lease{ID: id}))
		l.note(ctx, map[string]interface{}{"op": "leases.Delete", "lease": id})
		l.collect(ctx, "after deleting lease "+id)
	}
}

// importArchive is containerd 1.6's Client.Import with ctr's --base-name, then Image.Unpack.
func (l *lab) importArchive(ctx context.Context, base, path string) {
	ictx, done := l.withLease(ctx, "import")
	f, err := os.Open(filepath.Join(l.repo, path))
	must(err)
	index, err := archive.ImportIndex(ictx, l.cs, f)
	must(err)
	must(f.Close())
	translate := archive.FilterRefPrefix(base)
	var imgs []images.Image
	var handler images.HandlerFunc = func(ctx context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		if desc.Digest != index.Digest {
			return images.Children(ctx, l.cs, desc)
		}
		p, err := content.ReadBlob(ctx, l.cs, desc)
		if err != nil {
			return nil, err
		}
		var idx ocispec.Index
		if err := json.Unmarshal(p, &idx); err != nil {
			return nil, err
		}
		for _, m := range idx.Manifests {
			name := m.Annotations[images.AnnotationImageName]
			if name == "" && m.Annotations[ocispec.AnnotationRefName] != "" {
				name = translate(m.Annotations[ocispec.AnnotationRefName])
			}
			if name != "" {
				imgs = append(imgs, images.Image{Name: name, Target: m})
			}
		}
		return idx.Manifests, nil
	}
	handler = images.FilterPlatforms(handler, platforms.Default())
	handler = images.SetChildrenLabels(l.cs, handler)
	must(images.WalkNotEmpty(ictx, handler, index))
	for i := range imgs {
		img, err := l.is.Update(ictx, imgs[i], "target")
		if errdefs.IsNotFound(err) {
			img, err = l.is.Create(ictx, imgs[i])
		}
		must(err)
		l.note(ctx, map[string]interface{}{"op": "images.Create", "image": img.Name})
		imgs[i] = img
	}
	done()
	for _, img := range imgs {
		l.unpack(ctx, img)
	}
}

func (l *lab) unpack(ctx context.Context, img images.Image) {
	uctx, done := l.withLease(ctx, "unpack")
	defer done()
	manifest, err := images.Manifest(uctx, l.cs, img.Target, platforms.Default())
	must(err)
	diffIDs, err := images.RootFS(uctx, l.cs, manifest.Config)
	must(err)
	chain := identity.ChainIDs(diffIDs)
	var parent string
	for i, c := range chain {
		name := c.String()
		if _, err := l.sn.Stat(uctx, name); err != nil {
			l.n++
			key := fmt.Sprintf(snapshots.UnpackKeyFormat, fmt.Sprintf("%d", l.n), name)
			_, err = l.sn.Prepare(uctx, key, parent)
			must(err)
			l.note(ctx, map[string]interface{}{"op": "snapshots.Prepare", "key": key, "parent": parent})
			must(l.sn.Commit(uctx, name, key))
			l.note(ctx, map[string]interface{}{"op": "snapshots.Commit", "key": key, "name": name})
		}
		if layer := manifest.Layers[i]; layer.Digest != diffIDs[i] {
			_, err := l.cs.Update(uctx, content.Info{Digest: layer.Digest,
				Labels: map[string]string{"containerd.io/uncompressed": diffIDs[i].String()}},
				"labels.containerd.io/uncompressed")
			must(err)
		}
		parent = name
	}
	_, err = l.cs.Update(uctx, content.Info{Digest: manifest.Config.Digest,
		Labels: map[string]string{"containerd.io/gc.ref.snapshot.overlayfs": parent}},
		"labels.containerd.io/gc.ref.snapshot.overlayfs")
	must(err)
}

// containerCreate is ctr's `containers create IMAGE ID`: a snapshot ID on the image's chain.
func (l *lab) containerCreate(ctx context.Context, ref, id string) {
	cctx, done := l.withLease(ctx, "container")
	defer done()
	img, err := l.is.Get(cctx, ref)
	must(err)
	manifest, err := images.Manifest(cctx, l.cs, img.Target, platforms.Default())
	must(err)
	diffIDs, err := images.RootFS(cctx, l.cs, manifest.Config)
	must(err)
	_, err = l.sn.Prepare(cctx, id, identity.ChainID(diffIDs).String())
	must(err)
	l.note(ctx, map[string]interface{}{"op": "snapshots.Prepare", "key": id})
	spec, err := typeurl.MarshalAny(&specs.Spec{Version: specs.Version, Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"}})
	must(err)
	_, err = l.ctrs.Create(cctx, containers.Container{
		ID: id, Image: ref, Labels: map[string]string{"io.containerd.image.config.stop-signal": "SIGTERM"},
		Runtime:     containers.RuntimeInfo{Name: "io.containerd.runc.v2"},
		Spec:        spec,
		SnapshotKey: id, Snapshotter: "overlayfs",
	})
	must(err)
	l.note(ctx, map[string]interface{}{"op": "containers.Create", "container": id})
}

func (l *lab) lease(ctx context.Context, id string, exp time.Duration, labels map[string]string) {
	opts := []leases.Opt{leases.WithID(id), leases.WithLabels(labels)}
	if exp > 0 {
		opts = append(opts, leases.WithExpiration(exp))
	}
	_, err := l.ls.Create(ctx, opts...)
	must(err)
	l.note(ctx, map[string]interface{}{"op": "leases.Create", "lease": id})
}

func (l *lab) tag(ctx context.Context, from, to string) {
	img, err := l.is.Get(ctx, from)
	must(err)
	img.Name = to
	_, err = l.is.Create(ctx, img)
	must(err)
	l.note(ctx, map[string]interface{}{"op": "images.Create", "image": to})
}

func (l *lab) imageRm(ctx context.Context, name string) {
	must(l.is.Delete(ctx, name))
	l.note(ctx, map[string]interface{}{"op": "images.Delete", "image": name})
	l.collect(ctx, "after deleting image "+name)
}

func (l *lab) containerRm(ctx context.Context, id string) {
	must(l.sn.Remove(ctx, id)) // ctr's WithSnapshotCleanup
	l.note(ctx, map[string]interface{}{"op": "snapshots.Remove", "key": id})
	must(l.ctrs.Delete(ctx, id))
	l.note(ctx, map[string]interface{}{"op": "containers.Delete", "container": id})
	l.collect(ctx, "after deleting container "+id)
}

func (l *lab) leaseRm(ctx context.Context, id string) {
	must(l.ls.Delete(ctx, leases.Lease{ID: id}))
	l.note(ctx, map[string]interface{}{"op": "leases.Delete", "lease": id})
	l.collect(ctx, "after deleting lease "+id)
}

// state: every record the stores list, per namespace (the ctr listings' counterpart).
type nsState struct {
	Images     []string `json:"images"`
	Content    []string `json:"content"`
	Leases     []string `json:"leases"`
	Containers []string `json:"containers"`
	Snapshots  []string `json:"snapshots"`
	Ingests    []string `json:"ingests"`
}

func (l *lab) state() map[string]*nsState {
	out := map[string]*nsState{}
	var nss []string
	must(l.bdb.View(func(tx *bolt.Tx) error {
		var err error
		nss, err = metadata.NewNamespaceStore(tx).List(context.Background())
		return err
	}))
	for _, ns := range nss {
		ctx := namespaces.WithNamespace(context.Background(), ns)
		s := &nsState{Images: []string{}, Content: []string{}, Leases: []string{}, Containers: []string{}, Snapshots: []string{}, Ingests: []string{}}
		imgs, err := l.is.List(ctx)
		must(err)
		for _, i := range imgs {
			s.Images = append(s.Images, i.Name)
		}
		must(l.cs.Walk(ctx, func(i content.Info) error {
			s.Content = append(s.Content, i.Digest.String())
			return nil
		}))
		ls, err := l.ls.List(ctx)
		must(err)
		for _, x := range ls {
			s.Leases = append(s.Leases, x.ID)
		}
		cs, err := l.ctrs.List(ctx)
		must(err)
		for _, c := range cs {
			s.Containers = append(s.Containers, c.ID)
		}
		must(l.sn.Walk(ctx, func(_ context.Context, i snapshots.Info) error {
			s.Snapshots = append(s.Snapshots, i.Name)
			return nil
		}))
		st, err := l.cs.ListStatuses(ctx)
		must(err)
		for _, x := range st {
			s.Ingests = append(s.Ingests, x.Ref)
		}
		for _, v := range [][]string{s.Images, s.Content, s.Leases, s.Containers, s.Snapshots, s.Ingests} {
			sort.Strings(v)
		}
		out[ns] = s
	}
	return out
}

func keys(st map[string]*nsState) map[string]bool {
	k := map[string]bool{}
	for ns, s := range st {
		k["namespace//"+ns] = true
		for kind, v := range map[string][]string{"image": s.Images, "content": s.Content, "lease": s.Leases,
			"container": s.Containers, "snapshot": s.Snapshots, "ingest": s.Ingests} {
			for _, n := range v {
				k[kind+"/"+ns+"/"+n] = true
			}
		}
	}
	return k
}

// collect runs containerd's collection and notes what it removed.
func (l *lab) collect(ctx context.Context, why string) {
	before := keys(l.state())
	stats, err := l.db.GarbageCollect(ctx)
	must(err)
	after := keys(l.state())
	removed := []string{}
	for k := range before {
		if !after[k] {
			removed = append(removed, k)
		}
	}
	sort.Strings(removed)
	b, err := json.Marshal(map[string]interface{}{"why": why, "elapsed": stats.Elapsed().String(), "removed": removed})
	must(err)
	_, err = l.gclog.Write(append(b, '\n'))
	must(err)
}

func writeJSON(path string, v interface{}) {
	b, err := json.MarshalIndent(v, "", "  ")
	must(err)
	must(os.WriteFile(path, append(b, '\n'), 0o644))
}

func main() {
	repo := flag.String("repo", ".", "the coldctr repository (for fixtures/)")
	out := flag.String("out", "", "output directory")
	expire := flag.Duration("expire", 3*time.Second, "lease-expire's expiry")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: ctrnofreelist -repo REPO -out DIR")
		os.Exit(2)
	}
	work, err := os.MkdirTemp("", "nofreelist")
	must(err)
	root := filepath.Join(*out, "root")
	must(os.RemoveAll(root))
	metaDir := filepath.Join(root, "io.containerd.metadata.v1.bolt")
	must(os.MkdirAll(metaDir, 0o711))

	opts := *bolt.DefaultOptions
	opts.NoFreelistSync = true // what containerd >= 1.7 sets (and only this)
	bdb, err := bolt.Open(filepath.Join(metaDir, "meta.db"), 0o644, &opts)
	must(err)
	lcs, err := local.NewStore(filepath.Join(work, "content"))
	must(err)
	ov, err := overlay.NewSnapshotter(filepath.Join(work, "overlayfs"), overlay.AsynchronousRemove)
	must(err)
	db := metadata.NewDB(bdb, lcs, map[string]snapshots.Snapshotter{"overlayfs": ov})
	must(db.Init(context.Background()))

	l := &lab{repo: *repo, db: db, bdb: bdb, is: metadata.NewImageStore(db), ls: metadata.NewLeaseManager(db),
		ctrs: metadata.NewContainerStore(db), sn: db.Snapshotter("overlayfs")}
	l.cs = loggedStore{Store: db.ContentStore(), l: l}
	l.trail, err = os.Create(filepath.Join(*out, "trail.jsonl"))
	must(err)
	l.gclog, err = os.Create(filepath.Join(*out, "gc.jsonl"))
	must(err)

	def := namespaces.WithNamespace(context.Background(), "default")
	sec := namespaces.WithNamespace(context.Background(), "second")
	A, D := "fixtures/oci-dev/archives/", "fixtures/docker-save/"
	l.importArchive(def, "localhost/lab-dev/app", A+"podman-docker-archive.tar")
	l.importArchive(def, "docker.io/library/multi", A+"skopeo-docker-archive.tar")
	l.importArchive(def, "docker.io/library/webapp-debug", D+"save-webapp-debug_1.0.tar")
	l.tag(def, "localhost/lab-dev/app:1", "localhost/lab-dev/app:keep")
	l.tag(def, "localhost/lab-dev/app:1", "localhost/lab-dev/app:gone")
	l.lease(def, "lease-keep", 0, map[string]string{"team": "a"})
	l.lease(def, "lease-rm", 0, map[string]string{"purpose": "rm"})
	l.lease(def, "lease-expire", *expire, map[string]string{"purpose": "expire"})
	expiresAt := time.Now().Add(*expire)
	l.containerCreate(def, "localhost/lab-dev/app:1", "c-keep")
	l.containerCreate(def, "localhost/lab-dev/app:1", "c-gone")
	l.containerCreate(def, "docker.io/library/multi:3.1", "c-multi")
	l.importArchive(sec, "localhost/lab-dev/app", A+"podman-oci-archive.tar")
	l.importArchive(sec, "localhost/lab-dev/app", A+"podman-docker-archive.tar")
	l.containerCreate(sec, "localhost/lab-dev/app:debug", "c-second")
	l.lease(sec, "lease-second", 0, map[string]string{"ns": "second"})
	writeJSON(filepath.Join(*out, "before.json"), l.state())

	l.imageRm(def, "localhost/lab-dev/app:gone")
	l.containerRm(def, "c-gone")
	l.leaseRm(def, "lease-rm")
	img, err := l.is.Get(def, "docker.io/library/webapp-debug:1.0")
	must(err)
	manifest, err := images.Manifest(def, l.cs, img.Target, platforms.Default())
	must(err)
	must(l.cs.Delete(def, manifest.Config.Digest)) // ctr content rm
	l.note(def, map[string]interface{}{"op": "content.Delete", "digest": manifest.Config.Digest})
	l.collect(def, "after deleting content "+manifest.Config.Digest.String())
	l.imageRm(def, "docker.io/library/webapp-debug:1.0")
	l.imageRm(def, "docker.io/library/multi:latest")
	l.containerRm(sec, "c-second")
	l.imageRm(sec, "localhost/lab-dev/app:debug")
	l.leaseRm(sec, "lease-second")
	time.Sleep(time.Until(expiresAt) + time.Second)
	l.imageRm(def, "docker.io/library/multi:3.1") // its collection also removes lease-expire
	writeJSON(filepath.Join(*out, "after.json"), l.state())
	must(bdb.Close())
	must(l.trail.Close())
	must(l.gclog.Close())
	must(ov.Close())

	snapDir := filepath.Join(root, "io.containerd.snapshotter.v1.overlayfs")
	must(os.MkdirAll(snapDir, 0o700))
	b, err := os.ReadFile(filepath.Join(work, "overlayfs", "metadata.db"))
	must(err)
	must(os.WriteFile(filepath.Join(snapDir, "metadata.db"), b, 0o600))
	must(os.RemoveAll(work))
	fmt.Println("wrote", root)
}
