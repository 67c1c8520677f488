// regexcmp: random patterns through Go's regexp, for comparing coldctr's translation of Go's
// syntax (src/cli/listings/goregex.rs) with the real thing.
//
// It writes what filtercases writes for {"pattern": P} lines (the fixture's format: a
// {"go": VERSION} line, a {"texts": [...]} line, then one line a pattern, with "error" or
// "matches"), for -n random patterns made of the tokens below, weighted towards the corners
// where the two have differed: flag groups, repetitions and their counts, groups, classes,
// escapes. The same -seed gives the same patterns.
//
// Seeds 1 (40,000 patterns), 2 and 3 (100,000 each) differ only where the crate's size limit
// refuses what Go compiles (`\pL{600}`: goregex.rs's doc).
//
//	GO111MODULE=off go run . -n 40000 -seed 1 > /tmp/cases.jsonl
//	GOREGEX_CASES=/tmp/cases.jsonl cargo test --lib goregex_cases_from_env -- --ignored
package main

import (
	"encoding/json"
	"flag"
	"math/rand"
	"os"
	"regexp"
	"runtime"
	"strings"
)

var atoms = []string{
	"a", "b", "y", "l", "A", "é", "É", "ſ", "K", ".", "^", "$", "\\b", "\\B", "\\A", "\\z",
	"\\d", "\\w", "\\s", "\\W", "\\pL", "\\p{Greek}", "\\PL", "[a-c]", "[^a]", "[[:alpha:]]",
	"[\\d-]", "\\x41", "\\x{e9}", "\\101", "\\Q.*\\E", "\\Q\\E", "\\.", "{", "}", "-", ",",
	"\\n", "[a-z&&b]", "]", "\\Qa",
}

var flagGroups = []string{
	"(?i)", "(?ii)", "(?i-i)", "(?-i)", "(?s)", "(?-s)", "(?m)", "(?U)", "(?-U)", "(?U-U)",
	"(?Ui)", "(?)", "(?imsU)", "(?i-)", "(?-)", "(?--i)", "(?x)", "(?ss-s)", "(?i-ii)",
}

var reps = []string{
	"*", "+", "?", "*?", "+?", "??", "{2}", "{0}", "{1}", "{0,}", "{1,}", "{2,}", "{0,1}",
	"{2,3}", "{3}?", "{10}", "{30}", "{100}", "{600}", "{1000}", "{1001}", "{0,0}", "{,2}",
	"{01}", "{2,1}", "{999999999}", "{", "{1", "{1,",
}

func gen(r *rand.Rand, depth int) string {
	var b strings.Builder
	n := 1 + r.Intn(4)
	for i := 0; i < n; i++ {
		switch k := r.Intn(10); {
		case k < 4:
			b.WriteString(atoms[r.Intn(len(atoms))])
		case k < 6:
			b.WriteString(flagGroups[r.Intn(len(flagGroups))])
		case k < 8:
			b.WriteString(reps[r.Intn(len(reps))])
		case k < 9 && depth < 4:
			open := []string{"(", "(?:", "(?i:", "(?P<n>", "(?-s:", "(?U:", "(?ii:"}[r.Intn(7)]
			b.WriteString(open + gen(r, depth+1) + ")")
		default:
			b.WriteString("|")
		}
	}
	return b.String()
}

type entry struct {
	Go      string   `json:"go,omitempty"`
	Texts   []string `json:"texts,omitempty"`
	Pattern *string  `json:"pattern,omitempty"`
	Error   string   `json:"error,omitempty"`
	Matches []string `json:"matches,omitempty"`
}

func main() {
	n := flag.Int("n", 1000, "patterns")
	seed := flag.Int64("seed", 1, "seed")
	flag.Parse()
	r := rand.New(rand.NewSource(*seed))
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	texts := []string{"", "a", "A", "aa", "aaa", "ab", "ba", "yy", "y", "legacy", "LEGACY", "é", "É",
		"ſ", "s", "S", "K", "k", "K", "\n", "a\nb", "{", "{}", "a{,2}", "a{01}", ".*", "x.*y", "1", "-",
		",", "α", "Ω", "[", "]", "&", "ab\n", "\nab", "AB", "aé", "é a", "docker.io/library/legacy:2.3"}
	for i := 0; i < 40; i++ {
		var b strings.Builder
		for j := r.Intn(8); j > 0; j-- {
			b.WriteString([]string{"a", "b", "y", "A", "é", "\n", "{", "1", ".", " ", "-", "l", "α", "K", "s"}[r.Intn(15)])
		}
		texts = append(texts, b.String())
	}
	if out.Encode(entry{Go: runtime.Version()}) != nil || out.Encode(entry{Texts: texts}) != nil {
		os.Exit(1)
	}
	for i := 0; i < *n; i++ {
		p := gen(r, 0)
		e := entry{Pattern: &p}
		re, err := regexp.Compile(p)
		if err != nil {
			e.Error = err.Error()
		} else {
			for _, t := range texts {
				if re.MatchString(t) {
					e.Matches = append(e.Matches, t)
				}
			}
		}
		if out.Encode(e) != nil {
			os.Exit(1)
		}
	}
}
