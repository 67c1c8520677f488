// filtercases: containerd 1.6's filter parser and Go's regexp on a list of cases, the ground
// truth of coldctr's containerd filters (fixtures/expected/containerd-filters/cases.jsonl).
//
// Each input line is a JSON object: {"texts": [T...]} (the texts the patterns after it are
// matched against), {"filter": F} (parsed with containerd's filters.Parse; "error" is its
// error text, or empty) or {"pattern": P} (regexp.Compile(P): "error" when it does not
// compile, else "matches", the texts MatchString matches). Each line is written back with the
// answer, after a first line naming the Go it was built with. Built against Debian's containerd 1.6 sources (build-go.sh),
// with the Go of Debian's containerd 1.6.20 package (go1.19.8).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"runtime"

	"github.com/containerd/containerd/filters"
)

type entry struct {
	Go      string   `json:"go,omitempty"`
	Texts   []string `json:"texts,omitempty"`
	Filter  *string  `json:"filter,omitempty"`
	Pattern *string  `json:"pattern,omitempty"`
	Error   string   `json:"error,omitempty"`
	Matches []string `json:"matches,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	if err := out.Encode(entry{Go: runtime.Version()}); err != nil {
		os.Exit(1)
	}
	var texts []string
	for in.Scan() {
		line := in.Bytes()
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		switch {
		case e.Texts != nil:
			texts = e.Texts
		case e.Filter != nil:
			if _, err := filters.Parse(*e.Filter); err != nil {
				e.Error = err.Error()
			}
		case e.Pattern != nil:
			re, err := regexp.Compile(*e.Pattern)
			if err != nil {
				e.Error = err.Error()
				break
			}
			for _, t := range texts {
				if re.MatchString(t) {
					e.Matches = append(e.Matches, t)
				}
			}
		}
		if err := out.Encode(e); err != nil {
			os.Exit(1)
		}
	}
}
