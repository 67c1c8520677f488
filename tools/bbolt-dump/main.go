// Command bbolt-dump prints every key of a bbolt database as JSON Lines, using
// the real bbolt library (Debian's golang-github-coreos-bbolt-dev, GOPATH mode).
// It produces the golden files under fixtures/golden/ that coldctr's own bbolt
// reader is compared against.
//
// Usage:
//
//	bbolt-dump FILE          one JSON object per key, depth-first in cursor order
//	bbolt-dump -check FILE   tx.Check() errors, one per line, or "OK"
//
// Output line shape (fields always in this order):
//
//	{"bucket":[...],"key":NAME,"value":"<lowercase hex>"}   plain value
//	{"bucket":[...],"key":NAME,"value":null}                nested bucket
//
// "bucket" lists the enclosing bucket names, outermost first; top-level buckets
// are keys of the root and have "bucket":[]. A bucket's own line comes before
// its contents. A NAME (key or bucket name) that is valid UTF-8 is a JSON
// string; any other is {"hex":"<lowercase hex>"}. An empty value is "".
//
// The database is opened read-only (shared flock, 2 s timeout); nothing is
// written. Exit status: 0 on success (check: "OK"), 1 on check errors, 2 on
// open/read failures (including a panic inside bbolt on a corrupt file).
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// hexName is how a name that is not valid UTF-8 is written.
type hexName struct {
	Hex string `json:"hex"`
}

// record is one output line. Name fields are interface{} so that they hold
// either a string (valid UTF-8) or a hexName; Value is nil for a bucket.
type record struct {
	Bucket []interface{} `json:"bucket"`
	Key    interface{}   `json:"key"`
	Value  *string       `json:"value"`
}

// name converts a raw bbolt name. encoding/json would silently replace
// invalid UTF-8 with U+FFFD, so such names must never reach it as strings.
func name(b []byte) interface{} {
	if utf8.Valid(b) {
		return string(b)
	}
	return hexName{Hex: hex.EncodeToString(b)}
}

type dumper struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
}

func newDumper(w *bufio.Writer) *dumper {
	d := &dumper{w: w}
	d.enc = json.NewEncoder(&d.buf)
	// Keep '<', '>' and '&' literal; the goldens are read by a JSON parser,
	// but literal characters keep them greppable and closer to other tools.
	d.enc.SetEscapeHTML(false)
	return d
}

func (d *dumper) emit(r *record) error {
	d.buf.Reset()
	if err := d.enc.Encode(r); err != nil { // Encode appends '\n'
		return err
	}
	_, err := d.w.Write(d.buf.Bytes())
	return err
}

// walk prints every key of b in cursor order; path holds the already
// converted names of the enclosing buckets (outermost first).
func (d *dumper) walk(b *bolt.Bucket, path []interface{}) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r := record{Bucket: path, Key: name(k)}
		var child *bolt.Bucket
		if v == nil {
			// bbolt reports a nested bucket as a nil value; confirm it.
			child = b.Bucket(k)
		}
		if child == nil {
			s := hex.EncodeToString(v)
			r.Value = &s
		}
		if err := d.emit(&r); err != nil {
			return err
		}
		if child != nil {
			sub := make([]interface{}, len(path)+1)
			copy(sub, path)
			sub[len(path)] = name(k)
			if err := d.walk(child, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

func dumpAll(tx *bolt.Tx, w *bufio.Writer) error {
	d := newDumper(w)
	root := []interface{}{}
	return tx.ForEach(func(k []byte, b *bolt.Bucket) error {
		s := record{Bucket: root, Key: name(k)} // top-level key is always a bucket
		if err := d.emit(&s); err != nil {
			return err
		}
		return d.walk(b, []interface{}{name(k)})
	})
}

func checkAll(tx *bolt.Tx, w *bufio.Writer) int {
	n := 0
	for err := range tx.Check() {
		fmt.Fprintln(w, err)
		n++
	}
	if n == 0 {
		fmt.Fprintln(w, "OK")
	}
	return n
}

func main() {
	check := flag.Bool("check", false, "run tx.Check() and print its errors (one per line) or OK")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [-check] FILE\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(flag.Arg(0), *check))
}

func run(path string, check bool) (code int) {
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer func() {
		// bbolt panics on some corrupt pages; report instead of a trace.
		if p := recover(); p != nil {
			w.Flush()
			fmt.Fprintf(os.Stderr, "bbolt-dump: %s: panic: %v\n", path, p)
			code = 2
		}
	}()
	db, err := bolt.Open(path, 0444, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		fmt.Fprintf(os.Stderr, "bbolt-dump: %s: %v\n", path, err)
		return 2
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		if check {
			if checkAll(tx, w) > 0 {
				code = 1
			}
			return nil
		}
		return dumpAll(tx, w)
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bbolt-dump: %s: %v\n", path, err)
		return 2
	}
	return code
}
