// Builds a GC scenario on a copy of a containerd 1.6 root, writing bolt records directly
// (no containerd API, so nothing triggers a collection).
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

var root = os.Args[1]

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func tbin(t time.Time) []byte {
	b, err := t.UTC().MarshalBinary()
	must(err)
	return b
}

func varint(n int64) []byte {
	b := make([]byte, binary.MaxVarintLen64)
	return b[:binary.PutVarint(b, n)]
}

func uvarint(n uint64) []byte {
	b := make([]byte, binary.MaxVarintLen64)
	return b[:binary.PutUvarint(b, n)]
}

func bucket(b *bolt.Bucket, names ...string) *bolt.Bucket {
	for _, n := range names {
		nb, err := b.CreateBucketIfNotExists([]byte(n))
		must(err)
		b = nb
	}
	return b
}

func put(b *bolt.Bucket, k string, v []byte) { must(b.Put([]byte(k), v)) }

var now = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

// blob writes a blob file and returns its digest and size.
func blob(content string) (string, int64) {
	sum := sha256.Sum256([]byte(content))
	h := hex.EncodeToString(sum[:])
	p := filepath.Join(root, "io.containerd.content.v1.content/blobs/sha256", h)
	must(os.WriteFile(p, []byte(content), 0444))
	return "sha256:" + h, int64(len(content))
}

func content(ns *bolt.Bucket, dgst string, size int64, labels map[string]string) {
	b := bucket(ns, "content", "blob", dgst)
	put(b, "createdat", tbin(now))
	put(b, "updatedat", tbin(now))
	put(b, "size", varint(size))
	if len(labels) > 0 {
		l := bucket(b, "labels")
		for k, v := range labels {
			put(l, k, []byte(v))
		}
	}
}

func lease(ns *bolt.Bucket, id string, labels map[string]string, content []string, snaps [][2]string, ingests []string) {
	b := bucket(ns, "leases", id)
	put(b, "createdat", tbin(now))
	if len(labels) > 0 {
		l := bucket(b, "labels")
		for k, v := range labels {
			put(l, k, []byte(v))
		}
	}
	for _, c := range content {
		put(bucket(b, "content"), c, nil)
	}
	for _, s := range snaps {
		put(bucket(b, "snapshots", s[0]), s[1], nil)
	}
	for _, i := range ingests {
		put(bucket(b, "ingests"), i, nil)
	}
}

func ingest(ns *bolt.Bucket, nsName, key string, expire *time.Time, expected string, dir bool, data int) {
	b := bucket(ns, "content", "ingests", key)
	ref := nsName + "/1/" + key
	put(b, "ref", []byte(ref))
	if expire != nil {
		put(b, "expireat", tbin(*expire))
	}
	if expected != "" {
		put(b, "expected", []byte(expected))
	}
	if dir {
		ingestDir(ref, data)
	}
}

func ingestDir(ref string, data int) {
	sum := sha256.Sum256([]byte(ref))
	d := filepath.Join(root, "io.containerd.content.v1.content/ingest", hex.EncodeToString(sum[:]))
	must(os.MkdirAll(d, 0755))
	must(os.WriteFile(filepath.Join(d, "ref"), []byte(ref), 0644))
	must(os.WriteFile(filepath.Join(d, "data"), make([]byte, data), 0644))
	ts, _ := now.MarshalText()
	must(os.WriteFile(filepath.Join(d, "startedat"), ts, 0644))
	must(os.WriteFile(filepath.Join(d, "updatedat"), ts, 0644))
}

func snapshot(ns *bolt.Bucket, sn, key, name, parent string, labels map[string]string) {
	b := bucket(ns, "snapshots", sn, key)
	put(b, "name", []byte(name))
	if parent != "" {
		put(b, "parent", []byte(parent))
		p := bucket(ns, "snapshots", sn, parent)
		put(bucket(p, "children"), key, nil)
	}
	put(b, "createdat", tbin(now))
	put(b, "updatedat", tbin(now))
	if len(labels) > 0 {
		l := bucket(b, "labels")
		for k, v := range labels {
			put(l, k, []byte(v))
		}
	}
}

func main() {
	past := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	future := time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)
	new1, s1 := blob("gc scenario: held only by an expired lease\n")
	new2, s2 := blob("gc scenario: expected by a live ingest\n")
	new3, s3 := blob("gc scenario: manifest held by a flat lease\n")
	new4, s4 := blob("gc scenario: config below the flat-leased manifest\n")
	new5, s5 := blob("gc scenario: layer below the flat-leased manifest\n")
	new6, s6 := blob("gc scenario: gc.root content\n")
	new7, s7 := blob("gc scenario: named by gc.ref.content/extra\n")
	new8, s8 := blob("gc scenario: named by gc.ref.contentious (not a reference)\n")
	new9, s9 := blob("gc scenario: named by a flat-leased snapshot's label\n")
	new10, s10 := blob("gc scenario: held by a lease with an unparsable expiry\n")
	new11, s11 := blob("gc scenario: named by an image record's label in scen\n")

	db, err := bolt.Open(filepath.Join(root, "io.containerd.metadata.v1.bolt/meta.db"), 0644, nil)
	must(err)
	must(db.Update(func(tx *bolt.Tx) error {
		v1 := tx.Bucket([]byte("v1"))
		def := v1.Bucket([]byte("default"))
		// (a) an image record goes away
		must(def.Bucket([]byte("images")).DeleteBucket([]byte("ghcr.io/example/tool:v1")))
		// (b) an expired lease holding fresh content and shared content
		content(def, new1, s1, nil)
		lease(def, "expired-lease", map[string]string{"containerd.io/gc.expire": past.Format(time.RFC3339)},
			[]string{new1, "sha256:5c9084899984edadd855578b300d835d96d6d4d7457eaabc70a5f053c0994b54"}, nil, nil)
		// (c) ingests
		content(def, new2, s2, nil)
		ingest(def, "default", "ing-expired", &past, "", true, 100)
		ingest(def, "default", "ing-live", &future, new2, true, 37)
		ingest(def, "default", "ing-noexp", nil, "", false, 0)
		ingest(def, "default", "ing-leased", nil, "", true, 5)
		put(bucket(def, "leases", "lab-lease", "ingests"), "ing-leased", nil)
		ingestDir("default/9/ghost", 64)
		// (f) a lease whose expiry does not parse never expires
		content(def, new10, s10, nil)
		lease(def, "bad-expiry", map[string]string{"containerd.io/gc.expire": "next tuesday"}, []string{new10}, nil, nil)

		// (d) a new namespace
		sc := bucket(v1, "scen")
		content(sc, new3, s3, map[string]string{
			"containerd.io/gc.ref.content.config": new4,
			"containerd.io/gc.ref.content.l.0":    new5,
		})
		content(sc, new4, s4, map[string]string{"containerd.io/gc.ref.snapshot.overlayfs/top": "s-top"})
		content(sc, new5, s5, nil)
		lease(sc, "flat-lease", map[string]string{"containerd.io/gc.flat": "true"}, []string{new3},
			[][2]string{{"overlayfs", "s-flat"}}, nil)
		content(sc, new6, s6, map[string]string{
			"containerd.io/gc.root":                    "true",
			"containerd.io/gc.ref.content/extra":       new7,
			"containerd.io/gc.ref.contentious":         new8,
			"containerd.io/gc.ref.snapshot.overlayfs/x": "s-ref",
		})
		content(sc, new7, s7, nil)
		content(sc, new8, s8, nil)
		content(sc, new9, s9, nil)
		content(sc, new11, s11, nil)
		// an image in scen whose target does not exist, with a label reference
		img := bucket(sc, "images", "example.com/scen:dangling")
		put(img, "createdat", tbin(now))
		put(img, "updatedat", tbin(now))
		tg := bucket(img, "target")
		put(tg, "digest", []byte("sha256:0000000000000000000000000000000000000000000000000000000000000000"))
		put(tg, "mediatype", []byte("application/vnd.oci.image.manifest.v1+json"))
		put(tg, "size", varint(1))
		put(bucket(img, "labels"), "containerd.io/gc.ref.content.extra", []byte(new11))

		snapshot(sc, "overlayfs", "s-base", "scen/1/s-base", "", nil)
		snapshot(sc, "overlayfs", "s-mid", "scen/3/s-mid", "s-base", nil)
		snapshot(sc, "overlayfs", "s-root", "scen/4/s-root", "s-mid", map[string]string{"containerd.io/gc.root": "yes"})
		snapshot(sc, "overlayfs", "s-lone", "scen/2/s-lone", "", nil)
		snapshot(sc, "overlayfs", "c-snap", "scen/5/c-snap", "s-base", nil)
		snapshot(sc, "overlayfs", "s-flatparent", "scen/6/s-flatparent", "", nil)
		snapshot(sc, "overlayfs", "s-flat", "scen/7/s-flat", "s-flatparent", map[string]string{"containerd.io/gc.ref.content": new9})
		snapshot(sc, "overlayfs", "s-ref", "scen/8/s-ref", "", nil)
		snapshot(sc, "overlayfs", "s-old", "scen/9/s-old", "", nil)
		snapshot(sc, "overlayfs", "s-top", "scen/10/s-top", "", nil)
		lease(sc, "exp-snap-lease", map[string]string{"containerd.io/gc.expire": past.Format(time.RFC3339)}, nil,
			[][2]string{{"overlayfs", "s-old"}}, nil)
		c := bucket(sc, "containers", "ctr1")
		put(c, "createdat", tbin(now))
		put(c, "updatedat", tbin(now))
		put(c, "snapshotter", []byte("overlayfs"))
		put(c, "snapshotKey", []byte("c-snap"))
		put(c, "image", []byte(""))
		put(bucket(c, "runtime"), "name", []byte("io.containerd.runc.v2"))
		return nil
	}))
	must(db.Close())

	// the overlay backend
	sdir := filepath.Join(root, "io.containerd.snapshotter.v1.overlayfs")
	sdb, err := bolt.Open(filepath.Join(sdir, "metadata.db"), 0644, nil)
	must(err)
	must(sdb.Update(func(tx *bolt.Tx) error {
		v1 := tx.Bucket([]byte("v1"))
		snaps := v1.Bucket([]byte("snapshots"))
		parents := v1.Bucket([]byte("parents"))
		add := func(name string, id uint64, kind byte, parent string, parentID uint64) {
			b := bucket(snaps, name)
			put(b, "id", uvarint(id))
			put(b, "kind", []byte{kind})
			put(b, "createdat", tbin(now))
			put(b, "updatedat", tbin(now))
			if parent != "" {
				put(b, "parent", []byte(parent))
				k := append(append(uvarint(parentID), 0), uvarint(id)...)
				must(parents.Put(k, []byte(name)))
			}
			if kind == 3 {
				put(b, "size", varint(4096))
				put(b, "inodes", varint(1))
			}
			must(os.MkdirAll(filepath.Join(sdir, "snapshots", fmt.Sprint(id), "fs"), 0755))
		}
		add("scen/1/s-base", 40, 3, "", 0)
		add("scen/3/s-mid", 43, 3, "scen/1/s-base", 40)
		add("scen/2/s-lone", 41, 3, "", 0)
		add("scen/99/s-ghost", 42, 3, "", 0)
		add("scen/98/s-ghostchild", 44, 2, "scen/99/s-ghost", 42)
		add("scen/97/s-orphanchild", 45, 2, "scen/96/nowhere", 96)
		return nil
	}))
	must(sdb.Close())
	must(os.MkdirAll(filepath.Join(sdir, "snapshots", "new-555"), 0755))
	must(os.MkdirAll(filepath.Join(sdir, "snapshots", "999", "fs"), 0755))
	must(os.WriteFile(filepath.Join(sdir, "snapshots", "999", "fs", "file"), make([]byte, 10000), 0644))
	fmt.Println("scenario written to", root)
}
